"""One run of the sync engine (braze-cohort-sync.md §8.2, §8.5–§8.7, §8.10) against fake Braze in-process:
identifier rules, full then diff runs, batching, `/cohorts` declaration, retries and pauses, snapshots."""

from __future__ import annotations

import json

import pytest
from sync_kit import COHORT, T0, TICK, fail, ids


def test_first_run_full_later_runs_diff_against_the_last_successful_snapshot(world):
    """§8.5 step 4: no snapshot → adds = E; snapshot S → adds = E − S, removes = S − E."""
    world.seed("u1", "u2", "u3")
    world.cohort({"d1": "u1", "d2": "u2"})
    sync = world.sync()
    world.leave(["d1"])
    world.join({"d3": "u3"})
    world.clock.advance(TICK)
    first, second = sync.runs
    assert (first.kind, first.counts["adds"], first.counts["removes"]) == ("full", 2, 0)
    assert (second.kind, second.counts["adds"], second.counts["removes"]) == ("diff", 1, 1)
    assert world.sent_changes() == [(False, ["u1", "u2"]), (False, ["u3"]), (True, ["u1"])]
    assert sync.snapshot is not None and sync.snapshot_at == T0 + TICK


def test_batches_hold_at_most_batch_size_ids_one_change_object_sorted_adds_first(world):
    """§8.5 step 5: ≤ 1,000 ids per request, one `cohort_changes` object, ids sorted, adds first."""
    members = ids("u", 2500)
    world.seed(*members)
    world.cohort({f"d{i}": m for i, m in enumerate(reversed(members))})
    world.sync()
    world.leave([f"d{i}" for i in range(1200)])  # removes 1,200 ids
    world.join({f"n{i}": m for i, m in enumerate(ids("v", 5))})
    world.clock.advance(TICK)
    changes = world.sent_changes()
    assert [(rm, len(batch)) for rm, batch in changes] == [
        (False, 1000), (False, 1000), (False, 500), (False, 5), (True, 1000), (True, 200)]
    for _, batch in changes:
        assert batch == sorted(batch)
    bodies = [json.loads(e["body"]) for e in world.partner_requests("cohorts/users")]
    assert all(len(b["cohort_changes"]) == 1 for b in bodies)
    assert world.members() == set(members[:1300]) | set()  # ids u00000..u01299 stayed (reversed mapping)


def test_batch_order_removes_first(make_world):
    """§3 `mixpanel.batch_order = removes_first`."""
    world = make_world(batch_order="removes_first")
    world.seed("u1", "u2")
    world.cohort({"d1": "u1"})
    world.sync()
    world.leave(["d1"])
    world.join({"d2": "u2"})
    world.clock.advance(TICK)
    assert world.sent_changes()[1:] == [(True, ["u1"]), (False, ["u2"])]


def test_cohorts_is_called_on_first_export_only_with_the_sync_creation_time(world):
    """§8.5 step 3: `/cohorts` when none succeeded yet; cohort_id from the template, created_at = sync
    creation (UTC, Z, seconds)."""
    world.seed("u1", "u2")
    world.cohort({"d1": "u1"})
    world.clock.advance(0.75)
    world.sync()
    world.join({"d2": "u2"})
    world.clock.advance(3 * TICK)
    declares = [json.loads(e["body"]) for e in world.partner_requests("cohorts")]
    assert [(d["cohort_id"], d["name"], d["created_at"]) for d in declares] == [
        (str(COHORT), "Clicked email", "2023-11-14T22:13:20Z")]


def test_declare_every_run_and_the_cohort_id_template(make_world):
    """§3 `mixpanel.declare_every_run`, `mixpanel.cohort_id_template`."""
    world = make_world(declare_every_run=True, cohort_id_template="mp-{cohort_id}")
    world.seed("u1")
    world.cohort({"d1": "u1"})
    world.sync()
    world.clock.advance(2 * TICK)
    assert len(world.partner_requests("cohorts")) == 3
    assert world.members("mp-7") == {"u1"}


