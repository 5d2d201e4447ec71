"""One reconciliation, end to end: find the files, stage both sides, let the engine join them, gather the result.

    result = reconcile(["exports/currents/"], ["mixpanel-export.jsonl.gz"], MappingConfig(), TimeWindow())

The Braze side is mapped one file per task, in this process or in `jobs` worker processes; while workers
map it, this process stages the Mixpanel side. Then the engine joins both. Everything on disk lives in one
temporary directory of the run (under `workdir` when given), removed at the end. Counts and samples do
not depend on the number of jobs: files are merged in input order.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from harness.mapping import MappingConfig
from harness.reconcile.duckdb_engine import DEFAULT_MEMORY_LIMIT, DuckDBEngine
from harness.reconcile.expected import ExpectedSide, stage_currents_file, staging_path
from harness.reconcile.found import FoundSide, stage_found
from harness.reconcile.layout import CurrentsFile, discover_currents_files, discover_export_files
from harness.reconcile.result import DEFAULT_SAMPLES, ReconcileResult, Tally
from harness.reconcile.staging import StagingWriter
from harness.reconcile.window import TimeWindow

ENGINES: tuple[str, ...] = ("duckdb", "dask")
MASKED = "***"  # the project token stays out of reports (DESIGN.md §6: secrets never leak)
MAX_AUTO_JOBS = 4
PARALLEL_MIN_BYTES = 16 << 20  # below this much Currents input, starting workers costs more than it saves
MAX_LISTED_BAD_LINES = 20
Progress = Callable[[str, int], None]  # (stage, records so far)


def auto_jobs(files: list[CurrentsFile]) -> int:
    """Worker processes worth starting for these Currents files (1 = map in this process)."""
    if len(files) < 2:
        return 1
    size = 0
    for source in files:
        try:
            size += source.path.stat().st_size
        except OSError:
            pass
    if size < PARALLEL_MIN_BYTES:
        return 1
    return max(1, min(os.cpu_count() or 1, MAX_AUTO_JOBS, len(files)))


def _task(arguments: tuple[Any, ...]) -> ExpectedSide:
    return stage_currents_file(*arguments)


def _mapped_files(files: list[CurrentsFile], config: MappingConfig, window: TimeWindow, directory: Path,
                  sample_limit: int, jobs: int, between: Callable[[], None]) -> Iterator[ExpectedSide]:
    """Each file's counts in input order; `between` runs in this process while workers map (or after)."""
    tasks = ((index, source, config, window, directory, sample_limit) for index, source in enumerate(files))
    if jobs <= 1:
        between()
        yield from map(_task, tasks)
        return
    import multiprocessing  # only when workers are wanted: it is slow to import

    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    with multiprocessing.get_context(method).Pool(jobs) as pool:
        results = pool.imap(_task, tasks)  # dispatched now, by the pool's own thread
        between()
        yield from results


def reconcile(currents_paths: Iterable[str | os.PathLike[str]], export_paths: Iterable[str | os.PathLike[str]],
              config: MappingConfig, window: TimeWindow | None = None, *, sample_limit: int = DEFAULT_SAMPLES,
              workdir: str | os.PathLike[str] | None = None, memory_limit: str = DEFAULT_MEMORY_LIMIT,
              jobs: int | None = None, engine: str = "duckdb", scheduler: str | None = None,
              progress: Progress | None = None) -> ReconcileResult:
    """Compare a Currents export with a Mixpanel raw export. Raises `ReconcileInputError` for unreadable
    input (before or while reading); bad lines are counted in the result instead. `jobs`: worker processes
    for the Currents side (None = by input size and CPUs). `engine="dask"` runs the stages on Dask instead
    (`scheduler`: a distributed scheduler's address; None = Dask's local processes)."""
    window = window or TimeWindow()
    currents_files = discover_currents_files(currents_paths)
    export_files = discover_export_files(export_paths)
    if engine == "dask":
        from harness.reconcile.dask_engine import DaskEngine

        dask_engine = DaskEngine(scheduler)
        expected, found, tally = dask_engine.run(currents_files, export_files, config, window, sample_limit)
        return _result(tally, expected, found, currents_files, export_files, dask_engine.name,
                       dask_engine.repeated_currents_records, None, window, config)
    if engine != "duckdb":
        raise ValueError(f"unknown engine {engine!r} (known: {', '.join(ENGINES)})")
    jobs = auto_jobs(currents_files) if jobs is None else jobs
    expected_side = ExpectedSide(Tally(sample_limit=sample_limit))
    found_side = FoundSide(Tally(sample_limit=sample_limit))
    with tempfile.TemporaryDirectory(prefix="harness-reconcile-", dir=workdir) as temporary:
        run_dir = Path(temporary)
        found_path = run_dir / "found.tsv"

        def stage_mixpanel_side() -> None:
            with open(found_path, "wb") as handle:
                writer = StagingWriter(handle)
                stage_found(export_files, window, writer, found_side,
                            None if progress is None else lambda: progress("mixpanel", found_side.rows))
                writer.flush()

        for part in _mapped_files(currents_files, config, window, run_dir, sample_limit, jobs, stage_mixpanel_side):
            expected_side.merge(part)
            if progress is not None:
                progress("currents", expected_side.records)
        if progress is not None:
            progress("compare", expected_side.records + found_side.rows)
        tally = expected_side.tally
        tally.merge(found_side.tally)
        duckdb_engine = DuckDBEngine(run_dir, memory_limit=memory_limit)
        duckdb_engine.compare([staging_path(run_dir, index) for index in range(len(currents_files))], [found_path],
                              tally, [str(f.path) for f in currents_files], [str(p) for p in export_files],
                              config.float_tolerance)
    return _result(tally, expected_side, found_side, currents_files, export_files, duckdb_engine.name,
                   duckdb_engine.repeated_currents_records, jobs, window, config)


def _result(tally: Tally, expected_side: ExpectedSide, found_side: FoundSide, currents_files: list[CurrentsFile],
            export_files: list[Path], engine: str, repeated: int, jobs: int | None, window: TimeWindow,
            config: MappingConfig) -> ReconcileResult:
    bad_lines = expected_side.bad_lines + found_side.bad_lines
    currents: dict[str, Any] = {"files": len(currents_files), "records": expected_side.records,
                                "repeated_records": repeated}
    if jobs is not None:
        currents["jobs"] = jobs
    return ReconcileResult(
        tally=tally,
        not_exported_reasons=expected_side.not_exported_reasons,
        bad_lines=bad_lines[:MAX_LISTED_BAD_LINES],
        bad_line_count=expected_side.bad_line_count + found_side.bad_line_count,
        inputs={"currents": currents, "mixpanel": {"files": len(export_files), "rows": found_side.rows}},
        window=window.as_dict(),
        settings={"engine": engine, "mapping": {**config.as_dict(), "token": MASKED}},
    )
