"""braze-cohort-sync.md §4.11 rate limit, §4.12 lock and faults, §4.4 order, §4.4 step 8 journal."""

from __future__ import annotations

import threading

import pytest


def msg(response):
    return response.status_code, response.get_json()["message"]


def test_rate_limit_sliding_hour(braze):
    """§4.11: sliding window of 3,600 simulated seconds; over the limit 429 Rate Limited."""
    braze.state.update_config({"braze.rate_limit.per_hour": 3})
    for _ in range(3):
        assert braze.change("1", []).status_code == 201
        braze.clock.advance(1000)
    limited = braze.change("1", [])
    assert msg(limited) == (429, "Rate Limited")
    # on_429 headers, as Braze's other REST APIs
    assert limited.headers["X-RateLimit-Limit"] == "3"
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert int(limited.headers["X-RateLimit-Reset"]) == int(braze.clock.now() - 3000 + 3600)
    braze.clock.advance(600)  # the first request leaves the window
    assert braze.change("1", []).status_code == 201
    assert msg(braze.change("1", [])) == (429, "Rate Limited")


def test_rate_limit_counts_authenticated_requests_including_400s_not_429s_or_401s(braze):
    """§4.4 step 3: 400s count; 401s (not authenticated) and 429s do not."""
    braze.state.update_config({"braze.rate_limit.per_hour": 2})
    assert braze.change("1", [], creds={"partner_api_key": "nope"}).status_code == 401
    assert braze.change(5, []).status_code == 400
    assert braze.change("1", []).status_code == 201
    for _ in range(3):
        assert braze.change("1", []).status_code == 429
    braze.clock.advance(3600)
    assert braze.change("1", []).status_code == 201


def test_rate_limit_before_validation(braze):
    """§4.4: rate limit (3) before body validation (6)."""
    braze.state.update_config({"braze.rate_limit.per_hour": 0})
    assert msg(braze.change(5, "bad")) == (429, "Rate Limited")


@pytest.mark.parametrize("scope, shared", [("partner_key", True), ("workspace", False), ("global", True)])
def test_rate_limit_scope(braze, model, scope, shared):
    """§3 braze.rate_limit.scope: partner_key, workspace or global."""
    braze.state.update_config({"braze.rate_limit.per_hour": 1, "braze.rate_limit.scope": scope})
    model.create_workspace("w2", "US-01")
    other = model.generate_key("w2")
    assert braze.change("1", []).status_code == 201
    second = braze.change("1", [], creds={"partner_api_key": "harness-partner-key", "client_secret": other})
    assert (second.status_code == 429) is shared


def test_rate_limit_headers_modes(braze):
    """§3 braze.rate_limit.headers: never / on_429 / always."""
    braze.state.update_config({"braze.rate_limit.headers": "always", "braze.rate_limit.per_hour": 10})
    response = braze.change("1", [])
    assert response.headers["X-RateLimit-Remaining"] == "9"
    braze.state.update_config({"braze.rate_limit.headers": "never", "braze.rate_limit.per_hour": 1})
    assert "X-RateLimit-Limit" not in braze.change("1", []).headers


def test_lock_423_when_cohort_write_in_flight(braze, model):
    """§4.12 / EC-36: a write on a cohort another request is applying → 423 Resource locked (both endpoints)."""
    with model.cohort_locks.hold(("default", "mixpanel", "1")):
        assert msg(braze.change("1", [])) == (423, "Resource locked")
        assert msg(braze.declare("1", "A")) == (423, "Resource locked")
        assert braze.change("2", []).status_code == 201  # other cohorts unaffected
    assert braze.change("1", []).status_code == 201
    braze.state.update_config({"braze.lock.detect_concurrent": False})
    with model.cohort_locks.hold(("default", "mixpanel", "1")):
        assert braze.change("1", []).status_code == 201


def test_lock_after_auth_and_rate_limit(braze, model):
    """§4.4: auth (2) and rate limit (3) come before the lock (4)."""
    with model.cohort_locks.hold(("default", "mixpanel", "1")):
        assert braze.change("1", [], creds={"partner_api_key": "x"}).status_code == 401


