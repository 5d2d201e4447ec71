"""`MixpanelCohorts`: the sync engine's `CohortMembers`, answered by `harness.cohorts` definitions evaluated over
what a `MixpanelReader` reads from a fake Mixpanel (braze-cohort-sync.md §8.1).

Cohorts are defined here (id, name, a DESIGN.md §7.1 definition, each change at a simulated time); their
members at t are the definition evaluated at t over the fake's deduplicated events and profiles, each member
with its profile's properties (where the engine finds `$braze_external_id` or the connection's User ID
Property).

Re-reading: the reader's snapshot is indexed once and reused while the fake's `fingerprint()` (its
`/_harness/stats` counts: stored, deduplicated and quarantined rows, profiles, ingestion requests and
accepted records) stays the same; any ingestion request answered, or a reset, changes it, and the next
question reads and indexes again. Answers for one (cohort, t) are kept for that snapshot, so the engine's
`count` then `members` of one run cost one evaluation.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from harness.cohorts import CohortEvaluator, CohortNode, parse_definition
from harness.connectors.cohort_sync.members import CohortInfo, CohortKind, Member, Timeline
from harness.connectors.mixpanel_reader import MixpanelReader


@dataclass(frozen=True)
class _Version:
    name: str
    node: CohortNode


class MixpanelCohorts:
    """Cohort definitions over a fake Mixpanel, as the sync engine asks for them:

        cohorts = MixpanelCohorts(MixpanelReader(base_url))
        cohorts.define(42, "Clicked email", {"did_event": {"event": "Email Click", "min_count": 1,
                                                           "within_days": 7}}, at=clock.now())
        engine = CohortSyncEngine(fleet.scheduler, cohorts)
    """

    def __init__(self, reader: MixpanelReader, *, profile_ids: Iterable[str] = ()) -> None:
        self.reader = reader
        self.profile_ids = list(profile_ids)
        """Profiles read besides those the events name (the control API cannot list profiles)."""
        self.reads = 0
        """How many times the fake was read and indexed (the fingerprint changed)."""
        self._versions: dict[int, Timeline] = {}
        self._kinds: dict[int, CohortKind] = {}
        self._created_at: dict[int, float] = {}
        self._deleted_at: dict[int, float] = {}
        self._fingerprint: tuple[Any, ...] | None = None
        self._evaluator: CohortEvaluator | None = None
        self._answers: dict[tuple[int, float], frozenset[str]] = {}

    # -- definitions ---------------------------------------------------------------------------------
    def define(self, cohort_id: int, name: str, definition: dict[str, Any] | CohortNode, *, at: float,
               kind: CohortKind = "user") -> None:
        """A new cohort, or (same id) a rename or redefinition from `at` on. A bad definition raises
        `CohortDefinitionError` naming the bad key."""
        node = parse_definition(definition) if isinstance(definition, dict) else definition
        timeline = self._versions.get(cohort_id)
        if timeline is None:
            timeline = self._versions[cohort_id] = Timeline()
            self._created_at[cohort_id] = at
            self._kinds[cohort_id] = kind
        timeline.set(at, _Version(name, node))
        self._answers.clear()

    def delete(self, cohort_id: int, *, at: float) -> None:
        if cohort_id not in self._versions:
            raise KeyError(f"no cohort {cohort_id}")
        self._deleted_at[cohort_id] = at

    def member_ids(self, cohort_id: int, at: float) -> frozenset[str]:
        """The distinct_ids in the cohort at `at` (empty before it existed)."""
        evaluator = self._current_evaluator()
        key = (cohort_id, at)
        found = self._answers.get(key)
        if found is None:
            version = self._version(cohort_id, at)
            found = frozenset() if version is None else evaluator.members(version.node, at)
            self._answers[key] = found
        return found

    # -- CohortMembers -------------------------------------------------------------------------------
    def cohort(self, cohort_id: int, at: float) -> CohortInfo | None:
        version = self._version(cohort_id, at)
        if version is None:
            return None
        deleted_at = self._deleted_at.get(cohort_id)
        return CohortInfo(cohort_id, version.name, self._kinds[cohort_id],
                          deleted=deleted_at is not None and deleted_at <= at)

    def count(self, cohort_id: int, at: float) -> int:
        return len(self.member_ids(cohort_id, at))

    def members(self, cohort_id: int, at: float) -> Iterator[Member]:
        ids = sorted(self.member_ids(cohort_id, at))
        index = self._current_evaluator().index
        for distinct_id in ids:
            yield Member(distinct_id, index.properties_at(distinct_id, at))

    # -- inside --------------------------------------------------------------------------------------
    def _version(self, cohort_id: int, at: float) -> _Version | None:
        timeline = self._versions.get(cohort_id)
        if timeline is None or at < self._created_at[cohort_id]:
            return None
        version: _Version | None = timeline.at(at)
        return version

    def _current_evaluator(self) -> CohortEvaluator:
        fingerprint = self.reader.fingerprint()
        if self._evaluator is None or fingerprint != self._fingerprint:
            self._evaluator = CohortEvaluator(self.reader.cohort_source(self.profile_ids))
            self._fingerprint = fingerprint
            self._answers.clear()
            self.reads += 1
        return self._evaluator
