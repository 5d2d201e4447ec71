"""Lookup tables (mixpanel-ingestion.md §9, minimal): list, replace from CSV with all-or-nothing
validation, type inference stored beside the rows, and the 100-PUTs-per-24-h limit. Plain Python."""

from __future__ import annotations

import csv
import io
import json
import re
import threading
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from .errors import LOOKUP_HEADER_REQUIRED, LOOKUP_INVALID_CSV, LOOKUP_PRIMARY_KEY_REQUIRED

MAX_BODY_BYTES = 104_857_600  # §9: over 100 MB uncompressed → 413
MAX_REPORTED_ROWS = 10  # §9: at most the first 10 bad rows are reported
DAY_MS = 86_400_000
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
_NUMBER = re.compile(r"-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?")


def infer_type(value: str) -> str:
    """§9: numbers, RFC 3339 datetimes, `true`/`false` in any case, `""` undefined, JSON-ish lists."""
    if value == "":
        return "undefined"
    if value.lower() in ("true", "false"):
        return "boolean"
    if _NUMBER.fullmatch(value):
        return "number"
    if _RFC3339.fullmatch(value):
        return "datetime"
    if value.startswith("[") and value.endswith("]"):
        try:
            if isinstance(json.loads(value), list):
                return "list"
        except ValueError:
            pass
    return "string"


@dataclass
class LookupTable:
    table_id: str
    name: str
    project_id: int
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    types: dict[str, str] = field(default_factory=dict)
    replaced_at_ms: int | None = None

    def summary(self) -> dict[str, Any]:
        return {"id": self.table_id, "name": self.name}

    def describe(self) -> dict[str, Any]:
        return {"id": self.table_id, "name": self.name, "project_id": self.project_id, "header": self.header,
                "rows": self.rows, "types": self.types, "replaced_at_ms": self.replaced_at_ms}


def validate_csv(text: str) -> tuple[list[str], list[list[str]], list[dict[str, Any]]]:
    """(header, rows, failures). The primary key is the first column; `index` is the 0-based data row."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        return [], [], [{"index": 0, "message": LOOKUP_HEADER_REQUIRED}]
    if not header or not header[0].strip():
        return [], [], [{"index": 0, "message": LOOKUP_HEADER_REQUIRED}]
    rows: list[list[str]] = []
    failures: list[dict[str, Any]] = []
    try:
        for index, row in enumerate(reader):
            if not row:
                continue
            if not row[0].strip():
                failures.append({"index": index, "message": LOOKUP_PRIMARY_KEY_REQUIRED})
            rows.append(row)
    except csv.Error as exc:
        failures.append({"index": len(rows), "message": LOOKUP_INVALID_CSV.format(detail=exc)})
    return header, rows, failures[:MAX_REPORTED_ROWS]


class LookupTableStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tables: dict[str, LookupTable] = {}
        self._puts: dict[int, deque[int]] = {}
        self.version = 0  # bumped on every change (--state-dir writes the tables when it moved)

    def create(self, project_id: int, name: str, table_id: str | None = None) -> LookupTable:
        table = LookupTable(table_id or str(uuid.uuid4()), name, project_id)
        with self._lock:
            self._tables[table.table_id] = table
            self.version += 1
        return table

    def get(self, table_id: str) -> LookupTable | None:
        with self._lock:
            return self._tables.get(table_id)

    def tables(self, project_id: int | None = None) -> list[LookupTable]:
        with self._lock:
            return [t for t in self._tables.values() if project_id is None or t.project_id == project_id]

    def put_allowed(self, project_id: int, now_ms: int, per_day: int) -> bool:
        """§9: more than `per_day` PUTs per rolling 24 h → refused. Counts the PUT when allowed."""
        with self._lock:
            puts = self._puts.setdefault(project_id, deque())
            while puts and puts[0] <= now_ms - DAY_MS:
                puts.popleft()
            if len(puts) >= per_day:
                return False
            puts.append(now_ms)
            return True

    def replace(self, table: LookupTable, header: list[str], rows: list[list[str]], now_ms: int) -> None:
        types: dict[str, str] = {}
        for column, name in enumerate(header):
            seen = {infer_type(row[column]) for row in rows if column < len(row)} - {"undefined"}
            types[name] = seen.pop() if len(seen) == 1 else ("string" if seen else "undefined")
        with self._lock:
            table.header, table.rows, table.types, table.replaced_at_ms = header, rows, types, now_ms
            self.version += 1

    def clear(self) -> None:
        with self._lock:
            self._tables = {}
            self._puts = {}
            self.version += 1

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return [t.describe() for t in self._tables.values()]

    def restore(self, items: Any, where: str = "lookup_tables") -> None:
        """Replace every table with saved `snapshot` items, checking each (ValueError names the bad one)."""
        if not isinstance(items, list):
            raise ValueError(f"{where}: not a list")
        tables = {}
        for index, item in enumerate(items):
            at = f"{where}[{index}]"
            if not isinstance(item, dict):
                raise ValueError(f"{at}: not an object")
            for name, kind in (("id", str), ("name", str), ("project_id", int), ("header", list), ("rows", list),
                               ("types", dict)):
                if type(item.get(name)) is not kind:
                    raise ValueError(f"{at}.{name}: must be {'a ' + kind.__name__ if kind is not int else 'an int'}")
            if not all(isinstance(h, str) for h in item["header"]) or not all(
                    isinstance(r, list) and all(isinstance(c, str) for c in r) for r in item["rows"]):
                raise ValueError(f"{at}: header and rows must hold strings")
            if not all(isinstance(v, str) for v in item["types"].values()):
                raise ValueError(f"{at}.types: values must be strings")
            replaced = item.get("replaced_at_ms")
            if replaced is not None and type(replaced) is not int:
                raise ValueError(f"{at}.replaced_at_ms: must be an integer or null")
            tables[item["id"]] = LookupTable(item["id"], item["name"], item["project_id"], list(item["header"]),
                                             [list(r) for r in item["rows"]], dict(item["types"]), replaced)
        with self._lock:
            self._tables = tables
            self.version += 1
