"""`harness run` as a library: select cases, run each isolated (its own fleet and clock), in parallel over
processes, remember what failed, and say how to replay a failure exactly.

    result = run_scenarios(select(load_cases(["scenarios/"]), keyword="ec_1*"), jobs=2)
    result.ok, result.counts
"""

from __future__ import annotations

import fnmatch
import json
import multiprocessing
import os
import shlex
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from fakes.fleet import FleetMode, ServerOptions
from harness.scenarios.cohort_sut import CohortSutCallable
from harness.scenarios.execution import run_case
from harness.scenarios.loader import Case
from harness.scenarios.results import CaseResult, RunResult
from harness.scenarios.sut import HttpSut, ReferenceSut, SystemUnderTest, load_sut

CACHE_DIR = ".harness-cache"
LAST_FAILED = "lastfailed.json"


@dataclass(frozen=True)
class RunOptions:
    """How cases run: the SUT (`--sut` text, for the replay line, and the object), a seed override, the
    fleet's mode and ports, and parallelism."""

    sut: SystemUnderTest = ReferenceSut()
    sut_spec: str | None = None
    cohort_sut: CohortSutCallable | None = None
    """A user's cohort export in place of the reference sync engine (cases about the cohort leg)."""
    cohort_sut_spec: str | None = None
    seed: int | None = None
    jobs: int = 1
    mixpanel_port: int = 0

    @property
    def mode(self) -> FleetMode:
        # An HTTP SUT is a separate service: it reaches fake Mixpanel over a socket.
        return "loopback" if isinstance(self.sut, HttpSut) else "in-process"

    @property
    def servers(self) -> ServerOptions | None:
        return ServerOptions(ports={"mixpanel": self.mixpanel_port}) if self.mode == "loopback" else None


def select(cases: Iterable[Case], *, keyword: str | None = None, tags: Sequence[str] = (),
           only: Iterable[str] | None = None, any_sut: bool = False, any_cohort_sut: bool = False) -> list[Case]:
    """Cases whose id matches `keyword` (a `*` pattern, or a substring), that carry every tag in `tags`, whose
    id is in `only` (e.g. the last failures), and, with a SUT given, that are about its leg (`any_sut`: the
    Currents leg; `any_cohort_sut`: the cohort leg; both: either)."""
    wanted = set(only) if only is not None else None
    cases = list(cases)
    if keyword and any(case.case_id == keyword for case in cases):
        keyword_exact = keyword  # a whole case id (as replay commands give it) selects that case alone
        cases = [case for case in cases if case.case_id == keyword_exact]
        keyword = None
    out = []
    for case in cases:
        if keyword and not _matches(case, keyword):
            continue
        if tags and not set(tags) <= set(case.tags):
            continue
        if wanted is not None and case.case_id not in wanted:
            continue
        if (any_sut or any_cohort_sut) and not (any_sut and case.about_currents
                                                 or any_cohort_sut and case.about_cohort_leg):
            continue
        out.append(case)
    return out


def _matches(case: Case, keyword: str) -> bool:
    if any(c in keyword for c in "*?["):
        return fnmatch.fnmatchcase(case.case_id, keyword) or fnmatch.fnmatchcase(case.name, keyword)
    return keyword in case.case_id


def replay_command(case: Case, options: RunOptions) -> str:
    """The one command that replays `case` exactly (same file, case, seed and SUT)."""
    seed = case.seed if options.seed is None else options.seed
    parts = ["harness", "run", case.file, "-k", case.case_id, "--seed", str(seed)]
    if options.sut_spec and options.sut_spec != "reference":
        parts += ["--sut", options.sut_spec]
    if options.cohort_sut_spec:
        parts += ["--cohort-sut", options.cohort_sut_spec]
    if options.mode == "loopback" and options.mixpanel_port:
        parts += ["--mixpanel-port", str(options.mixpanel_port)]
    return shlex.join(parts)


def run_one(case: Case, options: RunOptions) -> CaseResult:
    """Run one case: `--sut` applies to the cases about the Currents leg; otherwise a case's own `sut`."""
    if options.sut_spec is None and case.data.get("sut", "reference") != "reference":
        options = replace(options, sut=load_sut(case.data["sut"]), sut_spec=case.data["sut"])
    elif options.sut_spec is not None and not case.about_currents:
        options = replace(options, sut=ReferenceSut(), sut_spec=None)
    if options.cohort_sut is not None and not case.about_cohort_leg:
        options = replace(options, cohort_sut=None, cohort_sut_spec=None)
    return run_case(case, sut=options.sut, seed=options.seed, mode=options.mode, servers=options.servers,
                    replay=replay_command(case, options), cohort_sut=options.cohort_sut)


# The cases and options of a parallel run, inherited by forked workers (an SUT object need not pickle).
_WORK: tuple[list[Case], RunOptions] | None = None


def _run_index(index: int) -> dict[str, Any]:
    assert _WORK is not None
    cases, options = _WORK
    return run_one(cases[index], options).to_json()


def run_scenarios(cases: Sequence[Case], options: RunOptions | None = None, *,
                  on_result: Callable[[CaseResult], None] | None = None) -> RunResult:
    """Run `cases` (results in the same order); `on_result` hears each as it finishes."""
    global _WORK
    options = options or RunOptions()
    started = time.perf_counter()
    jobs = max(1, min(options.jobs, len(cases)))
    if options.mode == "loopback" and options.mixpanel_port:
        jobs = 1  # one fixed port cannot serve two fleets at once
    results: list[CaseResult | None] = [None] * len(cases)
    if jobs == 1 or "fork" not in multiprocessing.get_all_start_methods():
        for i, case in enumerate(cases):
            results[i] = run_one(case, options)
            if on_result:
                on_result(results[i])  # type: ignore[arg-type]
    else:
        _WORK = (list(cases), options)
        try:
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
                for i, data in zip(range(len(cases)), pool.map(_run_index, range(len(cases))), strict=True):
                    results[i] = CaseResult.from_json(data)
                    if on_result:
                        on_result(results[i])  # type: ignore[arg-type]
        finally:
            _WORK = None
    return RunResult([r for r in results if r is not None], wall_s=time.perf_counter() - started,
                     seed=options.seed, sut=options.sut.label)


def auto_jobs() -> int:
    """`-j auto`: one worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


# -- --last-failed -------------------------------------------------------------------------------------
def last_failed_path(root: Path | None = None) -> Path:
    return (root or Path.cwd()) / CACHE_DIR / LAST_FAILED


def save_last_failed(result: RunResult, root: Path | None = None) -> None:
    """Remember the failures of this run (cases that passed now are forgotten; others stay)."""
    path = last_failed_path(root)
    known = set(read_last_failed(root) or [])
    for case in result.cases:
        if case.passed:
            known.discard(case.case_id)
        else:
            known.add(case.case_id)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(sorted(known), indent=1) + "\n", encoding="utf-8")
    except OSError:
        pass  # a read-only folder only loses the --last-failed memory


def read_last_failed(root: Path | None = None) -> list[str] | None:
    try:
        data = json.loads(last_failed_path(root).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return [str(x) for x in data] if isinstance(data, list) else None
