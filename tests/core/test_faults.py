"""Fault rules, the model (mixpanel-ingestion.md §13 fields and actions; braze-cohort-sync.md §4.12)."""

import pytest

from fakes.core.faults import FaultRuleError, FaultSet


def fs(**kw):
    return FaultSet(match_fields=("project_id", "region"), stages=("default", "before_auth"), **kw)


def fire_pattern(faults, n, attrs=None):
    attrs = attrs or {"path": "/import", "method": "POST"}
    return [faults.check(attrs) is not None for _ in range(n)]


def test_spec_example_rule_is_accepted():
    """mixpanel-ingestion.md §13: the example rule as written."""
    faults = fs()
    [rule] = faults.install({
        "id": "f1",
        "match": {"path": "/import", "method": "POST", "project_id": 1, "region": "eu", "user_agent": "python-requests*"},
        "times": 3, "nth": [1, 2], "every": None, "probability": None, "ingest": False,
        "action": {"type": "status", "status": 503, "body": "upstream connect error or disconnect/reset before headers",
                   "content_type": "text/plain", "headers": {}, "delay_ms": 0},
    })
    attrs = {"path": "/import", "method": "POST", "project_id": 1, "region": "eu", "user_agent": "python-requests/2.32"}
    assert fire_pattern(faults, 4, attrs) == [True, True, False, False]
    assert faults.check({**attrs, "region": "us"}) is None
    assert faults.rules()[0]["matched"] == 4 and faults.rules()[0]["fired"] == 2


def test_times_caps_fires():
    faults = fs()
    faults.install({"times": 2, "action": {"type": "status", "status": 500}})
    assert fire_pattern(faults, 4) == [True, True, False, False]


def test_every_fires_on_multiples():
    faults = fs()
    faults.install({"every": 3, "action": {"type": "status", "status": 500}})
    assert fire_pattern(faults, 7) == [False, False, True, False, False, True, False]


def test_probability_is_deterministic_for_a_seed():
    """§13: probability uses the run seed."""
    def run(seed):
        faults = fs(seed=seed)
        faults.install({"id": "p", "probability": 0.5, "action": {"type": "status", "status": 503}})
        return fire_pattern(faults, 40)

    assert run(7) == run(7)
    assert run(7) != run(8)
    assert 5 < sum(run(7)) < 35


def test_reseed_restarts_sequence():
    faults = fs(seed=1)
    faults.install({"id": "p", "probability": 0.5, "action": {"type": "status", "status": 503}})
    first = fire_pattern(faults, 20)
    faults.reseed(1)
    assert fire_pattern(faults, 20) == first


def test_globs_lists_and_method_case():
    faults = fs()
    faults.install({"match": {"path": ["/track*", "/engage"], "method": "post"}, "action": {"type": "status", "status": 502}})
    assert faults.check({"path": "/track/", "method": "POST"}) is not None
    assert faults.check({"path": "/engage", "method": "POST"}) is not None
    assert faults.check({"path": "/import", "method": "POST"}) is None
    assert faults.check({"path": "/track", "method": "GET"}) is None


def test_missing_attribute_never_matches():
    faults = fs()
    faults.install({"match": {"project_id": "*"}, "action": {"type": "status", "status": 500}})
    assert faults.check({"path": "/x", "method": "GET"}) is None
    assert faults.check({"path": "/x", "method": "GET", "project_id": 2}) is not None


def test_stages_are_separate():
    faults = fs()
    faults.install({"stage": "before_auth", "action": {"type": "status", "status": 500}})
    assert faults.check({"path": "/", "method": "GET"}) is None
    assert faults.check({"path": "/", "method": "GET"}, stage="before_auth") is not None


def test_simulated_time_window():
    """braze-cohort-sync.md §4.12: rules may match a simulated time window."""
    faults = fs()
    faults.install({"active_from": 100, "active_until": 200, "action": {"type": "status", "status": 500}})
    attrs = {"path": "/", "method": "GET"}
    assert faults.check(attrs, now=99) is None
    assert faults.check(attrs, now=100) is not None
    assert faults.check(attrs, now=200) is None


