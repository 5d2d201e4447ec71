"""Helpers of the pipeline tests: the behavioural cohort, and its expected members from the oracle alone."""

from __future__ import annotations

import copy
from typing import Any

from harness.catalog import load_catalog
from harness.cohorts import DAY_S
from harness.generate import StreamConfig
from harness.scenarios.observation import Observation
from harness.scenarios.pipeline import CohortSpec, PipelineConfig

EMAIL_CLICK_TYPE = next(t for t in load_catalog().all_types() if t.channel == "email" and t.role == "click")
EMAIL_CLICK = EMAIL_CLICK_TYPE.event_name()  # "Email Click" per the catalog (harness list events)
COHORT_ID = 42
CLICKED_EMAIL = CohortSpec(COHORT_ID, "Clicked an email in the last 7 days",
                           {"did_event": {"event": EMAIL_CLICK, "min_count": 1, "within_days": 7}})
TICK_S = 7200


def config(seed: int = 7, **overrides: Any) -> PipelineConfig:
    """A campaign-heavy stream, so that e-mail clicks are plentiful."""
    values: dict[str, Any] = {"seed": seed, "stream": StreamConfig(events=1200, mix={"campaign": 100.0}),
                              "cohorts": (CLICKED_EMAIL,)}
    values.update(overrides)
    return PipelineConfig(**values)


def expected_clickers(expected: dict[str, dict[str, Any]], t: float, days: int = 7) -> list[str]:
    """Who clicked an e-mail in (t - days, t], from what the mapping says arrived (not from the cohorts code)."""
    return sorted({e["properties"]["distinct_id"] for e in expected.values()
                   if e["event"] == EMAIL_CLICK and t - days * DAY_S < e["properties"]["time"] <= t})


def assert_matches_oracle(observation: Observation) -> None:
    assert observation.expected, "the stream exported nothing: the test would prove nothing"
    assert observation.diff() == [], observation.diff_text()


def click_by(template: dict[str, Any], user: Any, event_id: str, time: float) -> dict[str, Any]:
    """A new Currents e-mail click by `user` at `time`, shaped like a generated one."""
    event = copy.deepcopy(template)
    event["id"] = event_id
    event["time"] = int(time)
    event["user"]["user_id"] = user.user_id
    event["user"]["external_user_id"] = user.external_user_id
    return event
