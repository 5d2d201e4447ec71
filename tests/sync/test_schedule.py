"""The schedule of the sync engine (braze-cohort-sync.md §8.3, §8.4): due times `created_at + k·interval`,
one-time exports, syncs of one connection one after another, missed due times collapsed, request latency.
Braze's side is read through fake Braze's control API."""

from __future__ import annotations

import pytest
from sync_kit import COHORT, T0, TICK, fail

from harness.connectors.cohort_sync import CohortSyncConfig


def test_first_sync_makes_the_segment_return_exactly_the_eligible_external_ids(world):
    """§8.3: a dynamic sync makes its full run at creation; §7 includes = members."""
    world.seed("u1", "u2", "u3")
    world.cohort({"d1": "u1", "d2": "u2", "d9": None})
    sync = world.sync()
    assert sync.last_run.kind == "full" and sync.last_run.outcome == "success"
    assert world.segment() == {"u1", "u2"}
    assert world.members() == {"u1", "u2"}
    assert world.braze_cohorts()[str(COHORT)]["name"] == "Clicked email"


def test_membership_changes_at_the_next_two_hour_tick_and_not_before(world):
    """§8.3 / §8.4: run k is due at created_at + k·7,200 s; between runs Braze does not move."""
    world.seed("u1", "u2", "u3")
    world.cohort({"d1": "u1", "d2": "u2"})
    world.sync()
    world.clock.advance(600)
    world.leave(["d1"])
    world.join({"d3": "u3"})
    world.clock.set(T0 + TICK - 1)
    assert world.segment() == {"u1", "u2"}
    world.clock.set(T0 + TICK + 1)
    assert world.segment() == {"u2", "u3"}
    assert world.segment(at=T0 + TICK - 1) == {"u1", "u2"}  # history: the change happened at the tick


@pytest.mark.parametrize("interval", [900, 1800, 7200])
def test_due_times_are_created_at_plus_k_intervals(make_world, interval):
    """§8.4: run k at created_at + k·interval (k = 0 the creation run); 900 s and 1,800 s work too."""
    world = make_world(dynamic_interval_s=interval)
    world.seed("u1")
    world.clock.advance(17)  # created_at off the round number
    created = world.clock.now()
    world.cohort({"d1": "u1"})
    sync = world.sync()
    world.clock.advance(4 * interval + 1)
    assert [run.started_at for run in sync.runs] == [created + k * interval for k in range(5)]
    assert world.engine.next_due(sync.sync_id) == created + 5 * interval


