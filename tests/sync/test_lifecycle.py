"""Rename, delete, stop, disconnect, reconnect and resume (braze-cohort-sync.md §8.9), sync creation limits
(§8.8), against fake Braze in-process."""

from __future__ import annotations

import pytest
from sync_kit import COHORT, DATA_IMPORT_KEY, HOUR, T0, TICK, fail

from harness.connectors.cohort_sync import GroupCohortNotSupported, UnknownCohort


def test_group_cohorts_cannot_be_synced(world):
    """§8.8: sync creation fails with `GroupCohortNotSupported`."""
    world.cohorts.add_cohort(9, "Accounts", at=T0, kind="group")
    with pytest.raises(GroupCohortNotSupported):
        world.sync(cohort_id=9)
    assert world.partner_requests() == []


def test_an_unknown_or_deleted_cohort_cannot_be_synced(world):
    world.cohort({"d1": "u1"})
    world.cohorts.delete(COHORT, at=T0)
    with pytest.raises(UnknownCohort):
        world.sync()
    with pytest.raises(UnknownCohort):
        world.sync(cohort_id=12345)


@pytest.mark.parametrize("policy", ["freeze", "empty"])
def test_stopping_a_sync(make_world, policy):
    """§8.9 `on_sync_stop`: freeze sends nothing and Braze keeps the members; empty removes the snapshot."""
    world = make_world(on_sync_stop=policy)
    world.seed("u1", "u2")
    world.cohort({"d1": "u1", "d2": "u2"})
    sync = world.sync()
    sent = len(world.partner_requests())
    world.clock.advance(HOUR)
    world.engine.stop_sync(sync.sync_id)
    world.clock.advance(3 * TICK)
    assert sync.state == "stopped" and sync.stop_reason == "sync stopped"
    if policy == "freeze":
        assert len(world.partner_requests()) == sent and world.members() == {"u1", "u2"}
    else:
        assert world.sent_changes()[-1] == (True, ["u1", "u2"]) and world.members() == set()
    assert world.engine.next_due(sync.sync_id) is None


def test_a_stopped_sync_does_not_count_toward_the_limit_and_cannot_resume(world):
    world.cohort({"d1": "u1"})
    sync = world.sync()
    world.engine.stop_sync(sync.sync_id)
    assert not sync.counts_toward_limit
    with pytest.raises(ValueError, match="not paused"):
        world.engine.resume(sync.sync_id)


def test_stopping_a_sync_mid_run_abandons_the_run(make_world):
    """A run under way when its sync stops sends nothing more (outcome `stopped`)."""
    world = make_world(request_latency_s=10)
    world.seed("u1")
    world.cohort({"d1": "u1"})
    sync = world.sync()  # /cohorts at T0, /cohorts/users at T0+10
    world.clock.advance(5)
    world.engine.stop_sync(sync.sync_id)
    world.clock.advance(60)
    assert sync.last_run.outcome == "stopped" and len(world.partner_requests()) == 1


def test_disconnect_then_reconnect_brings_the_syncs_back_with_their_snapshot(world):
    """§8.9: disconnect stops the connection's syncs (freeze); reconnect makes them active again at the next
    due time, and the snapshot (within TTL) makes the next run a diff."""
    world.seed("u1", "u2")
    world.cohort({"d1": "u1"})
    connection = world.connect()
    sync = world.sync(connection=connection)
    world.engine.disconnect(connection.connection_id)
    assert connection.status == "disconnected" and sync.state == "stopped"
    world.join({"d2": "u2"})
    world.clock.advance(2 * TICK)
    assert len(sync.runs) == 1
    world.engine.reconnect(connection.connection_id)
    assert sync.state == "active" and world.engine.next_due(sync.sync_id) == T0 + 3 * TICK
    world.clock.set(T0 + 3 * TICK)
    assert sync.last_run.kind == "diff" and world.sent_changes()[-1] == (False, ["u2"])


def test_a_disconnected_connection_takes_no_new_sync(world):
    world.cohort({"d1": "u1"})
    connection = world.connect()
    world.engine.disconnect(connection.connection_id)
    with pytest.raises(ValueError, match="disconnected"):
        world.sync(connection=connection)


def test_reconnect_with_a_new_instance_url(world):
    """§8.9: reconnecting may change the Braze instance as well as the key."""
    world.control("POST", "/_harness/braze/workspaces", {"id": "eu", "cluster": "EU-01"})
    key = world.control("POST", "/_harness/braze/workspaces/eu/keys")["key"]
    world.seed("u1")
    world.cohort({"d1": "u1"})
    connection = world.connect(key)
    sync = world.sync(connection=connection)
    assert sync.state == "paused"
    world.engine.reconnect(connection.connection_id, braze_url="https://rest.fra-01.braze.eu/")
    world.clock.set(T0 + TICK)
    assert sync.state == "active" and sync.last_run.outcome == "success"
    assert connection.braze_url == "https://rest.fra-01.braze.eu"