def test_a_run_without_changes_sends_nothing_unless_send_empty_runs(make_world, world):
    """§8.5 step 6: no request; with `mixpanel.send_empty_runs` one `cohort_changes: []`; the run succeeds."""
    world.seed("u1")
    world.cohort({"d1": "u1"})
    sync = world.sync()
    world.clock.advance(TICK)
    assert sync.last_run.outcome == "success" and sync.last_run.requests == []
    assert sync.snapshot_at == T0 + TICK
    chatty = make_world(send_empty_runs=True)
    chatty.cohorts = world.cohorts
    chatty.engine.cohorts = world.cohorts
    other = chatty.engine.create_sync(COHORT, chatty.connect().connection_id)
    world.clock.advance(TICK)
    assert [json.loads(e["body"])["cohort_changes"] for e in world.partner_requests("cohorts/users")][-1] == []
    assert other.last_run.requests[-1].ids == 0


def test_identifier_rules_null_missing_empty_not_eligible_str_value_duplicates_collapse(world):
    """§8.2: null / missing / "" are not eligible; export id = str(value); duplicates collapse to one id."""
    world.seed("42", "u1")
    world.cohort({"a": 42, "b": "u1", "c": "u1", "d": None, "e": ""})
    world.cohorts.set_properties("f", {"$braze_external_id": "x"}, at=T0)
    world.cohorts.set_properties("f", {"$braze_external_id": None}, at=T0)  # set, then unset
    world.cohorts.enter(COHORT, ["f"], at=T0)
    sync = world.sync()
    assert world.sent_changes() == [(False, ["42", "u1"])]
    rows = {r.distinct_id: (r.export_id, r.operation) for r in sync.last_run.rows}
    assert rows == {"a": ("42", "add"), "b": ("u1", "add"), "c": ("u1", "no-op"), "d": (None, "not_eligible"),
                    "e": (None, "not_eligible"), "f": (None, "not_eligible")}
    assert sync.last_run.counts == {"eligible": 3, "not_eligible": 3, "adds": 2, "removes": 0, "no_ops": 1}


def test_diff_key_distinct_id_sends_nothing_when_a_members_id_changes(make_world):
    """§8.2: `mixpanel.diff_key = distinct_id` diffs by profile."""
    world = make_world(diff_key="distinct_id")
    world.seed("old", "new")
    world.cohort({"d1": "old"})
    sync = world.sync()
    world.cohorts.set_properties("d1", {"$braze_external_id": "new"}, at=world.clock.now() + 60)
    world.clock.advance(TICK)
    assert sync.last_run.requests == [] and world.members() == {"old"}


def test_run_record_lists_every_request_with_batch_attempt_status_message_and_wait(world):
    """§8.10: run_id, sync_id, kind, times, counts, requests (endpoint, batch, attempt, status, message, wait)."""
    world.seed("u1")
    world.cohort({"d1": "u1"})
    world.faults(fail(503, nth=[1], message="Service Unavailable"))
    sync = world.sync()
    world.clock.advance(10)
    record = sync.last_run.to_json()
    assert record["run_id"] == f"{sync.sync_id}-r1" and record["outcome"] == "success"
    assert [(r["endpoint"], r["batch"], r["attempt"], r["status"], r["message"], r["wait_s"])
            for r in record["requests"]] == [
        ("cohorts", None, 1, 201, "success", 0), ("cohorts/users", 0, 1, 503, "Service Unavailable", 0),
        ("cohorts/users", 0, 2, 201, "success", 2)]
    assert record["started_at"] == T0 and record["finished_at"] == T0 + 2
    assert record["rows"] == [{"distinct_id": "d1", "export_id": "u1", "operation": "add"}]


def test_retries_follow_the_delays_then_the_run_fails_transient_and_waits_for_the_next_due_time(world):
    """§8.6: 5 retries after 2, 4, 8, 16, 30 s; then `failed_transient`, sync active, next due time."""
    world.seed("u1")
    world.cohort({"d1": "u1"})
    world.faults(fail(500, times=6))
    sync = world.sync()
    world.clock.advance(120)
    run = sync.last_run
    changes = [r for r in run.requests if r.endpoint == "cohorts/users"]
    assert [r.sent_at - T0 for r in changes] == [0, 2, 6, 14, 30, 60]
    assert [r.wait_s for r in changes] == [0, 2, 4, 8, 16, 30]
    assert (run.outcome, sync.state) == ("failed_transient", "active")
    world.clock.set(T0 + TICK)
    assert sync.last_run.outcome == "success" and world.members() == {"u1"}


