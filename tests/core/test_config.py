"""Dotted-key configuration (mixpanel-ingestion.md §1 config keys; GET|PUT /_harness/config, §14)."""

import pytest

from fakes.core.config import ConfigError, FakeConfig, Setting

SETTINGS = [
    Setting("import.max_body_bytes", 10485760, int, minimum=1),
    Setting("import.ratio", 0.5, float),
    Setting("auth.error_detail", "documented", str, choices=("documented", "observed")),
    Setting("ratelimit.retry_after_s", None, (int, float, type(None))),
    Setting("regions.ports", {}, dict),
    Setting("flags.on", False, bool),
    Setting("names", ["a"], list, validator=lambda v: [str(x) for x in v]),
]


def test_defaults_and_dotted_and_nested_updates():
    config = FakeConfig(SETTINGS)
    assert config["import.max_body_bytes"] == 10485760
    changed = config.update({"import": {"max_body_bytes": 5}, "auth.error_detail": "observed"})
    assert changed == ["auth.error_detail", "import.max_body_bytes"]
    assert config["import.max_body_bytes"] == 5
    config.update({"regions.ports": {"8081": "us"}})  # an object-typed leaf is a value, not a prefix
    assert config["regions.ports"] == {"8081": "us"}
    assert config.as_dict()["import.ratio"] == 0.5


@pytest.mark.parametrize(
    "update, message",
    [
        ({"import.nope": 1}, "unknown configuration key: import.nope"),
        ({"nope": 1}, "unknown configuration key: nope"),
        ({"import.max_body_bytes": "5"}, "import.max_body_bytes: expected integer, got string"),
        ({"import.max_body_bytes": True}, "expected integer, got boolean"),
        ({"import.max_body_bytes": 0}, "must be >= 1"),
        ({"import.max_body_bytes": None}, "null is not allowed"),
        ({"auth.error_detail": "x"}, 'must be one of "documented", "observed"'),
        ({"flags.on": 1}, "expected boolean, got integer"),
        ({"import.ratio": float("nan")}, "finite"),
        ({"import": 5}, "unknown configuration key: import"),
    ],
)
def test_unknown_keys_and_wrong_types_are_errors(update, message):
    config = FakeConfig(SETTINGS)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        config.update(update)


def test_update_is_all_or_nothing():
    config = FakeConfig(SETTINGS)
    with pytest.raises(ConfigError):
        config.update({"import.max_body_bytes": 7, "flags.on": "yes"})
    assert config["import.max_body_bytes"] == 10485760


def test_nullable_float_accepts_int_and_null_and_validator_normalises():
    config = FakeConfig(SETTINGS, {"ratelimit.retry_after_s": 3, "names": [1, 2], "import.ratio": 1})
    assert config["ratelimit.retry_after_s"] == 3
    assert config["names"] == ["1", "2"]
    assert config["import.ratio"] == 1.0 and isinstance(config["import.ratio"], float)
    config.update({"ratelimit.retry_after_s": None})
    assert config["ratelimit.retry_after_s"] is None


def test_values_are_copies():
    config = FakeConfig(SETTINGS)
    config["regions.ports"]["x"] = "y"
    assert config["regions.ports"] == {}


def test_describe_lists_every_key():
    keys = [item["key"] for item in FakeConfig(SETTINGS).describe()]
    assert keys == sorted(s.key for s in SETTINGS)
