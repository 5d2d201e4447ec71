"""Due actions on a `SimulatedClock`, run in simulated time order (DESIGN.md §7: nothing sleeps).

A `Scheduler` attaches to one clock. From then on every forward move of that clock (`advance(s)`, `set(t)`
later than now, and so `POST /_harness/clock` on any fake sharing it) runs each action that falls due
inside the move, in (due time, scheduling order) order, with the clock standing at the action's due time
while it runs; then the clock stops at the target. An action may schedule more actions (a retry, the
next sync tick); those due inside the same move run in it too. So a 4-day outage with its retries runs
in milliseconds, and the same program gives the same order on every run.

In real-time mode the clock moves by itself and nothing is driven: actions that came due run at the next
set or advance, or when `run_due()` is called.

Two moves from two threads run one after the other; a move that finds another one still running after
`busy_wait_s` gives up with a `ClockError` (the control API answers it as a 400) rather than wait forever.

An action that raises does not stop the others: the failure is kept in `failures` (a runner asserts that
it is empty), the move goes on.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import traceback
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

from fakes.core.clock import ClockError, SimulatedClock

Action = Callable[[], object]

BUSY_WAIT_S = 10.0
"""How long a move waits for another one in progress before it gives up with a clear error. Bounded: the
running move's action may be waiting on the very request that asks to move the clock (a deadlock)."""


@dataclass(order=True)
class ScheduledAction:
    """One pending action; `cancel()` takes it off the agenda (a no-op once it ran)."""

    when: float
    seq: int
    action: Action = field(compare=False)
    label: str = field(default="", compare=False)
    owner: Hashable | None = field(default=None, compare=False)
    cancelled: bool = field(default=False, compare=False)
    done: bool = field(default=False, compare=False)

    def cancel(self) -> None:
        self.cancelled = True

    def to_json(self) -> dict[str, object]:
        return {"when": self.when, "label": self.label, "owner": None if self.owner is None else str(self.owner)}


@dataclass(frozen=True)
class ActionFailure:
    """An action that raised: when it was due, its label, the exception and its traceback."""

    when: float
    label: str
    error: str
    traceback: str


class Scheduler:
    """The agenda of one clock. Use `Scheduler.on(clock)` to get the one attached to a clock (made once)."""

    def __init__(self, clock: SimulatedClock, *, busy_wait_s: float = BUSY_WAIT_S) -> None:
        self.clock = clock
        self._heap: list[ScheduledAction] = []
        self._seq = itertools.count()
        self._lock = threading.Lock()  # the agenda; never held while an action runs
        self._run_lock = threading.Lock()  # one drive at a time
        self._running_in: int | None = None  # the thread running due actions, if any
        self.busy_wait_s = busy_wait_s
        self.failures: list[ActionFailure] = []
        clock.attach_driver(self)

    @classmethod
    def on(cls, clock: SimulatedClock) -> Scheduler:
        """The scheduler attached to `clock`, attaching a new one if it has none."""
        driver = clock.driver
        if isinstance(driver, Scheduler):
            return driver
        return cls(clock)

    # -- the agenda ----------------------------------------------------------------------------------
    def call_at(self, when: float, action: Action, *, label: str = "",
                owner: Hashable | None = None) -> ScheduledAction:
        """Run `action()` when the clock reaches `when` (epoch s). A time already past runs at the next move."""
        if isinstance(when, bool) or not isinstance(when, (int, float)) or when != when:
            raise ClockError(f"a due time must be a number, got {when!r}")
        with self._lock:
            item = ScheduledAction(float(when), next(self._seq), action, label, owner)
            heapq.heappush(self._heap, item)
            return item

    def call_later(self, delay_s: float, action: Action, *, label: str = "",
                   owner: Hashable | None = None) -> ScheduledAction:
        """Run `action()` `delay_s` simulated seconds from now."""
        if isinstance(delay_s, bool) or not isinstance(delay_s, (int, float)) or not delay_s >= 0:
            raise ClockError(f"a delay must be a number >= 0, got {delay_s!r}")
        return self.call_at(self.clock.now() + delay_s, action, label=label, owner=owner)

    def pending(self, owner: Hashable | None = None) -> list[ScheduledAction]:
        """Actions still to run (of one owner, if given), in the order they will run."""
        with self._lock:
            return sorted(a for a in self._heap if not a.cancelled and (owner is None or a.owner == owner))

    def next_due(self) -> float | None:
        with self._lock:
            self._drop_cancelled_head()
            return self._heap[0].when if self._heap else None

    def cancel(self, owner: Hashable) -> int:
        """Cancel every pending action of `owner` (a connector being deleted, a fake being reset)."""
        with self._lock:
            found = [a for a in self._heap if a.owner == owner and not a.cancelled]
            for item in found:
                item.cancel()
            return len(found)

    def clear(self) -> None:
        """Forget every pending action and recorded failure (a fresh start of whoever owns the clock)."""
        with self._lock:
            for item in self._heap:
                item.cancel()
            self._heap.clear()
            self.failures.clear()

    # -- driving (called by the clock) ---------------------------------------------------------------
    def run_due(self) -> int:
        """Run the actions already due at the clock's current time, without moving it; how many ran."""
        return self._drive_to(lambda now: now, move=False)[1]

    def drive(self, to: Callable[[float], float]) -> float:
        """Move the clock to `to(now)`: forward, run every action due on the way at its own due time, in
        order, then stand at the target; backward, just jump. Called by `SimulatedClock.set/advance`."""
        return self._drive_to(to, move=True)[0]

    def _drive_to(self, to: Callable[[float], float], *, move: bool) -> tuple[float, int]:
        if self._running_in == threading.get_ident():
            raise ClockError("a scheduled action cannot move the clock (schedule a later action instead)")
        if not self._run_lock.acquire(timeout=self.busy_wait_s):
            raise ClockError("the clock is busy running due actions; move it again once that returns")
        try:
            self._running_in = threading.get_ident()
            start = self.clock.now()
            target = to(start)
            if target < start:
                self.clock._jump(target)  # a rewind: nothing runs, the agenda waits for time to come back
                return target, 0
            ran = 0
            while (item := self._pop_due(target)) is not None:
                if move and item.when > self.clock.now():
                    self.clock._jump(item.when)
                self._run(item)
                ran += 1
            if move:
                self.clock._jump(target)
            return target, ran
        finally:
            self._running_in = None
            self._run_lock.release()

    def _pop_due(self, target: float) -> ScheduledAction | None:
        with self._lock:
            self._drop_cancelled_head()
            if self._heap and self._heap[0].when <= target:
                return heapq.heappop(self._heap)
            return None

    def _run(self, item: ScheduledAction) -> None:
        item.done = True
        try:
            item.action()
        except Exception as exc:  # one failing action must not lose the others (see module docstring)
            self.failures.append(ActionFailure(item.when, item.label, f"{type(exc).__name__}: {exc}",
                                               traceback.format_exc()))

    def _drop_cancelled_head(self) -> None:
        while self._heap and self._heap[0].cancelled:
            heapq.heappop(self._heap)