def test_first_firing_rule_wins_and_later_rules_still_count():
    faults = fs()
    faults.install([
        {"id": "a", "nth": 2, "action": {"type": "status", "status": 500}},
        {"id": "b", "action": {"type": "status", "status": 503}},
    ])
    attrs = {"path": "/", "method": "GET"}
    assert [faults.check(attrs).rule_id for _ in range(3)] == ["b", "a", "b"]
    assert {r["id"]: r["matched"] for r in faults.rules()} == {"a": 3, "b": 3}


def test_auto_ids_and_duplicates_and_remove():
    faults = fs()
    rules = faults.install([{"action": {"type": "latency", "delay_ms": 1}}, {"action": {"type": "latency", "delay_ms": 1}}])
    assert [r.id for r in rules] == ["f1", "f2"]
    with pytest.raises(FaultRuleError, match="already installed"):
        faults.install({"id": "f1", "action": {"type": "latency", "delay_ms": 1}})
    assert faults.remove("f1") and not faults.remove("f1")
    assert faults.clear() == 1


def test_hang_is_capped():
    faults = fs(max_hang_ms=500)
    [rule] = faults.install({"action": {"type": "hang", "max_hang_ms": 10_000}})
    assert rule.action.max_hang_ms == 500
    [default] = faults.install({"action": {"type": "hang"}})
    assert default.action.max_hang_ms == 500


@pytest.mark.parametrize(
    "rule, message",
    [
        ("x", "must be a JSON object or an array"),
        ([], "empty array"),
        ({}, "fault.action: required"),
        ({"action": {"type": "explode"}}, "fault.action.type: must be one of"),
        ({"action": {"type": "status"}}, "fault.action.status: required"),
        ({"action": {"type": "status", "status": 700}}, "between 100 and 599"),
        ({"action": {"type": "status", "status": "500"}}, "between 100 and 599"),
        ({"action": {"type": "latency"}}, "delay_ms: required"),
        ({"action": {"type": "latency", "delay_ms": -1}}, "delay_ms: must be an integer between 0"),
        ({"action": {"type": "latency", "delay_ms": 10**9}}, "delay_ms: must be an integer between 0"),
        ({"action": {"type": "rate_limit", "status": 500}}, "not valid for rate_limit"),
        ({"action": {"type": "drop_before_response", "mode": "boom"}}, 'mode: must be "fin" or "rst"'),
        ({"action": {"type": "slow_body"}}, "bytes_per_s: required"),
        ({"action": {"type": "status", "status": 500, "headers": {"X": "a\r\nb"}}}, "headers"),
        ({"times": 0, "action": {"type": "status", "status": 500}}, "fault.times: must be an integer >= 1"),
        ({"nth": [0], "action": {"type": "status", "status": 500}}, "fault.nth"),
        ({"probability": 1.5, "action": {"type": "status", "status": 500}}, "fault.probability"),
        ({"ingest": "yes", "action": {"type": "status", "status": 500}}, "fault.ingest"),
        ({"stage": "later", "action": {"type": "status", "status": 500}}, "fault.stage: must be one of default, before_auth"),
        ({"match": {"colour": "red"}, "action": {"type": "status", "status": 500}}, "unknown field 'colour'"),
        ({"match": {"path": {}}, "action": {"type": "status", "status": 500}}, "fault.match.path"),
        ({"bogus": 1, "action": {"type": "status", "status": 500}}, "unknown field"),
        ({"id": "", "action": {"type": "status", "status": 500}}, "fault.id"),
        ({"active_from": 5, "active_until": 5, "action": {"type": "status", "status": 500}}, "after active_from"),
        ({"ingest": True, "action": {"type": "hang"}}, "not available with a hang"),
    ],
)
def test_invalid_rules_are_refused_with_a_clear_message(rule, message):
    faults = fs()
    with pytest.raises(FaultRuleError, match=message.replace("(", r"\(")):
        faults.install(rule)
    assert faults.rules() == []


def test_one_bad_rule_in_a_list_installs_none():
    faults = fs()
    with pytest.raises(FaultRuleError, match=r"faults\[1\]"):
        faults.install([{"action": {"type": "status", "status": 500}}, {"action": {}}])
    assert faults.rules() == []
