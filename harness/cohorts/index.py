"""``CohortIndex``: a source indexed once, reused for every evaluation time and every cohort.

Events are grouped by name and then by distinct_id with their times sorted, so "did E n times in a window"
is two bisections per distinct_id that ever did E. Profile properties are grouped by property and then by
distinct_id as a sorted timeline. The universe (every distinct_id Mixpanel knows at t, from an event or a
profile) is a prefix of the ids sorted by when each became known. Subsets of a name's events that match a
``where`` are built the first time a cohort asks and cached.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable
from typing import Any

from harness.cohorts.source import CohortSource, Event


class EventTable:
    """The events of one name (optionally narrowed by a ``where``), per distinct_id in time order.

    ``times[id]`` is sorted; ``visible[id]`` (same order) is kept only for ids with an event ingested after its
    time, the rare case that needs more than a bisection.
    """

    __slots__ = ("events", "times", "visible")

    def __init__(self, events: Iterable[Event]) -> None:
        grouped: dict[str, list[Event]] = {}
        for event in events:
            rows = grouped.get(event.distinct_id)
            if rows is None:
                grouped[event.distinct_id] = [event]
            else:
                rows.append(event)
        self.events: dict[str, list[Event]] = {}
        self.times: dict[str, list[float]] = {}
        self.visible: dict[str, list[float]] = {}
        for distinct_id, rows in grouped.items():
            if len(rows) > 1:
                rows.sort(key=_event_time)
            self.events[distinct_id] = rows
            self.times[distinct_id] = [e.time for e in rows]
            if any(e.known_at is not None and e.known_at > e.time for e in rows):
                self.visible[distinct_id] = [e.visible_from for e in rows]

    def narrowed(self, keep: Callable[[Event], bool]) -> EventTable:
        return EventTable(e for rows in self.events.values() for e in rows if keep(e))


class PropertyTimeline:
    """One property's value over time, per distinct_id: ``times[id]`` sorted, ``values[id]`` aligned.

    ``last`` holds each id's final (time, value), so evaluating at or after the last change needs no search.
    """

    __slots__ = ("last", "times", "values")

    def __init__(self, changes: dict[str, list[tuple[float, Any]]]) -> None:
        self.times: dict[str, list[float]] = {}
        self.values: dict[str, list[Any]] = {}
        self.last: dict[str, tuple[float, Any]] = {}
        for distinct_id, rows in changes.items():
            if len(rows) > 1:
                rows.sort(key=_first)  # stable: of two changes at one time, the later-listed one wins
            self.times[distinct_id] = [time for time, _ in rows]
            self.values[distinct_id] = [value for _, value in rows]
            self.last[distinct_id] = rows[-1]

    def value_at(self, distinct_id: str, t: float) -> Any:
        """The value at t; ``None`` when unset (never set, not yet set or unset)."""
        last = self.last.get(distinct_id)
        if last is None:
            return None
        if last[0] <= t:
            return last[1]
        i = bisect_right(self.times[distinct_id], t) - 1
        return self.values[distinct_id][i] if i >= 0 else None

    def values_at(self, t: float) -> Iterable[tuple[str, Any]]:
        """(distinct_id, value at t) for every id with a change of this property (value may be ``None``)."""
        times, values = self.times, self.values
        for distinct_id, (last_time, last_value) in self.last.items():
            if last_time <= t:
                yield distinct_id, last_value
            else:
                i = bisect_right(times[distinct_id], t) - 1
                yield distinct_id, values[distinct_id][i] if i >= 0 else None


class CohortIndex:
    """Everything a cohort evaluation reads, indexed once from a ``CohortSource``."""

    def __init__(self, source: CohortSource) -> None:
        by_name: dict[str, list[Event]] = {}
        first_known: dict[str, float] = {}
        for event in source.events():
            rows = by_name.get(event.name)
            if rows is None:
                by_name[event.name] = [event]
            else:
                rows.append(event)
            seen = event.visible_from
            if seen < first_known.get(event.distinct_id, seen + 1):
                first_known[event.distinct_id] = seen
        changes: dict[str, dict[str, list[tuple[float, Any]]]] = {}
        for change in source.property_changes():
            per_id = changes.setdefault(change.property, {})
            rows_ = per_id.get(change.distinct_id)
            if rows_ is None:
                per_id[change.distinct_id] = [(change.time, change.value)]
            else:
                rows_.append((change.time, change.value))
            if change.time < first_known.get(change.distinct_id, change.time + 1):
                first_known[change.distinct_id] = change.time
        self._tables = {name: EventTable(rows) for name, rows in by_name.items()}
        self._narrowed: dict[tuple[str, Any], EventTable] = {}
        self._empty = EventTable(())
        self.properties = {name: PropertyTimeline(per_id) for name, per_id in changes.items()}
        self._empty_timeline = PropertyTimeline({})
        self.first_known = first_known
        ordered = sorted(first_known.items(), key=_second)
        self._known_times = [time for _, time in ordered]
        self._known_ids = [distinct_id for distinct_id, _ in ordered]
        self._universe_cache: tuple[float, frozenset[str]] | None = None

    def events(self, name: str, key: Any = None, keep: Callable[[Event], bool] | None = None) -> EventTable:
        """The table of events called ``name``; with ``keep``, those it accepts (cached under ``key``)."""
        table = self._tables.get(name, self._empty)
        if keep is None:
            return table
        narrowed = self._narrowed.get((name, key))
        if narrowed is None:
            narrowed = self._narrowed[(name, key)] = table.narrowed(keep)
        return narrowed

    def timeline(self, property_name: str) -> PropertyTimeline:
        return self.properties.get(property_name, self._empty_timeline)

    def universe(self, t: float) -> frozenset[str]:
        """Every distinct_id known at t: with an event visible at t or a profile change at or before t."""
        cached = self._universe_cache
        if cached is not None and cached[0] == t:
            return cached[1]
        universe = frozenset(self._known_ids[: bisect_right(self._known_times, t)])
        self._universe_cache = (t, universe)
        return universe

    def all_ids(self) -> list[str]:
        """Every distinct_id the source ever knows, in the order they become known."""
        return list(self._known_ids)

    def properties_at(self, distinct_id: str, t: float) -> dict[str, Any]:
        """The profile's set properties at t (unset ones left out), by property name."""
        out = {}
        for name in sorted(self.properties):
            value = self.properties[name].value_at(distinct_id, t)
            if value is not None:
                out[name] = value
        return out


def _event_time(event: Event) -> float:
    return event.time


def _first(row: tuple[float, Any]) -> float:
    return row[0]


def _second(row: tuple[str, float]) -> float:
    return row[1]
