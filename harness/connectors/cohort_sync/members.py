"""Where the engine learns who is in a cohort: the narrow `CohortMembers` protocol, and `InMemoryCohorts`,
a small implementation whose cohorts, names, memberships and profile properties are timelines changed at
simulated times (for tests and scenarios; the cohorts package plugs in behind the same protocol).

The engine asks only three things, always "as of time t": what the cohort is (name, kind, deleted), how
many members it has (the 10 million check comes before anything is listed), and who the members are with
their profile properties at t.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

CohortKind = Literal["user", "group"]


@dataclass(frozen=True)
class CohortInfo:
    """A Mixpanel cohort as of one time (§8.1): its name then, its kind, whether it was deleted by then."""

    cohort_id: int
    name: str
    kind: CohortKind = "user"
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class Member:
    """One cohort member at one time: its distinct_id and its profile properties then."""

    distinct_id: str
    properties: Mapping[str, Any]


class CohortMembers(Protocol):
    """What the sync engine needs to know of Mixpanel's cohorts."""

    def cohort(self, cohort_id: int, at: float) -> CohortInfo | None:
        """The cohort as of `at`; None if it did not exist then."""
        ...

    def count(self, cohort_id: int, at: float) -> int:
        """How many members it has at `at` (before eligibility)."""
        ...

    def members(self, cohort_id: int, at: float) -> Iterable[Member]:
        """Its members at `at`, each with the profile's properties at `at`."""
        ...


class Timeline:
    """A value that changes at simulated times; `at(t)` is the last value set at or before t."""

    __slots__ = ("_times", "_values")

    def __init__(self) -> None:
        self._times: list[float] = []
        self._values: list[Any] = []

    def set(self, t: float, value: Any) -> None:
        i = bisect.bisect_right(self._times, t)
        if i and self._times[i - 1] == t:  # a second change at the same time replaces the first
            self._values[i - 1] = value
            return
        self._times.insert(i, t)
        self._values.insert(i, value)

    def at(self, t: float, default: Any = None) -> Any:
        i = bisect.bisect_right(self._times, t)
        return self._values[i - 1] if i else default


_UNSET = object()


class InMemoryCohorts:
    """Cohorts and profiles as timelines. Every change names its simulated time (`at`):

        cohorts = InMemoryCohorts()
        cohorts.add_cohort(7, "Clicked email", at=t0)
        cohorts.set_properties("d1", {"$braze_external_id": "u1"}, at=t0)
        cohorts.enter(7, ["d1", "d2"], at=t0)
        cohorts.leave(7, ["d2"], at=t0 + 3600)
        cohorts.rename(7, "Clicked email (7 d)", at=t0 + 4000)
    """

    def __init__(self) -> None:
        self._names: dict[int, Timeline] = {}
        self._kinds: dict[int, CohortKind] = {}
        self._deleted_at: dict[int, float] = {}
        self._created_at: dict[int, float] = {}
        self._membership: dict[int, dict[str, Timeline]] = {}
        self._properties: dict[str, dict[str, Timeline]] = {}

    # -- cohorts -------------------------------------------------------------------------------------
    def add_cohort(self, cohort_id: int, name: str, *, at: float, kind: CohortKind = "user") -> None:
        if cohort_id in self._names:
            raise ValueError(f"cohort {cohort_id} exists already")
        if kind not in ("user", "group"):
            raise ValueError(f"a cohort's kind is user or group, got {kind!r}")
        self._names[cohort_id] = Timeline()
        self._names[cohort_id].set(at, name)
        self._kinds[cohort_id] = kind
        self._created_at[cohort_id] = at
        self._membership[cohort_id] = {}

    def rename(self, cohort_id: int, name: str, *, at: float) -> None:
        self._require(cohort_id).set(at, name)

    def delete(self, cohort_id: int, *, at: float) -> None:
        self._require(cohort_id)
        self._deleted_at[cohort_id] = at

    def enter(self, cohort_id: int, distinct_ids: Iterable[str], *, at: float) -> None:
        self._set_membership(cohort_id, distinct_ids, True, at)

    def leave(self, cohort_id: int, distinct_ids: Iterable[str], *, at: float) -> None:
        self._set_membership(cohort_id, distinct_ids, False, at)

    # -- profiles ------------------------------------------------------------------------------------
    def set_properties(self, distinct_id: str, properties: Mapping[str, Any], *, at: float) -> None:
        """Set profile properties from `at` on; a value of None unsets the property."""
        timelines = self._properties.setdefault(distinct_id, {})
        for key, value in properties.items():
            timelines.setdefault(key, Timeline()).set(at, _UNSET if value is None else value)

    def add_profiles(self, profiles: Mapping[str, Mapping[str, Any]], *, at: float) -> None:
        for distinct_id, properties in profiles.items():
            self.set_properties(distinct_id, properties, at=at)

    def properties(self, distinct_id: str, at: float) -> dict[str, Any]:
        out = {}
        for key, timeline in self._properties.get(distinct_id, {}).items():
            value = timeline.at(at, _UNSET)
            if value is not _UNSET:
                out[key] = value
        return out

    # -- CohortMembers -------------------------------------------------------------------------------
    def cohort(self, cohort_id: int, at: float) -> CohortInfo | None:
        names = self._names.get(cohort_id)
        if names is None or at < self._created_at[cohort_id]:
            return None
        deleted_at = self._deleted_at.get(cohort_id)
        return CohortInfo(cohort_id, names.at(at), self._kinds[cohort_id],
                          deleted=deleted_at is not None and deleted_at <= at)

    def count(self, cohort_id: int, at: float) -> int:
        return sum(1 for _ in self._member_ids(cohort_id, at))

    def members(self, cohort_id: int, at: float) -> Iterator[Member]:
        for distinct_id in self._member_ids(cohort_id, at):
            yield Member(distinct_id, self.properties(distinct_id, at))

    # -- inside --------------------------------------------------------------------------------------
    def _member_ids(self, cohort_id: int, at: float) -> Iterator[str]:
        for distinct_id, timeline in self._membership.get(cohort_id, {}).items():
            if timeline.at(at, False):
                yield distinct_id

    def _set_membership(self, cohort_id: int, distinct_ids: Iterable[str], value: bool, at: float) -> None:
        self._require(cohort_id)
        book = self._membership[cohort_id]
        for distinct_id in [distinct_ids] if isinstance(distinct_ids, str) else distinct_ids:
            book.setdefault(distinct_id, Timeline()).set(at, value)

    def _require(self, cohort_id: int) -> Timeline:
        try:
            return self._names[cohort_id]
        except KeyError:
            raise KeyError(f"no cohort {cohort_id}") from None
