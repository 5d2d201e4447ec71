"""`ScenarioRun`: a scenario case while it runs, what its steps act on and its expectations look at."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests

from fakes.fleet import FakeFleet
from harness.scenarios.loader import Case
from harness.scenarios.pipeline import CohortSpec, Pipeline
from harness.scenarios.results import CheckResult, StepResult
from harness.scenarios.timespec import parse_time


class ScenarioRun:
    """A case being run: what steps act on and expectations look at."""

    def __init__(self, case: Case, fleet: FakeFleet, pipeline: Pipeline, start: float, base: Path) -> None:
        self.case = case
        self.fleet = fleet
        self.pipeline = pipeline
        self.start = start
        self.base = base
        self.session: requests.Session = pipeline.session
        self.steps: list[StepResult] = []
        self.checks: list[CheckResult] = []
        self.generated_keys: list[str] = []
        self.definitions: dict[int, dict[str, Any]] = {c.cohort_id: c.definition for c in pipeline.config.cohorts}
        """Each cohort's current definition (a rename keeps it, a redefinition replaces it)."""
        self.names: dict[int, str] = {c.cohort_id: c.name for c in pipeline.config.cohorts}
        self.extra_cohorts: list[CohortSpec] = []
        """Cohorts defined by a `sync` step."""

    @property
    def now(self) -> float:
        return self.fleet.clock.now()

    def time(self, value: Any) -> float:
        """A scenario time (offset from the start, or ISO-8601) in epoch seconds."""
        return parse_time(value, self.start)

    def url(self, fake: str, path: str) -> str:
        base = self.pipeline.mixpanel_url if fake == "mixpanel" else self.pipeline.braze_url
        return base + path

    def control(self, fake: str, method: str, path: str, body: Any = None) -> Any:
        """A control-API call that must succeed (the harness's own plumbing, not the thing under test)."""
        answer = self.session.request(method, self.url(fake, path), json=body, timeout=30)
        if answer.status_code >= 300:
            raise RuntimeError(f"{method} {path} on fake {fake} answered {answer.status_code}: {answer.text[:300]}")
        return answer.json() if answer.content else None
