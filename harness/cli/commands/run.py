"""`harness run [PATH ...]`: run scenario files (default: the bundled library) and report (DESIGN.md §5).

    harness run                                   # every bundled scenario
    harness run scenarios/ec_10*.yaml -k ec_10 --seed 3 --sut mypkg.connector:deliver -j auto
    harness run --tag cohort-sync --junit out/junit.xml --json out/run.json --html out/run.html
    harness run --last-failed

Exit status: 0 every case passed, 1 some failed (or crashed), 2 bad input (a malformed scenario file, a bad
option or --sut): one line naming the file, the line and the key.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from harness.cli.errors import CliError
from harness.cli.terminal import progress_enabled
from harness.scenarios.library import bundled_scenarios_dir
from harness.scenarios.loader import load_cases
from harness.scenarios.reports import REPORT_WRITERS, ReportError
from harness.scenarios.results import CaseResult, RunResult
from harness.scenarios.runner import (
    RunOptions,
    auto_jobs,
    read_last_failed,
    run_scenarios,
    save_last_failed,
    select,
)
from harness.scenarios.source import ScenarioError
from harness.scenarios.sut import SutSpecError, load_callable, load_sut

SYMBOLS = {"passed": ".", "failed": "F", "error": "E"}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run", help="run scenario files (default: the bundled library) and report",
        description="Run scenarios: each case on a fresh fleet of fakes with its own simulated clock, seeded. "
                    "Exit status 0 all passed, 1 some failed, 2 bad input.")
    parser.add_argument("paths", nargs="*", metavar="PATH", help="scenario files or folders (default: bundled)")
    parser.add_argument("-k", dest="keyword", metavar="PATTERN",
                        help="only cases whose id contains PATTERN (or matches it, with * ? [ ])")
    parser.add_argument("--tag", dest="tags", action="append", default=[], metavar="TAG",
                        help="only cases with this tag (repeatable: all of them)")
    parser.add_argument("--seed", type=int, default=None, help="override every case's seed")
    parser.add_argument("--sut", default=None, metavar="SPEC",
                        help="the Currents leg under test: reference (default), module:function, or an "
                             "http(s):// URL fed by the Custom HTTP Current")
    parser.add_argument("--sut-token", default=None, metavar="TOKEN",
                        help="Authorization: Bearer token sent to an HTTP --sut")
    parser.add_argument("--cohort-sut", default=None, metavar="MODULE:FUNCTION",
                        help="the cohort leg under test: function(cohort, target) called at each sync tick in place "
                             "of the reference sync engine")
    parser.add_argument("--mixpanel-port", type=int, default=0, metavar="PORT",
                        help="with an HTTP --sut: the loopback port of fake Mixpanel it delivers to (0: any free)")
    parser.add_argument("-j", "--jobs", default="1", metavar="N|auto", help="parallel processes (default 1)")
    parser.add_argument("--list", dest="list_only", action="store_true", help="list the selected cases; run nothing")
    parser.add_argument("--last-failed", "--lf", dest="last_failed", action="store_true",
                        help="only the cases that failed last time (in this folder)")
    parser.add_argument("--junit", type=Path, metavar="FILE", help="write a JUnit XML report")
    parser.add_argument("--json", dest="json_report", type=Path, metavar="FILE", help="write a JSON report")
    parser.add_argument("--html", type=Path, metavar="FILE", help="write a self-contained HTML report")
    parser.add_argument("-q", "--quiet", action="store_true", help="only the summary and failures")
    parser.set_defaults(func=run_command)


def _jobs(text: str) -> int:
    if text == "auto":
        return auto_jobs()
    try:
        jobs = int(text)
    except ValueError:
        raise CliError(f"-j: expected a number or auto, got {text!r}") from None
    if jobs < 1:
        raise CliError(f"-j: expected at least 1, got {jobs}")
    return jobs


def run_command(args: argparse.Namespace) -> int:
    jobs = _jobs(args.jobs)
    try:
        sut = load_sut(args.sut, bearer_token=args.sut_token) if args.sut else None
        cohort_sut = load_callable(args.cohort_sut, "--cohort-sut") if args.cohort_sut else None
    except SutSpecError as exc:
        raise CliError(str(exc)) from None
    paths = args.paths or [bundled_scenarios_dir()]
    try:
        cases = load_cases(paths)
    except ScenarioError as exc:
        raise CliError(str(exc)) from None
    if not cases:
        where = ", ".join(str(p) for p in paths)
        raise CliError(f"no scenario files (*.yaml, *.yml) under {where}")
    only = None
    if args.last_failed:
        only = read_last_failed()
        if only is None:
            print("harness run: no failures remembered here; running everything selected", file=sys.stderr)
    selected = select(cases, keyword=args.keyword, tags=args.tags, only=only, any_sut=sut is not None,
                      any_cohort_sut=cohort_sut is not None)
    if args.list_only:
        for case in selected:
            tags = f"  [{', '.join(case.tags)}]" if case.tags else ""
            print(f"{case.case_id}  {case.file}{tags}")
        print(f"{len(selected)} of {len(cases)} cases selected", file=sys.stderr)
        return 0
    if not selected:
        print(f"harness run: no case selected (of {len(cases)})", file=sys.stderr)
        return 1
    for name, path in (("junit", args.junit), ("json", args.json_report), ("html", args.html)):
        if path is not None and not path.parent.exists():
            raise CliError(f"--{name} {path}: folder {path.parent} does not exist")
    options = RunOptions(sut=sut or RunOptions().sut, sut_spec=args.sut, seed=args.seed, jobs=jobs,
                         mixpanel_port=args.mixpanel_port, cohort_sut=cohort_sut, cohort_sut_spec=args.cohort_sut)
    progress = Progress(sys.stderr, total=len(selected), quiet=args.quiet)
    result = run_scenarios(selected, options, on_result=progress.heard)
    progress.done()
    save_last_failed(result)
    _report_failures(result, sys.stderr)
    _write_reports(result, args)
    _summary(result, sys.stderr)
    return 0 if result.ok else 1


class Progress:
    """One character per case on a terminal (. F E); a line per case when not a terminal, unless quiet."""

    def __init__(self, stream: TextIO, *, total: int, quiet: bool) -> None:
        self.stream, self.total, self.quiet = stream, total, quiet
        self.tty = progress_enabled(stream)
        self.count = 0

    def heard(self, result: CaseResult) -> None:
        self.count += 1
        if self.tty:
            self.stream.write(SYMBOLS[result.status])
            if self.count % 60 == 0 or self.count == self.total:
                self.stream.write(f" [{self.count}/{self.total}]\n")
            self.stream.flush()
        elif not self.quiet:
            self.stream.write(f"{result.status.upper():6} {result.case_id} ({result.wall_s:.2f} s)\n")

    def done(self) -> None:
        if self.tty and self.count % 60:
            self.stream.write("\n")


def _report_failures(result: RunResult, stream: TextIO) -> None:
    for case in result.cases:
        if case.passed:
            continue
        stream.write(f"\n{case.status.upper()}: {case.case_id} ({case.file}, seed {case.seed}, sut {case.sut})\n")
        for line in case.failure_text().splitlines():
            stream.write(f"  {line}\n")
        stream.write(f"  replay: {case.replay}\n")


def _write_reports(result: RunResult, args: argparse.Namespace) -> None:
    for name, path in (("junit", args.junit), ("json", args.json_report), ("html", args.html)):
        if path is None:
            continue
        try:
            REPORT_WRITERS[name].write(result, path)
        except (OSError, ReportError) as exc:
            raise CliError(f"--{name} {path}: cannot write the report ({exc})") from None


def _summary(result: RunResult, stream: TextIO) -> None:
    counts = result.counts
    parts = [f"{counts['passed']} passed"]
    if counts["failed"]:
        parts.append(f"{counts['failed']} failed")
    if counts["error"]:
        parts.append(f"{counts['error']} errors")
    stream.write(f"{', '.join(parts)} in {result.wall_s:.2f} s (sut: {result.sut})\n")
