"""Membership of one partner cohort as history (braze-cohort-sync.md §4.9).

Per profile a list of half-open intervals ``[added_at, removed_at)``; the last one may be open.
"Current member" means the last interval is open, whatever its start time (an add stamped with
``segments.lag_s`` is already a member for set semantics, visible to segments only from its stamp).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Interval:
    start: float
    end: float | None = None

    def contains(self, t: float) -> bool:
        return self.start <= t and (self.end is None or t < self.end)

    def to_json(self) -> dict:
        return {"added_at": self.start, "removed_at": self.end}


@dataclass
class CohortMembership:
    history: dict[str, list[Interval]] = field(default_factory=dict)
    current: set[str] = field(default_factory=set)
    dirty: set[str] = field(default_factory=set)  # changed since persistence last took them (--state-dir)

    def is_member(self, braze_id: str) -> bool:
        return braze_id in self.current

    def add(self, braze_id: str, at: float) -> bool:
        """Open an interval; False (no-op) when already a member."""
        if braze_id in self.current:
            return False
        self.history.setdefault(braze_id, []).append(Interval(at))
        self.current.add(braze_id)
        self.dirty.add(braze_id)
        return True

    def remove(self, braze_id: str, at: float) -> bool:
        """Close the open interval; False (no-op) when not a member."""
        if braze_id not in self.current:
            return False
        last = self.history[braze_id][-1]
        last.end = max(at, last.start)  # a clock set backwards never yields a negative interval
        self.current.discard(braze_id)
        self.dirty.add(braze_id)
        return True

    def transfer(self, from_id: str, into_id: str, at: float) -> None:
        """A merged-away profile's open membership continues on the surviving profile (§6 merge)."""
        if from_id in self.current:
            self.remove(from_id, at)
            self.add(into_id, at)

    def member_at(self, braze_id: str, t: float) -> bool:
        return any(i.contains(t) for i in self.history.get(braze_id, ()))

    def members_at(self, t: float | None = None) -> set[str]:
        if t is None:
            return set(self.current)
        return {bid for bid, intervals in self.history.items() if any(i.contains(t) for i in intervals)}

    def intervals(self, braze_id: str) -> list[Interval]:
        return list(self.history.get(braze_id, ()))

    def __len__(self) -> int:
        return len(self.current)
