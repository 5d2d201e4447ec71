"""Many records in, Mixpanel NDJSON out: the engine of `harness map`, optionally over worker processes.

NDJSON input is cut into chunks at line ends; each chunk is parsed, mapped and serialised on its own
(`map_ndjson_chunk`), in this process or in a pool of worker processes, and the outputs are written in input
order, so the result is byte-for-byte the same whatever the number of jobs. Other formats (a JSON document,
Avro) are mapped record by record in this process (`map_records`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from harness.currents_io.normalise import TYPE_KEY
from harness.currents_io.readers import iter_ndjson, ndjson_chunks
from harness.mapping.cache import DEFAULT_CACHE, PlanCache
from harness.mapping.config import MappingConfig
from harness.mapping.mapper import map_currents_event
from harness.mapping.report import MappingReport
from harness.mapping.result import NO_WARNINGS, REASON_INVALID_RECORD, MappingResult

CHUNK_BYTES = 1 << 21  # ~2 MB of NDJSON per task: large enough to amortise the hand-over to a worker
PARALLEL_MIN_BYTES = 8 << 20  # below this, starting workers costs more than it saves
MAX_AUTO_JOBS = 4
WARNING_UNWRITABLE_EVENT = "unwritable_event"


@dataclass
class ChunkOutcome:
    """What mapping one chunk produced: NDJSON bytes, counts, and the malformed lines it found."""

    output: bytes
    report: MappingReport
    malformed: list[tuple[int, str]] = field(default_factory=list)
    malformed_count: int = 0


def serialise_event(event: dict[str, Any]) -> bytes | None:
    """One NDJSON line; None for an event no JSON encoder can write (nesting beyond recursion limits)."""
    try:
        return orjson.dumps(event, option=orjson.OPT_APPEND_NEWLINE)
    except (TypeError, orjson.JSONEncodeError):  # e.g. integers beyond 64 bits, nesting beyond 255
        try:
            return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
        except (RecursionError, ValueError, TypeError):
            return None


def map_records(records: Iterable[tuple[Any, int | None]], config: MappingConfig, report: MappingReport,
                write: Callable[[bytes], Any], storage_json: bool = False, cache: PlanCache = DEFAULT_CACHE) -> None:
    """Map `(record, size)` pairs, writing one NDJSON line per Mixpanel event and counting into `report`."""
    add = report.add
    dumps = orjson.dumps
    option = orjson.OPT_APPEND_NEWLINE
    for record, size in records:
        result = map_currents_event(record, config, cache, size=size, storage_json=storage_json)
        add(result)
        event = result.event
        if event is not None:
            try:
                write(dumps(event, option=option))
            except (TypeError, orjson.JSONEncodeError):
                line = serialise_event(event)
                if line is None:
                    report.warnings[WARNING_UNWRITABLE_EVENT] += 1
                else:
                    write(line)


def map_ndjson_chunk(chunk: bytes, first_line: int, type_hint: str | None, config: MappingConfig,
                     cache: PlanCache = DEFAULT_CACHE) -> ChunkOutcome:
    """Parse, map and serialise one chunk of NDJSON (records read raw: Custom HTTP or storage JSON).

    The same as `map_records(iter_ndjson(chunk, raw=True, ...), config, ..., storage_json=True)` (kept as
    `map_ndjson_chunk_reference`; a test compares both byte for byte) with the per-record Python work cut:
    compiled runners are called directly by type, the line length is the E12 size, and a plain mapped event
    is counted in locals merged into the report once per chunk."""
    outcome = ChunkOutcome(b"", MappingReport())
    report = outcome.report
    add = report.add
    parts: list[bytes] = []
    append = parts.append
    loads = orjson.loads
    dumps = orjson.dumps
    option = orjson.OPT_APPEND_NEWLINE
    decode_error = orjson.JSONDecodeError
    tables = cache.for_config(config)
    http_runners = tables.http
    storage_runners = tables.storage
    names: dict[str, int] = {}
    plain = 0  # mapped events without warnings, counted here instead of through report.add

    for number, line in enumerate(chunk.splitlines(), start=first_line):
        try:
            item = loads(line)
        except decode_error as exc:
            if not line or line.isspace():  # blank lines are skipped, not malformed
                continue
            _note_malformed(outcome, number, str(exc))
            add(_INVALID)
            continue
        if type(item) is not dict:
            _note_malformed(outcome, number, f"expected a JSON object, got {type(item).__name__}")
            add(_INVALID)
            continue
        if type(item.get("user")) is dict:
            runners = http_runners
        else:
            runners = storage_runners
            if type_hint is not None and TYPE_KEY not in item:
                item[TYPE_KEY] = type_hint
        type_id = item.get(TYPE_KEY)
        run = runners.get(type_id) if type(type_id) is str else None
        if run is None:  # first record of its type, or not mappable: the general path (caches the runner)
            result = map_currents_event(item, config, cache, size=len(line), storage_json=True)
        else:
            result = run(item, len(line))
        event = result.event
        if event is None:
            add(result)
            continue
        if result.warnings:
            add(result)
        else:
            plain += 1
            name = event["event"]
            names[name] = names.get(name, 0) + 1
        try:
            append(dumps(event, option=option))
        except (TypeError, orjson.JSONEncodeError):
            serialised = serialise_event(event)
            if serialised is None:
                report.warnings[WARNING_UNWRITABLE_EVENT] += 1
            else:
                append(serialised)
    report.total += plain
    report.mapped += plain
    report.events_by_name.update(names)
    outcome.output = b"".join(parts)
    return outcome


_INVALID = MappingResult(None, REASON_INVALID_RECORD, None, NO_WARNINGS)


def _note_malformed(outcome: ChunkOutcome, number: int, message: str) -> None:
    outcome.malformed_count += 1
    if len(outcome.malformed) < 5:
        outcome.malformed.append((number, message))


def map_ndjson_chunk_reference(chunk: bytes, first_line: int, type_hint: str | None,
                               config: MappingConfig) -> ChunkOutcome:
    """The plain composition `map_ndjson_chunk` must equal: iter_ndjson + map_records (for tests)."""
    outcome = ChunkOutcome(b"", MappingReport())
    parts: list[bytes] = []

    def malformed(number: int, message: str) -> None:
        _note_malformed(outcome, number, message)

    records = iter_ndjson(chunk, first_line=first_line, type_hint=type_hint, raw=True, on_malformed=malformed)
    map_records(records, config, outcome.report, parts.append, storage_json=True)
    outcome.output = b"".join(parts)
    return outcome


# Worker-process state, set once per worker: the config, and with `fork` the whole input (inherited
# copy-on-write, so a task is just a byte range instead of megabytes sent through a pipe).
_worker_config: MappingConfig | None = None
_worker_data: bytes | None = None


def _init_worker(config: MappingConfig, data: bytes | None) -> None:
    global _worker_config, _worker_data
    _worker_config = config
    if data is not None:
        _worker_data = data


def _map_task(task: tuple[Any, int, str | None]) -> ChunkOutcome:
    chunk, first_line, type_hint = task
    assert _worker_config is not None
    if type(chunk) is tuple:  # (start, end) into the inherited input
        assert _worker_data is not None
        chunk = _worker_data[chunk[0]:chunk[1]]
    return map_ndjson_chunk(chunk, first_line, type_hint, _worker_config)


def idle_cpus(cpus: int | None = None, load: float | None = None) -> float:
    """CPUs not busy with other work: the CPU count less the 1-minute load average, this process (running
    while it asks) not counted. Without a load average (not on every platform): every CPU."""
    cpus = cpus if cpus is not None else (os.cpu_count() or 1)
    if load is None:
        try:
            load = os.getloadavg()[0]
        except (AttributeError, OSError):
            return float(cpus)
    return max(0.0, cpus - max(0.0, load - 1.0))


def auto_jobs(size_bytes: int, *, cpus: int | None = None, load: float | None = None) -> int:
    """Worker processes worth starting for an NDJSON input of this size (1 = map in this process).

    Workers spend about a third more CPU than one process on the same input (handing chunks and their
    output through the pool, and slower per core beside each other: bench/bench_map_cli.py --compare-jobs),
    so they pay only for a large input with at least two idle CPUs; on a busy machine one process is faster."""
    if size_bytes < PARALLEL_MIN_BYTES:
        return 1
    idle = int(idle_cpus(cpus, load))
    return min(idle, MAX_AUTO_JOBS) if idle >= 2 else 1


def map_ndjson(data: bytes, type_hint: str | None, config: MappingConfig, jobs: int = 1,
               chunk_bytes: int = CHUNK_BYTES) -> Iterator[ChunkOutcome]:
    """Chunk outcomes of NDJSON `data`, in input order, mapped by `jobs` processes (1 = this process)."""
    ranges = ndjson_chunks(data, chunk_bytes)
    if jobs <= 1:
        for start, end, line in ranges:
            yield map_ndjson_chunk(data[start:end], line, type_hint, config)
        return
    import multiprocessing  # only when workers are wanted: it is slow to import

    fork = "fork" in multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if fork else "spawn")
    if fork:  # workers inherit `data`; initargs are not pickled under fork
        tasks: Iterable[tuple[Any, int, str | None]] = (((s, e), line, type_hint) for s, e, line in ranges)
        initargs: tuple[Any, ...] = (config, data)
    else:
        tasks = ((data[s:e], line, type_hint) for s, e, line in ranges)
        initargs = (config, None)
    with context.Pool(jobs, initializer=_init_worker, initargs=initargs) as pool:
        yield from pool.imap(_map_task, tasks, chunksize=1)
