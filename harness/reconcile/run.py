"""One reconciliation, end to end: find the files, stage both sides, let the engine join them, gather the result.

    result = reconcile(["exports/currents/"], ["mixpanel-export.jsonl.gz"], MappingConfig(), TimeWindow())

Stages run one after the other in one process: the Braze side (read, map, stage), the Mixpanel side (read,
stage), then the engine. Everything on disk lives in one temporary directory of the run (under `workdir`
when given), removed at the end.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from harness.mapping import MappingConfig
from harness.reconcile.duckdb_engine import DEFAULT_MEMORY_LIMIT, DuckDBEngine
from harness.reconcile.expected import ExpectedSide, stage_expected
from harness.reconcile.found import FoundSide, stage_found
from harness.reconcile.layout import discover_currents_files, discover_export_files
from harness.reconcile.result import DEFAULT_SAMPLES, ReconcileResult, Tally
from harness.reconcile.staging import StagingWriter
from harness.reconcile.window import TimeWindow

ENGINES: tuple[str, ...] = ("duckdb",)
MASKED = "***"  # the project token stays out of reports (DESIGN.md §6: secrets never leak)
Progress = Callable[[str, int], None]  # (stage, records so far)


def reconcile(currents_paths: Iterable[str | os.PathLike[str]], export_paths: Iterable[str | os.PathLike[str]],
              config: MappingConfig, window: TimeWindow | None = None, *, sample_limit: int = DEFAULT_SAMPLES,
              workdir: str | os.PathLike[str] | None = None, memory_limit: str = DEFAULT_MEMORY_LIMIT,
              progress: Progress | None = None) -> ReconcileResult:
    """Compare a Currents export with a Mixpanel raw export. Raises `ReconcileInputError` for unreadable
    input (before or while reading); bad lines are counted in the result instead."""
    window = window or TimeWindow()
    currents_files = discover_currents_files(currents_paths)
    export_files = discover_export_files(export_paths)
    tally = Tally(sample_limit=sample_limit)
    expected_side = ExpectedSide(tally)
    found_side = FoundSide(tally)
    with tempfile.TemporaryDirectory(prefix="harness-reconcile-", dir=workdir) as temporary:
        run_dir = Path(temporary)
        expected_path, found_path = run_dir / "expected.tsv", run_dir / "found.tsv"
        with open(expected_path, "wb") as handle:
            writer = StagingWriter(handle)
            stage_expected(currents_files, config, window, writer, expected_side,
                           None if progress is None else lambda: progress("currents", expected_side.records))
            writer.flush()
        with open(found_path, "wb") as handle:
            writer = StagingWriter(handle)
            stage_found(export_files, window, writer, found_side,
                        None if progress is None else lambda: progress("mixpanel", found_side.rows))
            writer.flush()
        if progress is not None:
            progress("compare", expected_side.records + found_side.rows)
        engine = DuckDBEngine(run_dir, memory_limit=memory_limit)
        engine.compare(expected_path, found_path, tally, [str(f.path) for f in currents_files],
                       [str(p) for p in export_files], config.float_tolerance)
    bad_lines = expected_side.bad_lines + found_side.bad_lines
    return ReconcileResult(
        tally=tally,
        not_exported_reasons=expected_side.not_exported_reasons,
        bad_lines=bad_lines[:20],
        bad_line_count=expected_side.bad_line_count + found_side.bad_line_count,
        inputs={
            "currents": {"files": len(currents_files), "records": expected_side.records,
                         "repeated_records": engine.repeated_currents_records},
            "mixpanel": {"files": len(export_files), "rows": found_side.rows},
        },
        window=window.as_dict(),
        settings={"engine": engine.name, "mapping": {**config.as_dict(), "token": MASKED}},
    )
