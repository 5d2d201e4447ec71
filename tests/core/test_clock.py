"""SimulatedClock: follows wall time until set, freezes on set, advances, back to real time (DESIGN.md §3)."""

import threading

import pytest

from fakes.core.clock import ClockError, SimulatedClock


class FakeWall:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_follows_wall_time_until_set():
    wall = FakeWall(1000.0)
    clock = SimulatedClock(wall_time=wall)
    assert clock.now() == 1000.0
    wall.t = 1005.5
    assert clock.now() == 1005.5
    assert not clock.frozen
    assert clock.snapshot()["mode"] == "real"


def test_set_freezes_and_advance_moves_forward():
    wall = FakeWall(1000.0)
    clock = SimulatedClock(wall_time=wall)
    clock.set(1_700_000_000)
    wall.t = 99999.0
    assert clock.now() == 1_700_000_000.0
    assert clock.advance(7200) == 1_700_007_200.0
    assert clock.now_ms() == 1_700_007_200_000
    assert clock.now_datetime().isoformat() == "2023-11-15T00:13:20+00:00"
    snap = clock.snapshot()
    assert snap == {"now": 1_700_007_200.0, "now_ms": 1_700_007_200_000, "iso": "2023-11-15T00:13:20Z", "mode": "frozen"}


def test_advance_in_real_mode_freezes_at_now_plus_step():
    wall = FakeWall(500.0)
    clock = SimulatedClock(wall_time=wall)
    clock.advance(10)
    wall.t = 600.0
    assert clock.now() == 510.0


def test_resume_real_time():
    wall = FakeWall(500.0)
    clock = SimulatedClock(wall_time=wall)
    clock.set(1.0)
    clock.resume_real_time()
    assert clock.now() == 500.0
    clock.set(2.0)
    clock.reset()
    assert clock.now() == 500.0


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "10", True, None])
def test_rejects_non_finite_or_non_numbers(bad):
    clock = SimulatedClock()
    with pytest.raises(ClockError):
        clock.set(bad)
    with pytest.raises(ClockError):
        clock.advance(bad)


def test_negative_advance_is_refused():
    with pytest.raises(ClockError, match=">= 0"):
        SimulatedClock(now=0).advance(-1)


def test_listeners_hear_every_jump_and_can_unsubscribe():
    clock = SimulatedClock(now=100)
    heard = []
    unsubscribe = clock.subscribe(lambda old, new: heard.append((old, new)))
    clock.advance(5)
    clock.set(50)
    unsubscribe()
    clock.advance(1)
    assert heard == [(100.0, 105.0), (105.0, 50.0)]


def test_concurrent_advances_are_not_lost():
    clock = SimulatedClock(now=0)

    def worker():
        for _ in range(500):
            clock.advance(1)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert clock.now() == 4000.0


@pytest.mark.parametrize("epoch", [1e308, -1e20, 253_402_300_800])
def test_clock_stays_within_representable_times(epoch):
    clock = SimulatedClock(now=0)
    with pytest.raises(ClockError, match="between year 1 and year 9999"):
        clock.set(epoch)
    with pytest.raises(ClockError):
        clock.advance(1e308)
    assert clock.now() == 0.0
    clock.set(253_402_300_799)
    assert clock.snapshot()["iso"] == "9999-12-31T23:59:59Z"