@pytest.mark.parametrize("status", [429, 500, 502, 503, 423])
def test_transient_statuses_are_retried(world, status):
    """§8.6 / §3 `mixpanel.retry.transient_statuses`: 429, 5xx, 423."""
    world.seed("u1")
    world.cohort({"d1": "u1"})
    world.faults(fail(status, times=2))
    sync = world.sync()
    world.clock.advance(10)
    assert sync.last_run.outcome == "success" and sync.state == "active"
    assert [r.status for r in sync.last_run.requests if r.endpoint == "cohorts/users"] == [status, status, 201]


def test_network_errors_are_retried(world):
    """§8.6: a dropped connection is transient like a 5xx."""
    world.seed("u1")
    world.cohort({"d1": "u1"})
    world.faults({"match": {"endpoint": "cohorts/users"}, "times": 1, "action": {"type": "drop_before_response"}})
    sync = world.sync()
    world.clock.advance(10)
    first, second = [r for r in sync.last_run.requests if r.endpoint == "cohorts/users"]
    assert first.status is None and "ConnectionError" in first.message
    assert second.status == 201 and sync.last_run.outcome == "success"


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 302])
def test_other_statuses_pause_with_the_braze_message_and_no_retry(world, status):
    """§8.6: 400/401/403/404, other 4xx and 3xx: no retry; paused with the body's message; notified."""
    world.seed("u1")
    world.cohort({"d1": "u1"})
    world.faults(fail(status, message=f"nope {status}"))
    sync = world.sync()
    world.clock.advance(3 * TICK)
    assert (sync.state, sync.pause_reason) == ("paused", f"nope {status}")
    assert len(sync.runs) == 1 and len(sync.last_run.requests) == 2
    (note,) = world.engine.notifications
    assert (note.kind, note.sync_id, note.reason, note.recipients) == (
        "sync_paused", sync.sync_id, f"nope {status}", ("project-admin",))


def test_pause_scope_connection_pauses_every_sync_of_the_connection(make_world):
    """§8.6 `mixpanel.pause_scope = connection`."""
    world = make_world(pause_scope="connection")
    world.seed("u1")
    world.cohort({"d1": "u1"}, cohort_id=1)
    world.cohort({"d1": "u1"}, cohort_id=2)
    connection = world.connect()
    first = world.sync(cohort_id=1, connection=connection)
    world.faults(fail(401, message="Invalid client secret"))
    second = world.sync(cohort_id=2, connection=connection)
    assert first.state == second.state == "paused" and first.pause_reason == "Invalid client secret"


def test_a_run_that_fails_midway_leaves_the_snapshot_and_the_next_run_restarts_from_the_top(world):
    """§8.5 step 8: snapshot untouched; the next run recomputes from the old snapshot and re-sends."""
    world.seed(*ids("u", 10))
    world.cohort({"d0": "u00000"})
    sync = world.sync()
    snapshot = sync.snapshot
    world.join({f"d{i}": f"u{i:05d}" for i in range(1, 10)})
    world.faults(fail(503, active_from=T0 + TICK, times=6))
    world.clock.set(T0 + TICK + 100)
    assert sync.last_run.outcome == "failed_transient" and sync.snapshot is snapshot
    world.clock.set(T0 + 2 * TICK)
    assert sync.last_run.counts["adds"] == 9 and world.members() == set(ids("u", 10))


def test_a_snapshot_older_than_the_ttl_gives_a_full_run_without_removals(world):
    """§8.7: after 3 days without success, adds = current eligible set, no removes."""
    world.seed("a", "b", "c")
    world.cohort({"da": "a", "db": "b"})
    sync = world.sync()
    world.faults(fail(503, active_from=T0 + 1))
    world.leave(["db"], at=T0 + 60)
    world.join({"dc": "c"}, at=T0 + 60)
    world.clock.set(T0 + 3 * 86400 + 61)  # the run at exactly 3 days is still a diff (age not > TTL)
    assert sync.last_run.kind == "diff" and sync.last_run.started_at == T0 + 3 * 86400
    world.fleet["braze"].state.faults.clear()
    world.clock.set(T0 + 3 * 86400 + TICK)
    assert sync.last_run.kind == "full" and sync.last_run.outcome == "success"
    assert sync.last_run.counts["removes"] == 0 and world.sent_changes()[-1] == (False, ["a", "c"])
    assert world.members() == {"a", "b", "c"}
