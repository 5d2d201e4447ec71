"""A user's cohort export as the system under test (DESIGN.md §3, issue 10 item 5): in place of the reference
sync engine, a Python callable `function(cohort, target)` is called at each sync tick (at once, then every
interval for a dynamic sync) with the cohort's membership at that moment and the fake Braze it must update:

    def export(cohort: CohortExport, target: BrazeTarget) -> None:
        # POST {target.base_url}/partners/{target.partner}/cohorts and /cohorts/users with target.data_import_key
        ...

`cohort.members` holds each member's distinct_id and profile properties (where `$braze_external_id` is). A
callable that raises is called again at the next tick. Fake Braze's cohorts and segments are then what the
scenario's expectations look at, exactly as with the reference engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.connectors.agenda import Agenda
from harness.connectors.mixpanel_cohorts import MixpanelCohorts


@dataclass(frozen=True)
class BrazeTarget:
    """What a cohort SUT is told of the fake Braze it exports to."""

    base_url: str
    data_import_key: str = "harness-data-import-key"
    partner: str = "mixpanel"


@dataclass(frozen=True)
class CohortExport:
    """A cohort's membership at one tick: what Mixpanel's Braze export would read."""

    cohort_id: int
    braze_cohort_id: str
    name: str
    at: float
    members: list[dict[str, Any]] = field(default_factory=list)
    """`{"distinct_id": ..., "properties": {...}}` per member, sorted by distinct_id."""


CohortSutCallable = Callable[[CohortExport, BrazeTarget], object]


@dataclass
class CohortCall:
    cohort_id: int
    at: float
    members: int
    error: str | None = None


class CallableCohortSync:
    """Calls the SUT for each synced cohort at its ticks on the agenda; keeps a record of every call."""

    def __init__(self, agenda: Agenda, cohorts: MixpanelCohorts, function: CohortSutCallable, target: BrazeTarget,
                 *, braze_cohort_id: Callable[[int], str], default_interval_s: float) -> None:
        self.agenda, self.cohorts, self.function, self.target = agenda, cohorts, function, target
        self.braze_cohort_id = braze_cohort_id
        self.default_interval_s = default_interval_s
        self.calls: list[CohortCall] = []
        self._owner = object()

    def start(self, cohort_id: int, *, dynamic: bool, interval_s: float | None = None) -> None:
        """The first call now; a dynamic export is called again every interval."""
        self._tick(cohort_id)
        if dynamic:
            interval = interval_s or self.default_interval_s
            self._schedule(cohort_id, self.agenda.clock.now() + interval, interval)

    def close(self) -> None:
        self.agenda.cancel(self._owner)

    def _schedule(self, cohort_id: int, when: float, interval: float) -> None:
        def run() -> None:
            self._tick(cohort_id)
            self._schedule(cohort_id, when + interval, interval)
        self.agenda.call_at(when, run, label=f"cohort-sut {cohort_id}", owner=self._owner)

    def _tick(self, cohort_id: int) -> None:
        at = self.agenda.clock.now()
        info = self.cohorts.cohort(cohort_id, at)
        if info is None or info.deleted:
            return
        members = [{"distinct_id": m.distinct_id, "properties": dict(m.properties)}
                   for m in self.cohorts.members(cohort_id, at)]
        export = CohortExport(cohort_id, self.braze_cohort_id(cohort_id), info.name, at, members)
        call = CohortCall(cohort_id, at, len(members))
        try:
            self.function(export, self.target)
        except Exception as exc:  # the SUT's failure is recorded; it is called again at the next tick
            call.error = f"{type(exc).__name__}: {exc}"
        self.calls.append(call)
