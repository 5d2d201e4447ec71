"""Output formats of `harness generate` (DESIGN.md §5, issue 5 §5).

Each writer takes `(type_id, flat record)` pairs from `harness.generate.streams` and writes them in one
format. Output is a pure function of the records: same records, same bytes (the Avro sync marker is
derived from the seed, never random).

* `custom-http`: the Custom HTTP shape (§1), as one JSON array (default) or NDJSON.
* `storage-json`: Avro-decoded JSON with wrapped unions, as in the samples. To a directory: one NDJSON
  file per type, `<type_id>.json`. To one stream: NDJSON with the type id added as `event_type` (a storage
  record does not name its own type; `harness map` reads that key).
* `avro`: one Avro container file per type, `<type_id>.avro`, written with the catalog schema.
* `mixpanel`: NDJSON of Mixpanel events from the reference mapping; records it drops are counted.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from harness.catalog import avro_schema
from harness.generate.records import RecordFactory

FORMATS: tuple[str, ...] = ("custom-http", "storage-json", "avro", "mixpanel")
DIRECTORY_FORMATS = frozenset({"avro"})

Records = Iterable[tuple[str, dict[str, Any]]]
_BATCH = 2048  # events per write: fewer, larger writes


@dataclass(slots=True)
class WriteSummary:
    """What a writer wrote: events per type, files, and what it could not write."""

    written: int = 0
    files: list[str] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)  # reason -> count (e.g. "no_storage_schema", mapping drops)


def _dumps(value: Any) -> bytes:
    return orjson.dumps(value)


def write_custom_http(records: Records, out: BinaryIO, factory: RecordFactory, *, ndjson: bool = False) -> WriteSummary:
    summary = WriteSummary()
    to_http = factory.to_custom_http
    if ndjson:
        dumps = orjson.dumps
        batch: list[bytes] = []
        for type_id, record in records:
            batch.append(dumps(to_http(type_id, record)))
            if len(batch) == _BATCH:
                out.write(b"\n".join(batch) + b"\n")
                summary.written += len(batch)
                batch.clear()
        if batch:
            out.write(b"\n".join(batch) + b"\n")
            summary.written += len(batch)
        return summary
    out.write(b"[")
    for type_id, record in records:
        out.write((b"\n" if not summary.written else b",\n") + _dumps(to_http(type_id, record)))
        summary.written += 1
    out.write(b"\n]\n" if summary.written else b"]\n")
    return summary


def write_storage_json(records: Records, out: BinaryIO, factory: RecordFactory) -> WriteSummary:
    """One stream of NDJSON: each storage record with `event_type` first (types without storage skipped)."""
    summary = WriteSummary()
    for type_id, record in records:
        if not factory.plan(type_id).has_storage_schema:
            summary.skipped["no_storage_schema"] += 1
            continue
        out.write(_dumps({"event_type": type_id, **factory.to_storage_json(type_id, record)}) + b"\n")
        summary.written += 1
    return summary


def write_storage_json_dir(records: Records, directory: Path, factory: RecordFactory,
                           files: AtomicFiles | None = None) -> WriteSummary:
    """A file per type, `<type_id>.json`, one storage-JSON record per line."""
    summary = WriteSummary()
    directory.mkdir(parents=True, exist_ok=True)
    own = files is None
    files = files if files is not None else AtomicFiles()
    handles: dict[str, BinaryIO] = {}
    try:
        for type_id, record in records:
            if not factory.plan(type_id).has_storage_schema:
                summary.skipped["no_storage_schema"] += 1
                continue
            handle = handles.get(type_id)
            if handle is None:
                handle = handles[type_id] = files.open(directory / f"{type_id}.json")
            handle.write(_dumps(factory.to_storage_json(type_id, record)) + b"\n")
            summary.written += 1
        if own:
            files.commit()
    finally:
        if own:
            files.discard()
    summary.files = sorted(str(directory / f"{t}.json") for t in handles)
    return summary


def sync_marker(seed: int, type_id: str) -> bytes:
    """The Avro container's 16-byte sync marker, derived from the seed so output is reproducible."""
    return hashlib.sha256(f"harness-generate:{seed}:{type_id}".encode()).digest()[:16]


def write_avro_dir(records: Records, directory: Path, factory: RecordFactory, *, seed: int,
                   files: AtomicFiles | None = None) -> WriteSummary:
    """A file per type, `<type_id>.avro`, written with `avro_schema(type_id)` (the catalog's Braze schema).

    Streamed: one open Avro writer per type, each holding at most one block (fastavro's `sync_interval`) in
    memory, so any number of events fits; the bytes are those of `fastavro.writer` over the type's records."""
    from fastavro.write import Writer

    summary = WriteSummary()
    own = files is None
    files = files if files is not None else AtomicFiles()
    writers: dict[str, Any] = {}
    written: Counter = Counter()
    try:
        for type_id, record in records:
            if not factory.plan(type_id).has_storage_schema:
                summary.skipped["no_storage_schema"] += 1
                continue
            writer = writers.get(type_id)
            if writer is None:
                directory.mkdir(parents=True, exist_ok=True)
                handle = files.open(directory / f"{type_id}.avro")
                schema = _parsed_schema(type_id)
                writer = writers[type_id] = Writer(handle, schema, sync_marker=sync_marker(seed, type_id))
            writer.write(factory.to_avro_record(type_id, record))
            written[type_id] += 1
        for writer in writers.values():
            writer.flush()
        if own:
            files.commit()
    finally:
        if own:
            files.discard()
    summary.written = sum(written.values())
    summary.files = [str(directory / f"{t}.avro") for t in sorted(writers)]
    return summary


def _parsed_schema(type_id: str) -> Any:
    import fastavro

    return fastavro.parse_schema(avro_schema(type_id))


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class AtomicFiles:
    """Output files that appear whole or not at all: each is written to a hidden temporary file beside its
    target and renamed over it by `commit()`; `discard()` (after an interruption or an error) removes the
    temporary files and leaves any earlier file at the target untouched."""

    def __init__(self) -> None:
        self._open: list[tuple[BinaryIO, str, Path]] = []

    def open(self, target: Path) -> BinaryIO:
        fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
        os.fchmod(fd, 0o666 & ~_umask())  # what open() would have given the file (mkstemp makes it private)
        handle = os.fdopen(fd, "wb")
        self._open.append((handle, temporary, target))
        return handle

    def commit(self) -> None:
        for handle, _, _ in self._open:
            handle.close()
        for _, temporary, target in self._open:
            os.replace(temporary, target)
        self._open.clear()

    def discard(self) -> None:
        for handle, temporary, _ in self._open:
            handle.close()
            with contextlib.suppress(OSError):
                os.unlink(temporary)
        self._open.clear()


def mixpanel_events(records: Records, factory: RecordFactory, config: Any,
                    summary: WriteSummary) -> Iterator[dict[str, Any]]:
    """Map each generated Custom HTTP event through the reference mapping (dropped ones counted by reason)."""
    from harness.mapping import map_currents_event

    for type_id, record in records:
        result = map_currents_event(factory.to_custom_http(type_id, record), config)
        if result.event is not None:
            yield result.event
        else:
            summary.skipped[result.reason] += 1


def write_mixpanel(records: Records, out: BinaryIO, factory: RecordFactory, config: Any) -> WriteSummary:
    summary = WriteSummary()
    for event in mixpanel_events(records, factory, config, summary):
        out.write(_dumps(event) + b"\n")
        summary.written += 1
    return summary


def is_directory_target(path: str) -> bool:
    return path.endswith(("/", os.sep)) or os.path.isdir(path)
