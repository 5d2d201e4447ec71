"""What cohorts read: events and profile property timelines, behind one narrow ``CohortSource`` interface.

A source is a snapshot of what Mixpanel holds (braze-cohort-sync.md §8.1): events (name, distinct_id, time in
epoch seconds, properties, and when Mixpanel learnt of the event) and profiles, whose properties are a
timeline of value changes at simulated times. ``InMemoryCohortSource`` is the plain-list implementation that
tests, the scenario pipeline and a reader of fake Mixpanel's deduplicated view fill.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Event:
    """One deduplicated event. ``known_at`` is its ingestion time (``None``: known from ``time`` on); an
    evaluation at t counts the event only once ``time <= t`` and ``known_at <= t``."""

    name: str
    distinct_id: str
    time: float
    properties: Mapping[str, Any] = field(default_factory=dict)
    known_at: float | None = None

    @property
    def visible_from(self) -> float:
        """The first simulated time at which an evaluation sees this event."""
        known = self.known_at
        return self.time if known is None or known < self.time else known


@dataclass(frozen=True, slots=True)
class PropertyChange:
    """A profile property takes ``value`` from ``time`` on; ``None`` unsets it (as ``$unset`` does).
    A profile exists (is known to Mixpanel) from its first change."""

    distinct_id: str
    time: float
    property: str
    value: Any


class CohortSource(Protocol):
    """The read interface cohorts need; nothing else of Mixpanel is visible to them."""

    def events(self) -> Iterable[Event]: ...

    def property_changes(self) -> Iterable[PropertyChange]: ...


class InMemoryCohortSource:
    """A ``CohortSource`` over plain lists. Treat it as immutable once indexed: an index is built from it once."""

    def __init__(self, events: Iterable[Event] = (), property_changes: Iterable[PropertyChange] = ()) -> None:
        self._events = list(events)
        self._changes = list(property_changes)

    def events(self) -> list[Event]:
        return self._events

    def property_changes(self) -> list[PropertyChange]:
        return self._changes

    @classmethod
    def from_records(cls, events: Iterable[Mapping[str, Any]] = (),
                     profiles: Mapping[str, Mapping[str, Any]] | None = None, *,
                     profiles_at: float = 0) -> InMemoryCohortSource:
        """From JSON-like records: events as ``{"event", "distinct_id", "time", "properties"?, "known_at"?}``
        (Mixpanel's export shape with ``distinct_id`` and ``time`` lifted out of ``properties`` also works)
        and profiles as ``{distinct_id: {property: value}}``, all set at ``profiles_at``."""
        built = [event_from_record(record) for record in events]
        return cls(built, profile_changes(profiles or {}, profiles_at))


def event_from_record(record: Mapping[str, Any]) -> Event:
    """``{"event": ..., "distinct_id": ..., "time": ..., "properties": {...}, "known_at": ...}``; ``distinct_id``
    and ``time`` may instead sit in ``properties`` (Mixpanel's shape), where they are left out of the filterable
    properties."""
    properties = dict(record.get("properties") or {})
    distinct_id = record["distinct_id"] if "distinct_id" in record else properties.pop("distinct_id")
    time = record["time"] if "time" in record else properties.pop("time")
    properties.pop("distinct_id", None)
    properties.pop("time", None)
    return Event(record["event"], str(distinct_id), time, properties, record.get("known_at"))


def profile_changes(profiles: Mapping[str, Mapping[str, Any]], time: float) -> list[PropertyChange]:
    """Static profiles ``{distinct_id: {property: value}}`` as changes at one time."""
    return [PropertyChange(distinct_id, time, name, value)
            for distinct_id, properties in profiles.items() for name, value in properties.items()]
