"""The Braze side: read every Currents file, run the mapping oracle, stage what should have arrived.

The mapping is a pure function (`map_currents_event`), run here record by record as the files stream past;
nothing of a side is kept in memory beyond one file's bytes and one chunk of staged lines. Records the
mapping exports nothing for are counted as `not_exported` with their reason; records dated outside the
window as `outside_window`; both are tallied here and never reach the engine.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from harness.catalog import load_catalog
from harness.currents_io import TYPE_KEY, CurrentsInputError, CurrentsReader
from harness.mapping import MappingConfig, map_currents_event
from harness.reconcile.errors import ReconcileInputError
from harness.reconcile.layout import CurrentsFile
from harness.reconcile.properties import compared_properties, time_ms
from harness.reconcile.result import BadLine, Tally
from harness.reconcile.staging import StagingWriter
from harness.reconcile.window import TimeWindow

PROGRESS_EVERY = 1 << 16
UNKNOWN_TYPE_NAME = "(no type)"


class ExpectedSide:
    """Counts of the Braze side, filled while staging."""

    def __init__(self, tally: Tally) -> None:
        self.tally = tally
        self.records = 0
        self.not_exported_reasons: Counter = Counter()
        self.bad_lines: list[BadLine] = []
        self.bad_line_count = 0


def _wrong_kind(item: Any, source: CurrentsFile) -> str | None:
    """Why the first record of a JSON file shows it is not a Currents export, or None."""
    if type(item) is not dict or TYPE_KEY in item or type(item.get("user")) is dict or source.type_from_path:
        return None
    if type(item.get("event")) is str and type(item.get("properties")) is dict:
        return "a Mixpanel export, not Currents records (give it with --mixpanel)"
    return "not a Currents export (the first record names no Currents event type)"


def stage_expected(files: list[CurrentsFile], config: MappingConfig, window: TimeWindow, writer: StagingWriter,
                   side: ExpectedSide, progress: Callable[[], None] | None = None) -> None:
    """Map and stage every record of `files` (file index = position in `files`)."""
    catalog = load_catalog()
    tally = side.tally
    contains = window.contains
    add = writer.add
    for index, source in enumerate(files):
        try:
            reader = CurrentsReader.from_path(source.path, flatten_custom_http=False)
        except CurrentsInputError as exc:
            raise ReconcileInputError(str(exc)) from None
        storage_json = reader.may_hold_unions
        path_type = source.type_from_path if source.type_from_path in catalog else None
        override: bool | None = None  # whether the path's type replaces the records' own (decided once)
        checked = reader.format == "avro"
        number = 0
        try:
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
                if progress is not None and not side.records % PROGRESS_EVERY:
                    progress()
                result = map_currents_event(record, config, size=size, storage_json=storage_json)
                event = result.event
                if event is None:
                    _not_exported(side, record, result.reason, result.type_id, index, number, contains, files)
                    continue
                properties = event["properties"]
                name = event["event"]
                moment = time_ms(properties.get("time"))
                if moment is None or not contains(moment):
                    tally.add("outside_window", name)
                    if tally.wants_sample("outside_window"):
                        tally.sample("outside_window", _sample(name, properties, "currents", files[index], number))
                    continue
                add(index, number, name, properties.get("distinct_id"), moment, properties.get("$insert_id"),
                    compared_properties(properties))
        except CurrentsInputError as exc:
            raise ReconcileInputError(str(exc)) from None
        if reader.malformed_count:
            side.bad_line_count += reader.malformed_count
            side.bad_lines.extend(BadLine(str(source.path), line, why) for line, why in reader.malformed)


def _not_exported(side: ExpectedSide, record: Any, reason: str | None, type_id: str | None, index: int,
                  number: int, contains: Callable[[int], bool], files: list[CurrentsFile]) -> None:
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
        sample["source"] = {"side": "currents", "file": str(files[index].path), "record": number}
        tally.sample(bucket, sample)


def _field(record: Any, name: str) -> Any:
    """A field of a flat or Custom HTTP record (identity lives under `user` in the latter)."""
    if type(record) is not dict:
        return None
    if name in record:
        return record[name]
    user = record.get("user")
    return user.get(name) if type(user) is dict else None


def _sample(name: str, properties: dict[str, Any], side: str, source: Any, number: int) -> dict[str, Any]:
    path = getattr(source, "path", source)
    return {"event": name, "distinct_id": properties.get("distinct_id"), "time": properties.get("time"),
            "$insert_id": properties.get("$insert_id"),
            "source": {"side": side, "file": str(path), "record" if side == "currents" else "line": number}}
