"""Scenarios (DESIGN.md §3, §5, §7): files checked against `scenarios/scenario.schema.json`, each case run on a
fresh fleet with its own clock through the pipeline (both data flows end to end), steps and expectations as
small registries, systems under test as plug-ins, the runner behind `harness run` and its reports.

    from harness.scenarios import RunOptions, load_cases, run_scenarios, select
    result = run_scenarios(select(load_cases(["scenarios/"]), tags=["cohort-sync"]), RunOptions(jobs=2))
    result.ok, result.counts, result.cases[0].failure_text()
"""

from harness.scenarios.cohort_sut import BrazeTarget, CohortExport
from harness.scenarios.execution import run_case
from harness.scenarios.library import bundled_scenarios_dir
from harness.scenarios.loader import Case, load_cases, load_file
from harness.scenarios.observation import Observation
from harness.scenarios.pipeline import CohortSpec, Pipeline, PipelineConfig, PipelineUser, run_pipeline
from harness.scenarios.results import CaseResult, Outcome, RunResult
from harness.scenarios.runner import RunOptions, run_scenarios, select
from harness.scenarios.source import ScenarioError
from harness.scenarios.sut import (
    CallableCurrent,
    CallableSut,
    HttpSut,
    ReferenceSut,
    SutTarget,
    SystemUnderTest,
    load_sut,
)

__all__ = ["BrazeTarget", "CallableCurrent", "CallableSut", "Case", "CaseResult", "CohortExport", "CohortSpec",
           "HttpSut", "Observation", "Outcome", "Pipeline", "PipelineConfig", "PipelineUser", "ReferenceSut",
           "RunOptions", "RunResult", "ScenarioError", "SutTarget", "SystemUnderTest", "bundled_scenarios_dir",
           "load_cases", "load_file", "load_sut", "run_case", "run_pipeline", "run_scenarios", "select"]
