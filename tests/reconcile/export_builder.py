"""Both sides of a reconciliation, built from the generator: Braze's storage layout and a Mixpanel raw export.

The Braze side is `harness generate --format avro` output moved into Currents' storage path structure
(`event_type=<type>/date=<YYYY-MM-DD-HH>/<schema-id>/<zone>/<file>.avro`). The Mixpanel side is what the
reference mapping makes of those very Avro records, written as the export API answers: JSON lines, with the
ingestion properties Mixpanel adds and without the `token` it consumes.
"""

from __future__ import annotations

import gzip
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import fastavro
import orjson

from harness.catalog import type_id_from_avro_name
from harness.cli import main as harness_main
from harness.currents_io import TYPE_KEY
from harness.mapping import MappingConfig, map_currents_event

ANCHOR = 1_767_225_600  # 2026-01-01T00:00:00Z, the generator's default anchor
WINDOW_FROM = "2025-12-24"  # the generator's default 7-day span fits inside
WINDOW_TO = "2026-01-01"
SCHEMA_ID = "3"
ZONE = "0"


def storage_path(root: Path, type_id: str, hour: int, part: int = 0) -> Path:
    date = datetime.fromtimestamp(hour, tz=timezone.utc).strftime("%Y-%m-%d-%H")
    return (root / f"event_type={type_id}" / f"date={date}" / SCHEMA_ID / ZONE
            / f"dataexport.prod-03.S3.integration.5f0c1ee2+{part}+0000000000.avro")


def generate_storage_layout(root: Path, events: int, seed: int = 7, types: list[str] | None = None) -> list[Path]:
    """`harness generate --format avro`, each per-type file moved into the storage layout."""
    flat = root.parent / f"{root.name}-generated"
    argv = ["generate", "-n", str(events), "--seed", str(seed), "--format", "avro", "-o", f"{flat}/", "-q"]
    if types:
        argv[1:1] = ["--type", *types]
    assert harness_main(argv) == 0
    placed = []
    for source in sorted(flat.glob("*.avro")):
        type_id = source.name[: -len(".avro")]
        with open(source, "rb") as handle:
            first = next(iter(fastavro.reader(handle)), None)
        hour = (first["time"] // 3600 * 3600) if first else ANCHOR
        target = storage_path(root, type_id, hour)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(source), target)
        placed.append(target)
    flat.rmdir()
    return placed


def avro_records(paths: list[Path]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in paths:
        with open(path, "rb") as handle:
            reader = fastavro.reader(handle)
            schema = reader.writer_schema
            name = schema["name"] if "." in schema["name"] else f"{schema['namespace']}.{schema['name']}"
            type_id = type_id_from_avro_name(name)
            for record in reader:
                out.append((type_id, record))
    return out


def as_exported(event: dict[str, Any], number: int) -> dict[str, Any]:
    """One mapped event as the raw export shows it: token consumed, ingestion properties added."""
    properties = {k: v for k, v in event["properties"].items() if k != "token"}
    properties.update({"mp_processing_time_ms": 1_767_000_000_000 + number, "$mp_api_endpoint": "api.mixpanel.com",
                       "$mp_api_timestamp_ms": 1_767_000_000_000 + number, "$import": True})
    return {"event": event["event"], "properties": properties}


def mixpanel_rows(paths: list[Path], config: MappingConfig | None = None) -> list[dict[str, Any]]:
    """The export rows the mapping says these Avro files should produce (in file order)."""
    config = config or MappingConfig()
    rows = []
    for type_id, record in avro_records(paths):
        record[TYPE_KEY] = type_id
        result = map_currents_event(record, config)
        if result.event is not None:
            rows.append(as_exported(result.event, len(rows)))
    return rows


def write_export(rows: list[dict[str, Any]], path: Path, *, compress: bool = False) -> Path:
    data = b"".join(orjson.dumps(row) + b"\n" for row in rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def key_of(row: dict[str, Any]) -> dict[str, Any]:
    p = row["properties"]
    return {"event": row["event"], "distinct_id": p["distinct_id"], "time": p["time"], "$insert_id": p["$insert_id"]}
