"""braze-cohort-sync.md §3 switches not covered elsewhere, §5 in-flight invalidation, §6 identify at t."""

from __future__ import annotations

import threading
import time

CREDS = {"partner_api_key": "harness-partner-key", "client_secret": "harness-data-import-key"}


def test_success_status_and_body_configurable(braze):
    """§3 braze.success_status / braze.success_body (Q-03 is UNK)."""
    braze.state.update_config({"braze.success_status": 202, "braze.success_body": {"message": "queued"}})
    response = braze.change("1", [])
    assert (response.status_code, response.get_json()) == (202, {"message": "queued"})


def test_cluster_header_name_and_default_cluster_configurable(braze, model):
    """§3 braze.cluster_header and braze.default_cluster."""
    model.create_workspace("jp", "JP-01")
    creds = {**CREDS, "client_secret": model.generate_key("jp")}
    braze.state.update_config({"braze.cluster_header": "X-Cluster"})
    assert braze.change("1", [], creds=creds, headers={"X-Cluster": "JP-01"}).status_code == 201
    assert braze.change("1", [], creds=creds, headers={"X-Harness-Braze-Cluster": "JP-01"}).status_code == 401
    braze.state.update_config({"braze.default_cluster": "JP-01"})
    assert braze.change("1", [], creds=creds).status_code == 201
    assert braze.last_journal()["cluster"] == "JP-01"


def test_invalidation_does_not_abort_a_request_in_flight(braze, model, state):
    """§5: invalidation takes effect for requests received after it; a request already being applied completes."""
    braze.seed("u1")
    state.faults.install({"id": "slow", "times": 1, "ingest": True, "action": {"type": "latency", "delay_ms": 300}})
    result = {}
    worker = threading.Thread(target=lambda: result.setdefault("status", braze.add("1", "u1").status_code))
    worker.start()
    deadline = time.time() + 2
    while not model.cohort_locks.busy() and time.time() < deadline:
        time.sleep(0.005)
    model.invalidate_key("harness-data-import-key")
    worker.join()
    assert result["status"] == 201 and braze.member_ids("1") == {"u1"}
    assert braze.add("1", "u1").get_json() == {"message": "Invalid client secret"}


def test_identify_at_a_future_time_devices_match_until_then(braze, model):
    """§6: from t on the device ids of an identified profile no longer match."""
    model.users().add_anonymous(devices=["d9"])
    braze.declare("1", "A")
    model.users().identify("u9", device="d9", at=braze.clock.now() + 100)
    braze.change("1", [{"device_ids": ["d9"]}])
    assert braze.last_journal()["counters"]["applied_add"] == 1
    braze.clock.advance(100)
    braze.change("1", [{"device_ids": ["d9"], "should_remove": True}])
    assert braze.last_journal()["counters"]["ignored_identified_device"] == 1


def test_cohort_membership_is_not_a_custom_attribute(braze, model):
    """§7: membership is not a custom attribute; an attribute filter never sees cohorts."""
    braze.seed("u1")
    braze.declare("1", "A")
    braze.add("1", "u1")
    assert model.evaluate_segment({"attribute": {"name": "mixpanel_cohorts", "equals": "1"}})["count"] == 0
    assert model.users().by_external_id("u1").attributes == {}
