"""Config file and environment sources (mixpanel-ingestion.md §1: keys set in the config file or by environment)."""

import pytest

from fakes.core.config_sources import ConfigSourceError, config_from_env, load_config_file


def test_env_variables_map_to_dotted_keys_with_json_values():
    env = {"HARNESS_MIXPANEL__IMPORT__MAX_BODY_BYTES": "5", "HARNESS_MIXPANEL__AUTH__ERROR_DETAIL": "observed",
           "HARNESS_MIXPANEL__REGIONS__PORTS": '{"8081": "us"}', "HARNESS_BRAZE__X": "1", "HARNESS_MIXPANEL__": "x"}
    assert config_from_env("mixpanel", env) == {
        "import.max_body_bytes": 5, "auth.error_detail": "observed", "regions.ports": {"8081": "us"}
    }


def test_yaml_and_json_files(tmp_path):
    (tmp_path / "c.yaml").write_text("mixpanel:\n  import.max_body_bytes: 5\nbraze:\n")
    assert load_config_file(tmp_path / "c.yaml") == {"mixpanel": {"import.max_body_bytes": 5}, "braze": {}}
    (tmp_path / "c.json").write_text('{"braze": {"braze.partner_slug": "mp"}}')
    assert load_config_file(tmp_path / "c.json") == {"braze": {"braze.partner_slug": "mp"}}
    (tmp_path / "empty.yaml").write_text("")
    assert load_config_file(tmp_path / "empty.yaml") == {}


@pytest.mark.parametrize("name, content, message", [
    ("bad.json", "{", "is not valid JSON"),
    ("bad.yaml", "a: [", "is not valid YAML"),
    ("list.yaml", "- 1\n", "expected one mapping per fake"),
])
def test_bad_files(tmp_path, name, content, message):
    (tmp_path / name).write_text(content)
    with pytest.raises(ConfigSourceError, match=message):
        load_config_file(tmp_path / name)
    with pytest.raises(ConfigSourceError, match="cannot read config file"):
        load_config_file(tmp_path / "missing.yaml")
