"""Absurdly nested values never crash the core (DESIGN.md §6: bad input gets a clear error, never a 500).

Follow-up from the fakes' authors: `SecretMasker.mask_value` recursed, so a payload nested ~500+ levels
deep made journalling raise RecursionError and the request answer 500. Every walk the core does over
client-supplied values (journal masking, configuration, fault rule bodies, snapshots) is bounded here.
"""

import json

import pytest
from stand_in_fake import AUTH_HEADERS as AUTH

from fakes.core import ConfigError, FakeConfig, FaultRuleError, FaultSet, SecretMasker, Setting
from fakes.core.config_sources import ConfigSourceError, config_from_env
from fakes.core.masking import DEFAULT_MAX_DEPTH, MASK
from fakes.core.nesting import MAX_CONTROL_DEPTH, deeper_than, elided_marker


def nested(levels: int, leaf="leaf", key="a"):
    value = leaf
    for i in range(levels):
        value = {key: value} if i % 2 else [value]
    return value


def depth_of(value) -> int:
    depth = 0
    while isinstance(value, (dict, list)):
        value = next(iter(value.values())) if isinstance(value, dict) else value[0]
        depth += 1
    return depth


def test_deeper_than_counts_container_levels_without_recursion():
    assert not deeper_than("x", 0) and not deeper_than([], 1) and deeper_than([], 0)
    assert not deeper_than({"a": [1]}, 2) and deeper_than({"a": [1]}, 1)
    assert deeper_than(nested(100_000), 99_999) and not deeper_than(nested(100_000), 100_000)
    assert deeper_than([1, 2, {"a": [[]]}], 3) and not deeper_than([1, 2, {"a": [[]]}], 4)


def test_mask_value_survives_any_nesting_depth():
    """The reported crash: mask_value on a value nested far deeper than the recursion limit."""
    m = SecretMasker(secret_values=lambda: ["leaf-secret"], secret_fields=("token",))
    masked = m.mask_value({"token": "t", "deep": nested(50_000, leaf="leaf-secret")})
    assert masked["token"] == MASK
    assert depth_of(masked["deep"]) == DEFAULT_MAX_DEPTH - 1  # 64 levels in all, then the marker string
    assert json.dumps(masked)  # the journal stays serialisable
    assert "leaf-secret" not in json.dumps(masked)


def test_mask_value_elides_below_the_cap_and_masks_above_it():
    m = SecretMasker(secret_values=lambda: ["s3cret-value"], secret_fields=("api_secret",))
    value = {"a": [{"api_secret": "x", "note": "has s3cret-value", "n": 1, "t": (1, "s3cret-value")}], "b": [[1]]}
    assert m.mask_value(value, max_depth=3) == {
        "a": [{"api_secret": MASK, "note": "has ***", "n": 1, "t": elided_marker(3)}], "b": [[1]]}
    assert m.mask_value(value)["a"][0]["t"] == [1, MASK]
    assert list(m.mask_value({"z": 1, "a": 2, "m": 3})) == ["z", "a", "m"]  # key order kept
    assert m.mask_value("plain s3cret-value") == "plain ***" and m.mask_value(7) == 7


def test_deep_payload_is_journalled_not_a_500(client):
    """A handler that annotates a 900-level payload: the request succeeds and the journal shows a marker."""
    body = '{"a":' * 900 + '"x"' + "}" * 900
    r = client.post("/ingest", data=body, headers={**AUTH, "Content-Type": "application/json"})
    assert r.status_code == 200, r.data
    journal = client.get("/_harness/requests")
    assert journal.status_code == 200
    entry = journal.get_json()["requests"][-1]
    assert entry["status"] == 200 and entry.get("error") is None
    assert depth_of(entry["payload"]) == DEFAULT_MAX_DEPTH
    assert json.dumps(entry, ensure_ascii=False).count(elided_marker(DEFAULT_MAX_DEPTH)) == 1


def test_journal_max_depth_is_configurable(client):
    """[HD] journal.max_depth (default 64): how deep annotated payloads are shown."""
    assert client.get("/_harness/config").get_json()["config"]["journal.max_depth"] == DEFAULT_MAX_DEPTH
    assert client.put("/_harness/config", json={"journal.max_depth": 2}).status_code == 200
    client.post("/ingest", json={"a": {"b": {"c": 1}}, "n": 1}, headers=AUTH)  # payload: 3 levels
    entry = client.get("/_harness/requests").get_json()["requests"][-1]
    assert entry["payload"] == {"a": {"b": elided_marker(2)}, "n": 1}
    assert client.put("/_harness/config", json={"journal.max_depth": 0}).status_code == 400
    assert client.put("/_harness/config", json={"journal.max_depth": 100_000}).status_code == 400


def test_deep_configuration_value_is_a_clear_error():
    config = FakeConfig([Setting("opts", {}, dict), Setting("names", [], list)])
    with pytest.raises(ConfigError, match=r"opts: nested too deeply \(at most 64 levels\)"):
        config.update({"opts": nested(900)})
    with pytest.raises(ConfigError, match="names: nested too deeply"):
        config.update({"names": [nested(MAX_CONTROL_DEPTH)]})
    config.update({"names": [nested(MAX_CONTROL_DEPTH - 1)]})  # the limit itself is fine
    assert config["opts"] == {}


def test_deep_configuration_over_the_control_api_is_400(client):
    r = client.put("/_harness/config", data=json.dumps({"auth.token": nested(800)}))
    assert r.status_code == 400 and "nested too deeply" in r.get_json()["error"]


def test_deep_environment_value_is_a_clear_error():
    env = {"HARNESS_MIXPANEL__X": "[" * 100_000 + "]" * 100_000}
    with pytest.raises(ConfigSourceError, match="HARNESS_MIXPANEL__X: the value is nested too deeply"):
        config_from_env("mixpanel", env)


def test_deep_fault_body_is_rejected_at_install():
    """A status fault's JSON body is serialised when it fires: absurd nesting is refused up front."""
    faults = FaultSet()
    with pytest.raises(FaultRuleError, match=r"action.body: nested too deeply \(at most 64 levels\)"):
        faults.install({"action": {"type": "status", "status": 500, "body": nested(MAX_CONTROL_DEPTH + 1)}})
    faults.install({"action": {"type": "status", "status": 500, "body": nested(MAX_CONTROL_DEPTH)}})


def test_deep_fault_body_over_the_control_api_is_400(client):
    body = {"action": {"type": "status", "status": 503, "body": nested(700)}}
    r = client.post("/_harness/faults", data=json.dumps(body))
    assert r.status_code == 400 and "nested too deeply" in r.get_json()["error"]


def test_snapshot_of_deep_data_is_a_value_error(state):
    """`harness serve --state-dir` reports ValueError as 'state not saved', never a traceback."""
    state.items.append(nested(5000))
    with pytest.raises(ValueError, match="standin: the data is nested too deeply to save"):
        state.snapshot()
