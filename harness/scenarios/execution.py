"""Running one scenario case: a fresh fleet on its own clock, the pipeline, the steps in order, the
expectations, and a `CaseResult` (never an exception: a crash is a result with status `error` and its
traceback, so a run goes on)."""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from pathlib import Path

from fakes.fleet import FakeFleet, FleetMode, ServerOptions
from harness.scenarios.assembly import fault_rules, pipeline_config, scenario_start
from harness.scenarios.cohort_sut import CohortSutCallable
from harness.scenarios.expectations import run_check
from harness.scenarios.loader import Case
from harness.scenarios.pipeline import Pipeline
from harness.scenarios.results import CaseResult
from harness.scenarios.run_context import ScenarioRun
from harness.scenarios.steps import apply_step
from harness.scenarios.sut import ReferenceSut, SystemUnderTest
from harness.scenarios.timeline import build_timeline, journal_excerpt, summary_of


def run_case(case: Case, *, sut: SystemUnderTest | None = None, seed: int | None = None,
             mode: FleetMode = "in-process", servers: ServerOptions | None = None, replay: str = "",
             on_fleet: Callable[[FakeFleet], None] | None = None,
             cohort_sut: CohortSutCallable | None = None) -> CaseResult:
    """Run one case on a fresh fleet (in-process by default; `loopback` for an HTTP SUT that must reach fake
    Mixpanel over a socket) and return its result."""
    started = time.perf_counter()
    seed = case.seed if seed is None else seed
    sut = sut or ReferenceSut()
    result = CaseResult(case_id=case.case_id, name=case.name, file=case.file, line=case.line_of(("name",)),
                        seed=seed, status="passed", sut=sut.label, description=case.description, tags=case.tags,
                        params=dict(case.params), replay=replay)
    base = Path(case.file).parent
    run: ScenarioRun | None = None
    try:
        with FakeFleet(mode=mode, seed=seed, servers=servers) as fleet:
            if on_fleet is not None:
                on_fleet(fleet)
            run = _prepare(case, fleet, seed=seed, sut=sut, base=base, cohort_sut=cohort_sut)
            result.start = run.start
            try:
                for i, step in enumerate(case.data.get("steps", [])):
                    apply_step(run, step, ("steps", i))
                for i, expectation in enumerate(case.data.get("expect", [])):
                    run_check(run, expectation, ("expect", i))
            finally:
                result.end = run.now
                result.steps, result.checks = run.steps, run.checks
                result.timeline = build_timeline(run)
                result.journal = journal_excerpt(run)
                result.summary = summary_of(run)
                run.pipeline.close()
    except Exception:  # a crashing scenario is a result, and the run goes on
        result.status = "error"
        result.error = traceback.format_exc()
    else:
        if result.failures:
            result.status = "failed"
    result.wall_s = time.perf_counter() - started
    return result


def _prepare(case: Case, fleet: FakeFleet, *, seed: int, sut: SystemUnderTest, base: Path,
             cohort_sut: CohortSutCallable | None) -> ScenarioRun:
    data = case.data
    start = scenario_start(case)
    for fake in ("mixpanel", "braze"):
        settings = data.get("config", {}).get(fake)
        if settings:
            fleet[fake].configure(settings)
        rules = data.get("faults", {}).get(fake)
        if rules:
            fleet[fake].add_faults(fault_rules(rules, start))
    config = pipeline_config(case, seed=seed, sut=sut, base=base, cohort_sut=cohort_sut)
    pipeline = Pipeline(fleet, config)
    run = ScenarioRun(case, fleet, pipeline, start, base)
    fleet.clock.set(start)
    pipeline.start(at=start)
    return run
