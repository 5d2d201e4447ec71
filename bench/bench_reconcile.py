"""End-to-end throughput and peak memory of `harness reconcile` (issue 11 §5), Avro in, report out.

Builds both sides once, outside the measurement: N generated Currents records as Avro files in Braze's
storage layout (at most `--per-file` records per file, as Braze rotates files) and the Mixpanel raw export
the reference mapping makes of them (JSON lines). Then runs `harness reconcile ... --json` in a child
process and reports records per second per side and the child's peak resident memory
(`resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`; DuckDB runs inside that process, so it is included).
Target: >= 100,000 events/s per side; 10 million events per side within 8 GB.

    python bench/bench_reconcile.py [--events 1000000] [--per-file 50000] [--dir DIR] [--keep]

Generating 10 million records takes over half an hour, so large sides can instead be replicated from
built ones: `--replicate SRC --copies K` writes K copies of the sides in SRC (a `--dir` of an earlier run)
into `--dir`, copy k with the first hex digit of every UUID (record ids, user ids, ...) set to k, the same
bytes on both sides. The replacement keeps every length, so the Avro files stay valid without re-encoding,
and each copy's dedup keys are new; the reconcile summary then shows K times the source's counts.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO

import fastavro
import orjson

from harness.catalog import avro_schema
from harness.generate import RecordFactory, StreamConfig, WorldConfig, build_world, generate_records
from harness.mapping import MappingConfig, map_currents_event


class LayoutWriter:
    """Avro files per type in the storage layout, a new part every `per_file` records (bounded memory)."""

    def __init__(self, root: Path, per_file: int) -> None:
        self.root, self.per_file = root, per_file
        self.pending: dict[str, list[dict[str, Any]]] = {}
        self.parts: dict[str, int] = {}
        self.schemas: dict[str, Any] = {}
        self.files = 0

    def add(self, type_id: str, record: dict[str, Any]) -> None:
        batch = self.pending.setdefault(type_id, [])
        batch.append(record)
        if len(batch) >= self.per_file:
            self.flush(type_id)

    def flush(self, type_id: str) -> None:
        batch = self.pending.pop(type_id, [])
        if not batch:
            return
        part = self.parts.get(type_id, 0)
        self.parts[type_id] = part + 1
        hour = datetime.fromtimestamp(batch[0]["time"] // 3600 * 3600, tz=timezone.utc).strftime("%Y-%m-%d-%H")
        path = (self.root / f"event_type={type_id}" / f"date={hour}" / "3" / "0"
                / f"dataexport.prod-03.S3.integration.bench+{part}+0000000000.avro")
        path.parent.mkdir(parents=True, exist_ok=True)
        schema = self.schemas.get(type_id)
        if schema is None:
            schema = self.schemas[type_id] = fastavro.parse_schema(avro_schema(type_id))
        with open(path, "wb") as handle:
            fastavro.writer(handle, schema, batch)  # no codec, as Braze's sample files
        self.files += 1

    def close(self) -> None:
        for type_id in list(self.pending):
            self.flush(type_id)


def build_sides(root: Path, events: int, per_file: int, seed: int) -> dict[str, int]:
    factory = RecordFactory()
    world = build_world(seed, WorldConfig(users=max(200, min(200_000, events // 50))))
    layout = LayoutWriter(root / "currents", per_file)
    config = MappingConfig()
    rows = 0
    lines: list[bytes] = []
    with open(root / "export.jsonl", "wb") as export:
        for type_id, flat in generate_records(world, StreamConfig(events=events), factory=factory):
            if not factory.plan(type_id).has_storage_schema:
                continue
            record = factory.to_avro_record(type_id, flat)
            layout.add(type_id, record)
            result = map_currents_event({**record, "event_type": type_id}, config)
            if result.event is not None:
                properties = {k: v for k, v in result.event["properties"].items() if k != "token"}
                properties["mp_processing_time_ms"] = 1_767_000_000_000 + rows
                lines.append(orjson.dumps({"event": result.event["event"], "properties": properties}))
                rows += 1
                if len(lines) >= 10_000:
                    _write_lines(export, lines)
        _write_lines(export, lines)
    layout.close()
    return {"currents_files": layout.files, "export_rows": rows}


def _write_lines(handle: BinaryIO, lines: list[bytes]) -> None:
    if lines:
        handle.write(b"\n".join(lines) + b"\n")
        lines.clear()


# A UUID's first hex digit (the same bytes in an Avro string and in a JSON string).
_UUID_HEAD = re.compile(rb"(?<![0-9a-f])[0-9a-f](?=[0-9a-f]{7}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")


def replicate_sides(source: Path, root: Path, copies: int) -> dict[str, int]:
    """`copies` (at most 16) copies of built sides, copy k with every UUID's first hex digit set to k."""
    if not 1 <= copies <= 16:
        raise SystemExit("--copies must be between 1 and 16")
    facts = json.loads((source / "sides.json").read_text())
    avro_files = sorted((source / "currents").rglob("*.avro"))
    with open(root / "export.jsonl", "wb") as export:
        for copy in range(copies):
            digit = b"%x" % copy
            for path in avro_files:
                target = root / "currents" / f"copy={copy}" / path.relative_to(source / "currents")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(_UUID_HEAD.sub(digit, path.read_bytes()))
            with open(source / "export.jsonl", "rb") as handle:
                for block in iter(lambda: handle.readlines(64 << 20), []):
                    export.write(_UUID_HEAD.sub(digit, b"".join(block)))
    return {"currents_files": facts["currents_files"] * copies, "export_rows": facts["export_rows"] * copies,
            "events": facts["events"] * copies}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="Currents records generated")
    parser.add_argument("--per-file", type=int, default=50_000, help="records per Avro file at most")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dir", help="build the sides here (default: a temporary directory)")
    parser.add_argument("--keep", action="store_true", help="keep the built sides (and reuse them next time)")
    parser.add_argument("--memory-limit", default="2GB", help="the engine's memory limit")
    parser.add_argument("--jobs", default="auto", help="worker processes for the Currents side")
    parser.add_argument("--replicate", metavar="SRC", help="build the sides as copies of those built in SRC")
    parser.add_argument("--copies", type=int, default=10, help="copies made by --replicate")
    args = parser.parse_args(argv)

    root = Path(args.dir or tempfile.mkdtemp(prefix="bench-reconcile-"))
    root.mkdir(parents=True, exist_ok=True)
    facts_path = root / "sides.json"
    if facts_path.exists():
        facts = json.loads(facts_path.read_text())
    else:
        started = time.perf_counter()
        if args.replicate:
            facts = replicate_sides(Path(args.replicate), root, args.copies)
        else:
            facts = build_sides(root, args.events, args.per_file, args.seed)
            facts["events"] = args.events
        facts["build_s"] = round(time.perf_counter() - started, 1)
        facts_path.write_text(json.dumps(facts))
    report = root / "report.json"
    command = [sys.executable, "-m", "harness", "reconcile", str(root / "currents"), "--mixpanel",
               str(root / "export.jsonl"), "--json", str(report), "--memory-limit", args.memory_limit, "-q",
               "--jobs", args.jobs, "--workdir", str(root)]
    started = time.perf_counter()
    completed = subprocess.run(command, env={**os.environ, "CI": "true"}, check=False)
    elapsed = time.perf_counter() - started
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak_kb = children.ru_maxrss  # Linux: kilobytes; the largest single process (the engine runs in the main one)
    cpu = children.ru_utime + children.ru_stime
    if completed.returncode not in (0, 1):
        print(f"reconcile failed with status {completed.returncode}", file=sys.stderr)
        return 1
    result = json.loads(report.read_text())
    records = result["inputs"]["currents"]["records"]
    rows = result["inputs"]["mixpanel"]["rows"]
    print(json.dumps({
        "currents_records": records, "export_rows": rows, "currents_files": facts["currents_files"],
        "seconds": round(elapsed, 2), "cpu_seconds": round(cpu, 2),
        "currents_records_per_s": round(records / elapsed), "export_rows_per_s": round(rows / elapsed),
        "currents_records_per_cpu_s": round(records / cpu), "peak_rss_mb": round(peak_kb / 1024),
        "exit_status": completed.returncode, "summary": result["summary"],
    }, indent=2))
    if not args.keep and not args.dir:
        import shutil

        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
