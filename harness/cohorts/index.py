"""``CohortIndex``: a source indexed once, reused for every evaluation time and every cohort.

Events are split by name and sorted by time into flat columns (times, distinct_ids), so "did E in a
window" is two bisections and a slice, and the counting runs in C (``set``, ``Counter``) over the events in
the window only. Profile properties become one ``PropertyTimeline`` each: the ids whose property changed once
are flat columns (their values at t are picked out in C), the rest keep their own short history. The
universe (every distinct_id Mixpanel knows at t, from an event or a profile) is a prefix of the ids sorted
by when each became known. Tables, timelines and that column are built on first use and kept. Building uses
C-level ``map``, ``compress``, sorts and dict tricks rather than per-row Python work, in listing order where
it can (one profile's rows sit together in memory): it is paid once per source, but for a million profiles
and a million events."""

from __future__ import annotations

from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from itertools import chain, compress, repeat
from math import inf
from operator import attrgetter, itemgetter, le
from typing import Any

from harness.cohorts.source import CohortSource, Event, PropertyChange

_time = attrgetter("time")
_distinct_id = attrgetter("distinct_id")
_known_at = attrgetter("known_at")
_value = attrgetter("value")
_first = itemgetter(0)


class EventTable:
    """The events of one name (optionally narrowed by a ``where``) in time order, as flat columns.

    ``visible`` (aligned with ``times``) is kept only when some event was ingested after its time, the case
    in which a window slice must also be filtered by ``visible <= t``.
    """

    __slots__ = ("_by_id", "ids", "rows", "times", "visible")

    def __init__(self, rows: list[Event]) -> None:
        """``rows`` in listing order; sorted here by time (stably: listing order breaks ties)."""
        rows = sorted(rows, key=_time)
        self.rows = rows
        self.times: list[float] = list(map(_time, rows))
        self.ids: list[str] = list(map(_distinct_id, rows))
        self.visible: list[float] | None = _visible_column(rows, self.times)
        self._by_id: dict[str, list[Event]] | None = None

    def narrowed(self, keep: Callable[[Event], bool]) -> EventTable:
        return EventTable([e for e in self.rows if keep(e)])

    def of(self, distinct_id: str) -> Sequence[Event]:
        """One distinct_id's events in time order (grouped on first use: only timelines need it)."""
        if self._by_id is None:
            by_id: dict[str, list[Event]] = {}
            for event in self.rows:
                by_id.setdefault(event.distinct_id, []).append(event)
            self._by_id = by_id
        return self._by_id.get(distinct_id, ())


class PropertyTimeline:
    """One property's value over time for every profile; ``None`` is "not set".

    ``single_*``: the ids with one change (the usual case), in listing order; the ones set by t are picked
    out in C (``compress`` over ``time <= t``), or all of them once t is past the latest. ``history``: ids with
    several changes, each with sorted distinct times and aligned values.
    """

    __slots__ = ("_last", "history", "latest_single", "single_ids", "single_times", "single_values")

    def __init__(self, changes: list[PropertyChange]) -> None:
        """``changes`` in listing order (any time order); of two changes at one time the later-listed wins.

        Nothing is sorted but the few ids with a history: on a million profiles, sorting by time (or touching
        every id in time order, which scatters memory access) costs more than the evaluations it would save.
        """
        ids = list(map(_distinct_id, changes))
        times = list(map(_time, changes))
        self.history: dict[str, tuple[list[float], list[Any]]] = {}
        self._last: dict[str, tuple[float, Any]] | None = None
        if len(set(ids)) == len(ids):  # one change per id: the columns are the rows themselves
            self.single_ids, self.single_times = ids, times
            self.single_values: list[Any] = list(map(_value, changes))
        else:
            last_row = dict(zip(ids, range(len(ids)), strict=True))
            first_row: dict[str, int] = {}
            deque(map(first_row.setdefault, ids, range(len(ids))), maxlen=0)
            # A row that is both the first and the last of its id is an id that changed once (int sets, in C).
            once = set(last_row.values()).intersection(first_row.values())
            multi_rows = sorted(set(range(len(ids))).difference(once))  # listing order: memory-friendly
            self.history = _histories(ids, times, changes, multi_rows)
            keep = list(map(once.__contains__, range(len(ids))))
            self.single_ids = list(compress(ids, keep))
            self.single_times = list(compress(times, keep))
            self.single_values = list(map(_value, compress(changes, keep)))
        self.latest_single = max(self.single_times, default=-inf)

    def ids(self) -> set[str]:
        """Every id with a change of this property."""
        return set(self.single_ids).union(self.history)

    def values_at(self, t: float) -> tuple[Iterable[str], Iterable[Any]]:
        """The ids whose property has changed by t, and their values at t (``None`` where unset)."""
        if t >= self.latest_single:
            ids: Iterable[str] = self.single_ids
            values: Iterable[Any] = self.single_values
        else:
            set_by_t = list(map(le, self.single_times, repeat(t)))
            ids, values = compress(self.single_ids, set_by_t), compress(self.single_values, set_by_t)
        if not self.history:
            return ids, values
        history_ids, history_values = [], []
        for distinct_id, (times, column) in self.history.items():
            i = bisect_right(times, t) - 1
            if i >= 0:
                history_ids.append(distinct_id)
                history_values.append(column[i])
        return chain(ids, history_ids), chain(values, history_values)

    def value_at(self, distinct_id: str, t: float) -> Any:
        single = self._singles().get(distinct_id)
        if single is not None:
            return single[1] if single[0] <= t else None
        times, column = self.changes_of(distinct_id)
        i = bisect_right(times, t) - 1
        return column[i] if i >= 0 else None

    def _singles(self) -> dict[str, tuple[float, Any]]:
        """id -> (time, value) of the one-change ids, built on first use (only timelines and member rows need it)."""
        if self._last is None:
            pairs = zip(self.single_times, self.single_values, strict=True)
            self._last = dict(zip(self.single_ids, pairs, strict=True))
        return self._last

    def changes_of(self, distinct_id: str) -> tuple[list[float], list[Any]]:
        """One id's change times and values (empty lists when the property never changed for it)."""
        if distinct_id in self.history:
            return self.history[distinct_id]
        single = self._singles().get(distinct_id)
        return ([single[0]], [single[1]]) if single is not None else ([], [])


