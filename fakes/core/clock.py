"""The simulated clock every fake and the scenarios read (DESIGN.md §3: nothing in scenarios sleeps).

It follows wall time until someone sets it; `set(epoch)` freezes it there, `advance(s)` moves it forward,
`resume_real_time()` goes back to following the wall clock. Listeners hear about every jump.

A driver (`fakes.core.scheduler.Scheduler`) may attach: then every forward move is handed to it, so the
actions that fall due inside the move run at their own times, in order, before the move returns.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Protocol

ClockListener = Callable[[float, float], None]
"""Called as `listener(old_now, new_now)` after the clock was set or advanced (outside the clock's lock)."""


MIN_EPOCH = -62_135_596_800.0  # 0001-01-01T00:00:00Z
MAX_EPOCH = 253_402_300_799.0  # 9999-12-31T23:59:59Z: beyond it no ISO-8601 year or datetime exists


class ClockError(ValueError):
    """A clock value that cannot be used (not finite, negative advance)."""


def _finite(value: float, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ClockError(f"{what} must be a number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ClockError(f"{what} must be finite")
    return value


def _in_range(epoch: float) -> float:
    if not MIN_EPOCH <= epoch <= MAX_EPOCH:
        raise ClockError("the clock must stay between year 1 and year 9999 (epoch -62135596800 .. 253402300799)")
    return epoch


class ClockDriver(Protocol):
    """Moves the clock to `to(now)`, running what falls due on the way forward (it calls `_jump`).

    `to` is applied under the driver's own lock, so concurrent advances add up."""

    def drive(self, to: Callable[[float], float]) -> float: ...


class SimulatedClock:
    """Thread-safe clock in epoch seconds (float). Real mode follows `wall_time`; frozen mode holds a value."""

    def __init__(self, now: float | None = None, *, wall_time: Callable[[], float] = time.time) -> None:
        self._lock = threading.Lock()
        self._wall_time = wall_time
        self._frozen_at: float | None = None if now is None else _in_range(_finite(now, "now"))
        self._listeners: list[ClockListener] = []
        self._driver: ClockDriver | None = None

    # -- reading -------------------------------------------------------------------------------------
    def now(self) -> float:
        with self._lock:
            return self._wall_time() if self._frozen_at is None else self._frozen_at

    def now_ms(self) -> int:
        return int(math.floor(self.now() * 1000))

    def now_datetime(self) -> datetime:
        return datetime.fromtimestamp(self.now(), tz=timezone.utc)

    @property
    def frozen(self) -> bool:
        with self._lock:
            return self._frozen_at is not None

    def snapshot(self) -> dict:
        """The clock as the control API shows it: `now` (epoch s), `now_ms`, `iso`, `mode`."""
        with self._lock:
            now = self._wall_time() if self._frozen_at is None else self._frozen_at
            mode = "real" if self._frozen_at is None else "frozen"
        iso = datetime.fromtimestamp(now, tz=timezone.utc).isoformat().replace("+00:00", "Z")
        return {"now": now, "now_ms": int(math.floor(now * 1000)), "iso": iso, "mode": mode}

    # -- moving --------------------------------------------------------------------------------------
    def set(self, epoch: float) -> float:
        """Freeze the clock at `epoch` (seconds). Going backwards is allowed: a test may rewind (nothing runs)."""
        new = _in_range(_finite(epoch, "now"))
        driver = self._driver
        if driver is not None:
            return driver.drive(lambda now: new)
        self._jump(new)
        return new

    def advance(self, seconds: float) -> float:
        """Move forward by `seconds` (>= 0). In real mode this freezes at now + seconds."""
        step = _finite(seconds, "advance_s")
        if step < 0:
            raise ClockError("advance_s must be >= 0 (use set to go back in time)")
        driver = self._driver
        if driver is not None:
            return driver.drive(lambda now: _in_range(now + step))
        with self._lock:
            old = self._wall_time() if self._frozen_at is None else self._frozen_at
            new = _in_range(old + step)
            self._frozen_at = new
        self._notify(old, new)
        return new

    def _jump(self, new: float) -> None:
        """Stand the clock at `new` at once and tell the listeners (drivers call this for each step)."""
        with self._lock:
            old = self._wall_time() if self._frozen_at is None else self._frozen_at
            self._frozen_at = new
        self._notify(old, new)

    def resume_real_time(self) -> None:
        """Follow the wall clock again."""
        with self._lock:
            self._frozen_at = None

    def reset(self) -> None:
        """Back to the state of a fresh clock: real time (listeners stay subscribed)."""
        self.resume_real_time()

    # -- a driver and listeners ----------------------------------------------------------------------
    @property
    def driver(self) -> ClockDriver | None:
        return self._driver

    def attach_driver(self, driver: ClockDriver) -> None:
        """Hand every forward move to `driver` (one per clock: a second one is refused)."""
        with self._lock:
            if self._driver is not None and self._driver is not driver:
                raise ClockError("this clock already has a driver (use Scheduler.on(clock))")
            self._driver = driver

    def subscribe(self, listener: ClockListener) -> Callable[[], None]:
        """Register `listener(old, new)`; returns a function that unsubscribes it."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def _notify(self, old: float, new: float) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener(old, new)
