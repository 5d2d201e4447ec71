"""Assertion helpers for tests written in Python against the pipeline: each raises `AssertionError` with the
same readable diff the scenario runner prints.

    observation = run_pipeline(PipelineConfig(seed=7))
    assert_matches_oracle(observation)
    assert_segment(pipeline, 42, equals=["u1", "u2"], at=t0 + 7200)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from harness.scenarios.matching import id_set_diff
from harness.scenarios.observation import Observation
from harness.scenarios.pipeline import Pipeline


def assert_matches_oracle(observation: Observation) -> None:
    """What arrived in fake Mixpanel is, event by event, what the reference mapping says should have."""
    if not observation.matches_oracle():
        raise AssertionError("what arrived in fake Mixpanel differs from the reference mapping:\n"
                             + observation.diff_text())


def _members_check(what: str, actual: Iterable[str], **spec: Any) -> None:
    lines = id_set_diff(actual, {k: v for k, v in spec.items() if v is not None})
    if lines:
        raise AssertionError(f"{what}:\n  " + "\n  ".join(lines))


def assert_segment(pipeline: Pipeline, cohort_id: int, *, at: float | None = None,
                   equals: Iterable[str] | None = None, includes: Iterable[str] | None = None,
                   excludes: Iterable[str] | None = None, count: int | None = None,
                   filter: str = "includes") -> None:
    """Fake Braze's segment "Mixpanel Cohorts includes <cohort>" (external ids) at `at` (default now)."""
    at = pipeline.fleet.clock.now() if at is None else at
    braze_id = pipeline.engine.config.braze_cohort_id(cohort_id)
    answer = pipeline.session.post(f"{pipeline.braze_url}/_harness/segments/evaluate",
                                   json={"filter": {"mixpanel_cohorts": {filter: braze_id}}, "at": at}, timeout=30)
    answer.raise_for_status()
    members = [str(m.get("external_id") or m.get("braze_id")) for m in answer.json()["members"]]
    _members_check(f"segment 'Mixpanel Cohorts {filter} {braze_id}' at {at}", members,
                   equals=list(equals) if equals is not None else None,
                   includes=list(includes) if includes is not None else None,
                   excludes=list(excludes) if excludes is not None else None, count=count)


def assert_cohort_members(pipeline: Pipeline, cohort_id: int, *, at: float | None = None,
                          equals: Iterable[str] | None = None, includes: Iterable[str] | None = None,
                          excludes: Iterable[str] | None = None, count: int | None = None) -> None:
    """The Mixpanel cohort's members (distinct_ids) at `at` (default now)."""
    at = pipeline.fleet.clock.now() if at is None else at
    _members_check(f"cohort {cohort_id} at {at}", pipeline.note_members(cohort_id, at),
                   equals=list(equals) if equals is not None else None,
                   includes=list(includes) if includes is not None else None,
                   excludes=list(excludes) if excludes is not None else None, count=count)
