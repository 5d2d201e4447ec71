"""Scenarios: the bundled library, the pipeline that runs both data flows end to end (DESIGN.md §3), its
observation and the system-under-test adapter; the scenario model, loader and runner of DESIGN.md §7 grow here."""

from harness.scenarios.library import bundled_scenarios_dir
from harness.scenarios.observation import Observation
from harness.scenarios.pipeline import CohortSpec, Pipeline, PipelineConfig, run_pipeline
from harness.scenarios.sut import CallableCurrent, SutTarget

__all__ = ["CallableCurrent", "CohortSpec", "Observation", "Pipeline", "PipelineConfig", "SutTarget",
           "bundled_scenarios_dir", "run_pipeline"]
