"""The Braze side: read every Currents file, run the mapping oracle, stage what should have arrived.

The mapping is a pure function (`map_currents_event`), run record by record as a file streams past, one
file per task (so files can be mapped in worker processes, each writing its own staging file); nothing of
a side is kept in memory beyond one file's bytes and one chunk of staged lines per task. Records the
mapping exports nothing for are counted as `not_exported` with their reason; records dated outside the
window as `outside_window`; both are tallied here and never reach the engine.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.catalog import load_catalog
from harness.currents_io import TYPE_KEY, CurrentsInputError, CurrentsReader
from harness.mapping import MappingConfig, map_currents_event
from harness.reconcile.errors import ReconcileInputError
from harness.reconcile.layout import CurrentsFile
from harness.reconcile.properties import compared_properties, time_ms
from harness.reconcile.result import BadLine, Tally
from harness.reconcile.staging import EventSink, StagingWriter
from harness.reconcile.window import TimeWindow

UNKNOWN_TYPE_NAME = "(no type)"


class ExpectedSide:
    """Counts of the Braze side (of one file, or merged over all of them)."""

    def __init__(self, tally: Tally) -> None:
        self.tally = tally
        self.records = 0
        self.not_exported_reasons: Counter = Counter()
        self.bad_lines: list[BadLine] = []
        self.bad_line_count = 0

    def merge(self, other: ExpectedSide) -> None:
        """Add one file's counts (files merged in input order keep the first samples first)."""
        self.tally.merge(other.tally)
        self.records += other.records
        self.not_exported_reasons.update(other.not_exported_reasons)
        self.bad_lines.extend(other.bad_lines)
        self.bad_line_count += other.bad_line_count


def _wrong_kind(item: Any, source: CurrentsFile) -> str | None:
    """Why the first record of a JSON file shows it is not a Currents export, or None."""
    if type(item) is not dict or TYPE_KEY in item or type(item.get("user")) is dict or source.type_from_path:
        return None
    if type(item.get("event")) is str and type(item.get("properties")) is dict:
        return "a Mixpanel export, not Currents records (give it with --mixpanel)"
    return "not a Currents export (the first record names no Currents event type)"


def staging_path(directory: Path, index: int) -> Path:
    """The staging file of the Currents file at `index` (one per file, so files can be mapped in parallel)."""
    return directory / f"expected-{index:07d}.tsv"


def stage_currents_file(index: int, source: CurrentsFile, config: MappingConfig, window: TimeWindow,
                        directory: Path, sample_limit: int) -> ExpectedSide:
    """Map and stage one Currents file into its staging file; returns its counts. Pure apart from reading
    `source` and writing the staging file, so it runs in a worker process as well as in this one."""
    with open(staging_path(directory, index), "wb") as handle:
        writer = StagingWriter(handle)
        side = map_currents_file(index, source, config, window, writer, sample_limit)
        writer.flush()
    return side


def map_currents_file(index: int, source: CurrentsFile, config: MappingConfig, window: TimeWindow,
                      sink: EventSink, sample_limit: int) -> ExpectedSide:
    """Map one Currents file, handing each in-window expected event to `sink`; returns the file's counts."""
    side = ExpectedSide(Tally(sample_limit=sample_limit))
    try:
        reader = CurrentsReader.from_path(source.path, flatten_custom_http=False)
        _stage_records(reader, index, source, config, window, sink, side)
    except CurrentsInputError as exc:
        raise ReconcileInputError(str(exc)) from None
    if reader.malformed_count:
        side.bad_line_count += reader.malformed_count
        side.bad_lines.extend(BadLine(str(source.path), line, why) for line, why in reader.malformed)
    return side


def _stage_records(reader: CurrentsReader, index: int, source: CurrentsFile, config: MappingConfig,
                   window: TimeWindow, sink: EventSink, side: ExpectedSide) -> None:
    catalog = load_catalog()
    tally = side.tally
    contains = window.contains
    add = sink.add
    storage_json = reader.may_hold_unions
    path_type = source.type_from_path if source.type_from_path in catalog else None
    override: bool | None = None  # whether the path's type replaces the records' own (decided once)
    checked = reader.format == "avro"
    number = 0
    for record, size in reader:
        number += 1
        if record is None:  # a malformed NDJSON line, listed by the reader
            continue
        if not checked:
            checked = True
            problem = _wrong_kind(record, source)
            if problem is not None:
                raise ReconcileInputError(f"{source.path}: {problem}")
        if path_type is not None:
            if override is None:  # the schema (or record) names no catalog type: the path does
                override = record.get(TYPE_KEY) not in catalog
            if override:
                record[TYPE_KEY] = path_type
        side.records += 1
        result = map_currents_event(record, config, size=size, storage_json=storage_json)
        event = result.event
        if event is None:
            _not_exported(side, record, result.reason, result.type_id, number, contains, source)
            continue
        properties = event["properties"]
        name = event["event"]
        moment = time_ms(properties.get("time"))
        if moment is None or not contains(moment):
            tally.add("outside_window", name)
            if tally.wants_sample("outside_window"):
                tally.sample("outside_window", {
                    "event": name, "distinct_id": properties.get("distinct_id"), "time": properties.get("time"),
                    "$insert_id": properties.get("$insert_id"),
                    "source": {"side": "currents", "file": str(source.path), "record": number}})
            continue
        add(index, number, name, properties.get("distinct_id"), moment, properties.get("$insert_id"),
            compared_properties(properties))


def _not_exported(side: ExpectedSide, record: Any, reason: str | None, type_id: str | None, number: int,
                  contains: Callable[[int], bool], source: CurrentsFile) -> None:
    tally = side.tally
    name = type_id or UNKNOWN_TYPE_NAME
    moment = time_ms(record.get("time")) if type(record) is dict else None
    if moment is not None and not contains(moment):
        bucket = "outside_window"
    else:
        bucket = "not_exported"
        side.not_exported_reasons[reason or "unknown"] += 1
    tally.add(bucket, name)
    if tally.wants_sample(bucket):
        sample: dict[str, Any] = {"type": type_id, "id": _field(record, "id"),
                                  "external_user_id": _field(record, "external_user_id"),
                                  "time": record.get("time") if type(record) is dict else None}
        if bucket == "not_exported":
            sample["reason"] = reason
        sample["source"] = {"side": "currents", "file": str(source.path), "record": number}
        tally.sample(bucket, sample)


def _field(record: Any, name: str) -> Any:
    """A field of a flat or Custom HTTP record (identity lives under `user` in the latter)."""
    if type(record) is not dict:
        return None
    if name in record:
        return record[name]
    user = record.get("user")
    return user.get(name) if type(user) is dict else None
