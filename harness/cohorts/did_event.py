"""``DidEvent``: "did E at least / at most / exactly N times in the last D days (or between two times),
where event properties match" (DESIGN.md §7.1).

Window semantics (a harness default, not taken from a Mixpanel source): "in the last D days" at t
counts events with time in ``(t - D·86400, t]``; ``from`` / ``to`` count events with time in ``[from, to]``; with
neither, every event up to t counts. Events after t never count, nor do events Mixpanel has not yet ingested
at t (``known_at > t``). ``where`` matches event properties by JSON equality; a list value means "any of".
A distinct_id without any such event has count 0, so "at most N" includes those who never did E.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable, Set
from dataclasses import dataclass
from math import inf
from typing import Any

from harness.cohorts import intervals as iv
from harness.cohorts.index import CohortIndex, EventTable
from harness.cohorts.json_values import matches_any
from harness.cohorts.nodes import EvaluationContext
from harness.cohorts.source import Event

DAY_S = 86400


@dataclass(frozen=True)
class DidEvent:
    event: str
    min_count: int | None = None
    max_count: int | None = None
    exactly: int | None = None
    within_days: float | None = None
    from_time: float | None = None
    to_time: float | None = None
    where: tuple[tuple[str, Any], ...] = ()  # sorted by property; a tuple value is a JSON list ("any of")

    @property
    def count_range(self) -> tuple[float, float]:
        """Inclusive bounds on the count; with no bound given, "at least once"."""
        if self.exactly is not None:
            return self.exactly, self.exactly
        low = self.min_count if self.min_count is not None else (0 if self.max_count is not None else 1)
        return low, self.max_count if self.max_count is not None else inf

    def match(self, ctx: EvaluationContext) -> Set[str]:
        table = self._table(ctx.index)
        low, high = self.count_range
        t, times = ctx.t, table.times
        if self.within_days is not None:
            first = bisect_right(times, t - self.within_days * DAY_S)  # (t - D days, t]
            last = bisect_right(times, t)
        else:
            first = 0 if self.from_time is None else bisect_left(times, self.from_time)  # [from, min(to, t)]
            last = bisect_right(times, t if self.to_time is None or self.to_time > t else self.to_time)
        counted: Iterable[str] = table.ids[first:last] if last > first else ()
        if table.visible is not None and last > first:  # drop events not yet ingested at t
            counted = [d for d, seen in zip(counted, table.visible[first:last], strict=True) if seen <= t]
        if low <= 0:  # a count of 0 passes: everyone known at t, minus those counted too often
            if high == inf:
                return ctx.universe
            return ctx.universe.difference([d for d, n in Counter(counted).items() if n > high])
        if low == 1 and high == inf:
            return set(counted)
        return {d for d, n in Counter(counted).items() if low <= n <= high}  # counted ids are known at t

    def intervals(self, index: CohortIndex, distinct_id: str) -> iv.Intervals:
        rows = self._table(index).of(distinct_id)
        low, high = self.count_range
        return iv.where_count((self._span(e) for e in rows), lambda count: low <= count <= high)

    def subjects(self, index: CohortIndex) -> set[str]:
        return set(self._table(index).ids)

    def _span(self, event: Event) -> tuple[float, float]:
        """When one event counts: from its visibility until the window has passed it (or for ever)."""
        if self.within_days is not None:
            return event.visible_from, event.time + self.within_days * DAY_S
        if (self.from_time is not None and event.time < self.from_time) or (
                self.to_time is not None and event.time > self.to_time):
            return 0.0, 0.0  # empty: outside [from, to]
        return event.visible_from, inf

    def _table(self, index: CohortIndex) -> EventTable:
        if not self.where:
            return index.events(self.event)
        return index.events(self.event, self.where, self._where_holds)

    def _where_holds(self, event: Event) -> bool:
        properties = event.properties
        for name, wanted in self.where:
            if name not in properties:
                return False
            if not matches_any(properties[name], wanted if isinstance(wanted, tuple) else (wanted,)):
                return False
        return True

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"event": self.event}
        for key, value in (("min_count", self.min_count), ("max_count", self.max_count), ("exactly", self.exactly),
                           ("within_days", self.within_days), ("from", self.from_time), ("to", self.to_time)):
            if value is not None:
                body[key] = value
        if self.where:
            body["where"] = {name: list(value) if isinstance(value, tuple) else value for name, value in self.where}
        return {"did_event": body}
