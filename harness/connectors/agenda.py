"""What a reference connector needs of time: an agenda of due actions on the simulated clock.

`fakes.core.scheduler.Scheduler` (the fleet's `fleet.scheduler`) is one, structurally; connectors never
import `fakes/` (DESIGN.md §7), so they name only this protocol.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, Protocol


class Clock(Protocol):
    def now(self) -> float: ...


class Agenda(Protocol):
    """Actions run when the clock passes their due time; `owner` groups a connector's actions for `cancel`."""

    @property
    def clock(self) -> Clock: ...  # read only: any clock with now() fits

    def call_at(self, when: float, action: Callable[[], object], *, label: str = "",
                owner: Hashable | None = None) -> Any: ...

    def call_later(self, delay_s: float, action: Callable[[], object], *, label: str = "",
                   owner: Hashable | None = None) -> Any: ...

    def cancel(self, owner: Hashable) -> int: ...
