"""Partner cohorts of one workspace: declaration, names over time, membership and counters.

braze-cohort-sync.md §4.6 (declare / rename, upsert by workspace + partner + cohort_id) and §4.9
(held cohorts, cumulative counters).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .membership import CohortMembership

COUNTERS: tuple[str, ...] = (
    "applied_add", "applied_remove", "noop_add", "noop_remove", "ignored_unknown", "ignored_identified_device",
)


def zero_counters() -> dict[str, int]:
    return dict.fromkeys(COUNTERS, 0)


@dataclass
class PartnerCohort:
    partner: str
    cohort_id: str
    first_seen_at: float
    declared_at: float | None = None  # None: held (§4.9 "hold"), not listed
    created_at: str | None = None  # as received on the wire
    created_at_epoch: float | None = None
    names: list[tuple[float, str]] = field(default_factory=list)  # (at, name), in time order
    membership: CohortMembership = field(default_factory=CohortMembership)
    counters: dict[str, int] = field(default_factory=zero_counters)

    @property
    def declared(self) -> bool:
        return self.declared_at is not None

    @property
    def name(self) -> str | None:
        return self.names[-1][1] if self.names else None

    def declared_by(self, t: float) -> bool:
        return self.declared_at is not None and self.declared_at <= t

    def name_at(self, t: float) -> str | None:
        current = None
        for at, name in self.names:
            if at <= t:
                current = name
        return current

    def declare(self, name: str, created_at: str, created_at_epoch: float, at: float,
                overwrite_created_at: bool) -> str:
        """Upsert (§4.6). Returns what happened: ``created``, ``renamed``, ``unchanged`` or ``declared_held``."""
        if self.declared_at is None:
            # A cohort that already has history was held (§4.9): it becomes declared with its members.
            outcome = "declared_held" if self.membership.history or any(self.counters.values()) else "created"
            self.declared_at = at
            self.created_at, self.created_at_epoch = created_at, created_at_epoch
            self.names.append((at, name))
            return outcome
        if overwrite_created_at:
            self.created_at, self.created_at_epoch = created_at, created_at_epoch
        if name == self.name:
            return "unchanged"
        self.names.append((at, name))
        return "renamed"

    def add_counts(self, counts: dict[str, int]) -> None:
        for key, value in counts.items():
            self.counters[key] = self.counters.get(key, 0) + value

    def to_json(self, t: float, with_history: bool = False) -> dict:
        data: dict[str, Any] = {
            "cohort_id": self.cohort_id,
            "partner": self.partner,
            "name": self.name_at(t) if self.declared_by(t) else None,
            "created_at": self.created_at,
            "declared": self.declared_by(t),
            "held": not self.declared_by(t),
            "declared_at": self.declared_at,
            "member_count": len(self.membership.members_at(t)),
            "counters": dict(self.counters),
        }
        if with_history:
            data["names"] = [{"at": at, "name": name} for at, name in self.names]
        return data


class CohortBook:
    """Cohorts of one workspace keyed by (partner slug, cohort_id)."""

    def __init__(self) -> None:
        self._cohorts: dict[tuple[str, str], PartnerCohort] = {}

    def get(self, partner: str, cohort_id: str) -> PartnerCohort | None:
        return self._cohorts.get((partner, cohort_id))

    def get_or_create(self, partner: str, cohort_id: str, at: float) -> PartnerCohort:
        cohort = self._cohorts.get((partner, cohort_id))
        if cohort is None:
            cohort = self._cohorts[(partner, cohort_id)] = PartnerCohort(partner, cohort_id, at)
        return cohort

    def of_partner(self, partner: str | None = None) -> list[PartnerCohort]:
        return [c for (p, _), c in self._cohorts.items() if partner is None or p == partner]

    def all(self) -> list[PartnerCohort]:
        return list(self._cohorts.values())

    def profile_deleted(self, braze_id: str, at: float) -> None:
        for cohort in self._cohorts.values():
            cohort.membership.remove(braze_id, at)

    def profile_merged(self, from_id: str, into_id: str, at: float) -> None:
        for cohort in self._cohorts.values():
            cohort.membership.transfer(from_id, into_id, at)
