"""The scheduler on the simulated clock (DESIGN.md §7 "One clock"; issue 9 item 1): due actions run in
simulated time order inside any forward move of the clock, deterministically, without sleeping."""

from __future__ import annotations

import threading

import pytest

from fakes.core import ClockError, Scheduler, SimulatedClock
from fakes.fleet import FakeFleet

T0 = 1_800_000_000.0


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(T0)


@pytest.fixture
def scheduler(clock: SimulatedClock) -> Scheduler:
    return Scheduler.on(clock)


def test_actions_run_in_due_time_order_with_the_clock_standing_at_each_due_time(clock, scheduler):
    seen: list[tuple[str, float]] = []
    for label, delay in (("c", 30), ("a", 10), ("b", 20)):
        scheduler.call_later(delay, lambda label=label: seen.append((label, clock.now())), label=label)
    assert clock.advance(60) == T0 + 60
    assert seen == [("a", T0 + 10), ("b", T0 + 20), ("c", T0 + 30)]
    assert clock.now() == T0 + 60


def test_actions_due_at_the_same_time_run_in_the_order_they_were_scheduled(clock, scheduler):
    seen: list[int] = []
    for i in range(20):
        scheduler.call_at(T0 + 5, lambda i=i: seen.append(i))
    clock.advance(5)
    assert seen == list(range(20))


def test_an_action_due_exactly_at_the_target_runs_and_one_a_moment_later_waits(clock, scheduler):
    seen: list[str] = []
    scheduler.call_at(T0 + 100, lambda: seen.append("at"))
    later = scheduler.call_at(T0 + 100.001, lambda: seen.append("later"))
    clock.advance(100)
    assert seen == ["at"]
    assert scheduler.pending() == [later] and scheduler.next_due() == T0 + 100.001
    clock.advance(1)
    assert seen == ["at", "later"] and scheduler.pending() == []


def test_actions_scheduled_by_an_action_run_in_the_same_move_when_they_fall_inside_it(clock, scheduler):
    """A retry every 5 minutes through a 4-day outage: 1,152 attempts, all inside one advance."""
    attempts: list[float] = []

    def attempt() -> None:
        attempts.append(clock.now())
        scheduler.call_later(300, attempt, label="retry")

    scheduler.call_later(300, attempt, label="retry")
    clock.advance(4 * 86_400)
    assert len(attempts) == 4 * 86_400 // 300
    assert attempts[0] == T0 + 300 and attempts[-1] == T0 + 4 * 86_400
    assert [a.label for a in scheduler.pending()] == ["retry"]


def test_setting_the_clock_forward_runs_what_falls_due_and_a_rewind_runs_nothing(clock, scheduler):
    seen: list[float] = []
    scheduler.call_at(T0 + 50, lambda: seen.append(clock.now()))
    clock.set(T0 - 1000)
    assert seen == [] and clock.now() == T0 - 1000
    clock.set(T0 + 50)
    assert seen == [T0 + 50]


def test_cancelled_actions_and_an_owners_actions_do_not_run(clock, scheduler):
    seen: list[str] = []
    one = scheduler.call_later(1, lambda: seen.append("one"))
    scheduler.call_later(2, lambda: seen.append("owned-1"), owner="current-1")
    scheduler.call_later(3, lambda: seen.append("owned-2"), owner="current-1")
    scheduler.call_later(4, lambda: seen.append("other"), owner="sync-1")
    one.cancel()
    assert scheduler.cancel("current-1") == 2
    clock.advance(10)
    assert seen == ["other"]


def test_a_failing_action_is_recorded_and_the_others_still_run(clock, scheduler):
    seen: list[str] = []
    scheduler.call_later(1, lambda: 1 / 0, label="broken")
    scheduler.call_later(2, lambda: seen.append("after"))
    clock.advance(5)
    assert seen == ["after"]
    (failure,) = scheduler.failures
    assert failure.label == "broken" and failure.when == T0 + 1 and failure.error.startswith("ZeroDivisionError")


def test_an_action_cannot_move_the_clock(clock, scheduler):
    scheduler.call_later(1, lambda: clock.advance(10), label="mover")
    clock.advance(5)
    assert clock.now() == T0 + 5
    assert "cannot move the clock" in scheduler.failures[0].error


def test_another_thread_moving_the_clock_while_actions_run_gets_a_clear_error(clock, scheduler):
    scheduler.busy_wait_s = 0.05
    entered, release = threading.Event(), threading.Event()
    scheduler.call_later(1, lambda: (entered.set(), release.wait(10)))
    runner = threading.Thread(target=clock.advance, args=(5,))
    runner.start()
    try:
        assert entered.wait(10)
        with pytest.raises(ClockError, match="busy"):
            clock.advance(1)
        scheduler.call_later(1, lambda: None, label="scheduled meanwhile")  # the agenda stays open
    finally:
        release.set()
        runner.join(10)
    assert clock.now() == T0 + 5


def test_concurrent_advances_add_up(clock, scheduler):
    seen: list[float] = []
    for i in range(1, 800, 7):
        scheduler.call_at(T0 + i, lambda: seen.append(clock.now()))
    threads = [threading.Thread(target=lambda: [clock.advance(1) for _ in range(200)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert clock.now() == T0 + 800
    assert seen == [T0 + i for i in range(1, 800, 7)]


def test_run_due_runs_what_is_due_without_moving_a_real_time_clock():
    clock = SimulatedClock()  # real time
    scheduler = Scheduler.on(clock)
    seen: list[str] = []
    scheduler.call_at(clock.now() - 1, lambda: seen.append("due"))
    scheduler.call_at(clock.now() + 3600, lambda: seen.append("later"))
    assert scheduler.run_due() == 1
    assert seen == ["due"] and not clock.frozen


def test_one_scheduler_per_clock():
    clock = SimulatedClock(T0)
    assert Scheduler.on(clock) is Scheduler.on(clock)
    with pytest.raises(ClockError, match="already has a driver"):
        Scheduler(clock)


def test_bad_due_times_are_refused(scheduler):
    for bad in (float("nan"), "soon", True, None):
        with pytest.raises(ClockError):
            scheduler.call_at(bad, lambda: None)  # type: ignore[arg-type]
    with pytest.raises(ClockError):
        scheduler.call_later(-1, lambda: None)


def test_advancing_either_fake_over_http_runs_the_fleets_due_actions_before_it_answers():
    """DESIGN.md §7.1: POST /_harness/clock {"advance_s": N} on either fake runs everything due inside it."""
    with FakeFleet() as fleet:
        fleet.clock.set(T0)
        seen: list[tuple[str, float]] = []
        fleet.scheduler.call_later(60, lambda: seen.append(("sync tick", fleet.clock.now())))
        fleet.scheduler.call_later(7200, lambda: seen.append(("next tick", fleet.clock.now())))
        answer = fleet["braze"].client.post("/_harness/clock", json={"advance_s": 3600})
        assert answer.status_code == 200 and answer.get_json()["now"] == T0 + 3600
        assert seen == [("sync tick", T0 + 60)]
        answer = fleet["mixpanel"].client.post("/_harness/clock", json={"advance_s": 3600})
        assert seen == [("sync tick", T0 + 60), ("next tick", T0 + 7200)]


def test_a_fleet_reset_clears_the_agenda_and_a_fake_reset_keeps_it():
    with FakeFleet() as fleet:
        fleet.clock.set(T0)
        fleet.scheduler.call_later(10, lambda: None, label="kept")
        fleet["mixpanel"].reset()
        assert [a.label for a in fleet.scheduler.pending()] == ["kept"]
        fleet.reset()
        assert fleet.scheduler.pending() == []