class CohortIndex:
    """Everything a cohort evaluation reads, from one read of a ``CohortSource``.

    The source is read and grouped once, here. Each event name's table, each property's timeline and
    the known-at column are built the first time a cohort needs them and then kept, so a source of a million
    profiles and a million events costs for the names and properties cohorts actually use.
    """

    def __init__(self, source: CohortSource) -> None:
        self._events = list(source.events())
        self._rows_by_name: dict[str, list[Event]] = {}
        for event in self._events:
            self._rows_by_name.setdefault(event.name, []).append(event)
        self._changes = list(source.property_changes())
        self._changes_by_property: dict[str, list[PropertyChange]] = {}
        for change in self._changes:
            self._changes_by_property.setdefault(change.property, []).append(change)
        self._tables: dict[str, EventTable] = {}
        self._narrowed: dict[tuple[str, Any], EventTable] = {}
        self._timelines: dict[str, PropertyTimeline] = {}
        self._known: tuple[list[str], list[float]] | None = None
        self._first_known: dict[str, float] | None = None
        self._universe_cache: tuple[float, frozenset[str]] | None = None

    def events(self, name: str, key: Any = None, keep: Callable[[Event], bool] | None = None) -> EventTable:
        """The table of events called ``name``; with ``keep``, those it accepts (cached under ``key``)."""
        table = self._tables.get(name)
        if table is None:
            table = self._tables[name] = EventTable(self._rows_by_name.get(name, []))
        if keep is None:
            return table
        narrowed = self._narrowed.get((name, key))
        if narrowed is None:
            narrowed = self._narrowed[(name, key)] = table.narrowed(keep)
        return narrowed

    def timeline(self, property_name: str) -> PropertyTimeline:
        timeline = self._timelines.get(property_name)
        if timeline is None:
            rows = self._changes_by_property.get(property_name, [])
            timeline = self._timelines[property_name] = PropertyTimeline(rows)
        return timeline

    def property_names(self) -> list[str]:
        return sorted(self._changes_by_property)

    def universe(self, t: float) -> frozenset[str]:
        """Every distinct_id known at t: with an event visible at t or a profile change at or before t."""
        cached = self._universe_cache
        if cached is not None and cached[0] == t:
            return cached[1]
        ids, times = self.known_column()
        universe = frozenset(ids[: bisect_right(times, t)])
        self._universe_cache = (t, universe)
        return universe

    def known_column(self) -> tuple[list[str], list[float]]:
        """Every id once, sorted by when it became known: its first visible event or profile change."""
        if self._known is None:
            first_known = self.first_known
            ids = sorted(first_known, key=first_known.__getitem__)
            self._known = ids, list(map(first_known.__getitem__, ids))
        return self._known

    @property
    def first_known(self) -> dict[str, float]:
        """distinct_id -> the first simulated time it is in the universe."""
        if self._first_known is None:
            events, changes = self._events, self._changes
            ids = list(map(_distinct_id, events))
            times = _visible_column(events, list(map(_time, events))) or list(map(_time, events))
            ids += map(_distinct_id, changes)
            times += map(_time, changes)
            # One pass in listing order (rows of one id sit together in memory), then sort only the ids.
            known: dict[str, float] = {}
            get = known.get
            for distinct_id, time in zip(ids, times, strict=True):
                if time < get(distinct_id, inf):
                    known[distinct_id] = time
            self._first_known = known
        return self._first_known

    def all_ids(self) -> list[str]:
        """Every distinct_id the source ever knows."""
        return list(self.first_known)

    def properties_at(self, distinct_id: str, t: float) -> dict[str, Any]:
        """The profile's set properties at t (unset ones left out), by property name."""
        out = {}
        for name in self.property_names():
            value = self.timeline(name).value_at(distinct_id, t)
            if value is not None:
                out[name] = value
        return out


def _histories(ids: list[str], times: list[float], changes: list[PropertyChange],
               rows: list[int]) -> dict[str, tuple[list[float], list[Any]]]:
    """The given rows grouped per id as (sorted distinct times, values); of equal times the later-listed wins."""
    grouped: dict[str, list[tuple[float, Any]]] = {}
    for i in rows:
        group = grouped.get(ids[i])
        if group is None:
            grouped[ids[i]] = [(times[i], changes[i].value)]
        else:
            group.append((times[i], changes[i].value))
    history = {}
    for distinct_id, group in grouped.items():
        group.sort(key=_first)  # stable: of two changes at one time the later-listed stays last
        distinct_times: list[float] = []
        values: list[Any] = []
        for time, value in group:
            if distinct_times and distinct_times[-1] == time:
                values[-1] = value
            else:
                distinct_times.append(time)
                values.append(value)
        history[distinct_id] = (distinct_times, values)
    return history


def _visible_column(rows: list[Event], times: list[float]) -> list[float] | None:
    """When each event becomes visible, or ``None`` when that is its time for all of them."""
    known = list(map(_known_at, rows))
    if known.count(None) == len(known):
        return None
    visible = [k if k is not None and k > t else t for t, k in zip(times, known, strict=True)]
    return None if visible == times else visible