def test_overlapping_requests_with_delay_fault_get_423(braze, state):
    """§4.12 / EC-36: a delayed write holds the cohort; an overlapping write gets 423."""
    state.faults.install({"id": "slow", "match": {"endpoint": "cohorts/users"}, "times": 1,
                          "ingest": True, "action": {"type": "latency", "delay_ms": 400}})
    results = {}
    first = threading.Thread(target=lambda: results.setdefault("first", braze.change("1", []).status_code))
    first.start()
    import time
    deadline = time.time() + 2
    while not braze.model.cohort_locks.busy() and time.time() < deadline:
        time.sleep(0.005)
    results["second"] = msg(braze.change("1", []))
    first.join()
    assert results == {"first": 201, "second": (423, "Resource locked")}


def test_fault_rule_step5_matches_on_cohort_fields(braze, state):
    """§4.12: fault rules match endpoint/partner/workspace/cohort_id; fire after auth (step 5)."""
    state.faults.install({"id": "burst", "match": {"cohort_id": "7", "workspace": "default"}, "times": 2,
                          "action": {"type": "status", "status": 503, "body": {"message": "Service Unavailable"}}})
    assert braze.change("1", []).status_code == 201
    assert braze.change("7", [], creds={"partner_api_key": "bad"}).status_code == 401  # auth first
    assert braze.change("7", []).status_code == 503
    assert braze.change("7", []).status_code == 503
    assert braze.change("7", []).status_code == 201
    assert braze.last_journal()["fault"] is None


def test_fault_rule_before_auth_stage(braze, state):
    """§4.4 step 5 note: rules may be set to fire before step 2."""
    state.faults.install({"id": "early", "stage": "before_auth", "times": 1,
                          "action": {"type": "status", "status": 500, "body": {"message": "boom"}}})
    assert braze.change("1", [], creds={"partner_api_key": "bad"}).status_code == 500


def test_fault_202_queued_and_forced_423_and_429(braze, state):
    """§4.10/§4.12: 202 queued, 423 and 429 only through fault rules when the engine is sequential."""
    state.faults.install([
        {"id": "q", "times": 1, "action": {"type": "status", "status": 202, "body": {"message": "queued"}}},
        {"id": "l", "times": 1, "nth": [2], "action": {"type": "status", "status": 423, "body": {"message": "Resource locked"}}},
    ])
    assert (braze.change("1", []).status_code, braze.change("1", []).status_code) == (202, 423)
    state.faults.clear()
    state.faults.install({"id": "rl", "times": 1, "action": {"type": "rate_limit"}})
    assert msg(braze.change("1", [])) == (429, "Rate Limited")


def test_journal_entry_fields_and_masking(braze, model):
    """§4.4 step 8: cluster, partner, workspace, endpoint, raw body, status, response, counters; secrets masked."""
    braze.seed("u1")
    braze.declare("1", "A")
    braze.add("1", "u1", "ghost")
    entry = braze.last_journal()
    assert (entry["cluster"], entry["partner"], entry["workspace"], entry["endpoint"], entry["cohort_id"]) == (
        "US-01", "mixpanel", "default", "cohorts/users", "1")
    assert entry["status"] == 201 and entry["response_body"] == '{"message":"success"}'
    assert entry["counters"]["applied_add"] == 1 and entry["counters"]["ignored_unknown"] == 1
    assert "ghost" in entry["body"]
    assert "harness-partner-key" not in entry["body"] and "harness-data-import-key" not in entry["body"]
    # A5 echoes the secret in the answer: the journal masks it
    amp = model.generate_key(None, "amplitude")
    braze.change("1", [], creds={"partner_api_key": "harness-partner-key", "client_secret": amp})
    entry = braze.last_journal()
    assert entry["status"] == 401 and amp not in entry["response_body"] and amp not in str(entry)


def test_rate_limited_journal_names_the_catalogue_error(braze):
    braze.state.update_config({"braze.rate_limit.per_hour": 0})
    braze.change("1", [])
    assert braze.last_journal()["error"] == "RateLimited"