def test_a_paused_sync_keeps_its_snapshot_and_the_ttl_applies_when_it_resumes(world):
    """§8.7: paused keeps the snapshot; resumed after more than 3 days, the run is full."""
    world.seed("u1", "u2")
    world.cohort({"d1": "u1", "d2": "u2"})
    sync = world.sync()
    world.faults(fail(401, times=1, message="Invalid client secret"))
    world.leave(["d2"])
    world.clock.advance(TICK)
    assert sync.state == "paused" and sync.snapshot is not None
    world.clock.set(T0 + 4 * 86400)
    world.engine.resume(sync.sync_id)
    world.clock.advance(TICK)
    assert sync.last_run.kind == "full" and sync.last_run.counts["removes"] == 0
    assert world.members() == {"u1", "u2"}  # u2's removal is lost (EC-25's rule)


def test_rename_propagation_immediate_declares_at_once(make_world):
    """§3 `rename_propagation = immediate`: the engine, told of the rename, runs with `/cohorts` now."""
    world = make_world(rename_propagation="immediate")
    world.seed("u1")
    world.cohort({"d1": "u1"})
    world.sync()
    world.clock.advance(HOUR)
    world.cohorts.rename(COHORT, "New name", at=world.clock.now())
    world.engine.cohort_renamed(COHORT)
    assert world.partner_requests("cohorts")[-1]["at"] == T0 + HOUR
    assert world.braze_cohorts()[str(COHORT)]["name"] == "New name"


def test_rename_propagation_never_keeps_the_first_name(make_world):
    world = make_world(rename_propagation="never")
    world.seed("u1")
    world.cohort({"d1": "u1"})
    world.sync()
    world.cohorts.rename(COHORT, "New name", at=T0 + HOUR)
    world.clock.advance(2 * TICK)
    assert len(world.partner_requests("cohorts")) == 1
    assert world.braze_cohorts()[str(COHORT)]["name"] == "Clicked email"


def test_cohort_deleted_hook_stops_at_once(world):
    """`engine.cohort_deleted` stops the cohort's syncs now rather than at their next due time."""
    world.seed("u1")
    world.cohort({"d1": "u1"})
    sync = world.sync()
    world.cohorts.delete(COHORT, at=T0 + 60)
    world.clock.advance(60)
    world.engine.cohort_deleted(COHORT)
    assert sync.state == "stopped" and world.engine.next_due(sync.sync_id) is None


def test_close_cancels_everything_pending(world):
    world.seed("u1")
    world.cohort({"d1": "u1"})
    sync = world.sync()
    world.engine.close()
    world.clock.advance(3 * TICK)
    assert len(sync.runs) == 1
    assert world.fleet.scheduler.pending() == []


def test_reconnect_after_an_invalid_key_uses_the_new_key(world):
    """§8.9: "Reconnect with a new key": the old key pauses, the new one resumes."""
    world.seed("u1")
    world.cohort({"d1": "u1"})
    connection = world.connect("not-a-key")
    sync = world.sync(connection=connection)
    assert sync.pause_reason == "Invalid client secret"
    world.engine.reconnect(connection.connection_id, data_import_key=DATA_IMPORT_KEY)
    world.clock.set(T0 + TICK)
    assert world.members() == {"u1"}


class _Failing:
    """`InMemoryCohorts` whose member listing of one cohort raises while `broken` is set."""

    def __init__(self, inner, cohort_id: int) -> None:
        self.inner, self.cohort_id, self.broken = inner, cohort_id, False

    def cohort(self, cohort_id, at):
        return self.inner.cohort(cohort_id, at)

    def count(self, cohort_id, at):
        return self.inner.count(cohort_id, at)

    def members(self, cohort_id, at):
        if self.broken and cohort_id == self.cohort_id:
            raise RuntimeError("cohort store unavailable")
        return self.inner.members(cohort_id, at)


def test_a_run_that_raises_ends_as_error_and_the_connection_goes_on(world):
    """An engine-side exception ends that run (`error`), is kept in the scheduler's failures, and the other
    syncs of the connection still run."""
    world.seed("u1", "u2")
    world.cohort({"d1": "u1"}, cohort_id=1, name="One")
    world.cohort({"d2": "u2"}, cohort_id=2, name="Two")
    failing = _Failing(world.cohorts, 1)
    world.engine.cohorts = failing
    connection = world.connect()
    first = world.sync(cohort_id=1, connection=connection)
    second = world.sync(cohort_id=2, connection=connection)
    failing.broken = True
    world.clock.set(T0 + TICK)
    assert (first.last_run.outcome, first.last_run.reason) == ("error", "RuntimeError: cohort store unavailable")
    assert first.state == "active" and second.last_run.started_at == T0 + TICK
    assert second.last_run.outcome == "success"
    (failure,) = world.fleet.scheduler.failures
    assert "cohort store unavailable" in failure.error
    world.fleet.scheduler.failures.clear()