def test_each_dynamic_sync_may_keep_its_own_interval(world):
    """DESIGN.md §7.1: a sync is created with its `interval_s`; two syncs of one connection tick apart."""
    world.seed("u1")
    world.cohort({"d1": "u1"})
    connection = world.connect()
    created = world.clock.now()
    fast = world.engine.create_sync(COHORT, connection.connection_id, interval_s=900)
    default = world.engine.create_sync(COHORT, connection.connection_id)
    world.clock.advance(TICK + 1)
    assert [run.started_at for run in fast.runs] == [created + k * 900 for k in range(int(TICK) // 900 + 1)]
    assert [run.started_at for run in default.runs] == [created, created + TICK]
    for bad in (0, -5, 1e308, float("nan"), True):
        with pytest.raises(ValueError, match="interval_s"):
            world.engine.create_sync(COHORT, connection.connection_id, interval_s=bad)


def test_a_one_time_export_runs_once_and_completes(world):
    """§8.3: one full run at creation, never updated."""
    world.seed("u1", "u2")
    world.cohort({"d1": "u1"})
    sync = world.sync(type="one_time")
    world.join({"d2": "u2"})
    world.clock.advance(5 * TICK)
    assert sync.state == "completed" and len(sync.runs) == 1
    assert world.members() == {"u1"}


def test_a_one_time_export_that_exhausts_its_retries_fails(world):
    """§8.3: `failed` when the one run does not succeed."""
    world.seed("u1")
    world.cohort({"d1": "u1"})
    world.faults(fail(503))
    sync = world.sync(type="one_time")
    world.clock.advance(120)
    assert sync.state == "failed" and sync.last_run.outcome == "failed_transient"


def test_syncs_of_one_connection_run_one_after_another_and_connections_run_independently(make_world):
    """§8.4: one run at a time per connection, in due-time order; duration = latency per request."""
    world = make_world(request_latency_s=10)
    world.seed("u1", "u2")
    world.cohort({"d1": "u1"}, cohort_id=1, name="One")
    world.cohort({"d2": "u2"}, cohort_id=2, name="Two")
    world.cohort({"d1": "u1"}, cohort_id=3, name="Three")
    shared = world.connect()
    other = world.connect()
    first = world.sync(cohort_id=1, connection=shared)
    second = world.sync(cohort_id=2, connection=shared)
    third = world.sync(cohort_id=3, connection=other)
    world.clock.advance(60)
    # first: /cohorts at T0, /cohorts/users at T0+10, ends at T0+20; second starts then.
    assert (first.last_run.started_at, first.last_run.finished_at) == (T0, T0 + 20)
    assert [r.sent_at for r in second.last_run.requests] == [T0 + 20, T0 + 30]
    assert [r.sent_at for r in third.last_run.requests] == [T0, T0 + 10]


def test_due_times_missed_while_a_run_was_busy_collapse_into_one_run(make_world):
    """§8.4: a run longer than two intervals (latency) leads to one more run, not two."""
    world = make_world(dynamic_interval_s=900, request_latency_s=1000, batch_size=1)
    world.seed("u1", "u2")
    world.cohort({"d1": "u1", "d2": "u2"})
    sync = world.sync()  # /cohorts + 2 batches: 3,000 s, across the due times at 900, 1,800 and 2,700
    world.clock.advance(3000)
    assert len(sync.runs) == 2
    second = sync.runs[1]
    assert second.started_at == T0 + 3000 and second.kind == "diff"
    world.clock.advance(600)  # the second run (no changes, no request) ends at once; next due 3,600
    assert [r.started_at for r in sync.runs] == [T0, T0 + 3000, T0 + 3600]


def test_due_times_missed_while_paused_collapse_and_resume_waits_for_the_next_tick(world):
    """§8.4 and §8.9 (`mixpanel.resume = next_tick`): nothing runs while paused; resuming runs once, at
    the next due time."""
    world.seed("u1")
    world.cohort({"d1": "u1"})
    world.faults(fail(400, times=1, message="cohort_id must be a valid string"))
    sync = world.sync()
    assert sync.state == "paused" and sync.pause_reason == "cohort_id must be a valid string"
    world.clock.advance(3 * TICK + 60)
    assert len(sync.runs) == 1
    world.engine.resume(sync.sync_id)
    assert len(sync.runs) == 1
    world.clock.set(T0 + 4 * TICK)
    assert [r.started_at for r in sync.runs] == [T0, T0 + 4 * TICK]
    assert world.members() == {"u1"}


def test_resume_immediate_runs_at_once(make_world):
    """§3 `mixpanel.resume = immediate`."""
    world = make_world(resume="immediate")
    world.seed("u1")
    world.cohort({"d1": "u1"})
    world.faults(fail(404, times=1, message="Not Found"))
    sync = world.sync()
    world.clock.advance(100)
    world.engine.resume(sync.sync_id)
    assert sync.last_run.started_at == T0 + 100 and sync.last_run.outcome == "success"


def test_engine_advance_and_run_until_move_the_agenda_clock(world):
    """§8.4: `engine.advance(seconds)` / `engine.run_until(t)` execute everything due."""
    world.seed("u1")
    world.cohort({"d1": "u1"})
    sync = world.sync()
    world.engine.advance(TICK)
    world.engine.run_until(T0 + 2 * TICK)
    assert len(sync.runs) == 3


def test_the_config_is_shared_by_every_sync(world):
    assert world.engine.config == CohortSyncConfig()
