"""Inputs (issue 11 §1): the storage layout (type from the schema or the path, several schema ids per type,
any subtree), Custom HTTP captures, and the time window's bounds."""

from __future__ import annotations

import copy

import fastavro
import pytest
from export_builder import WINDOW_FROM, WINDOW_TO, generate_storage_layout, mixpanel_rows, storage_path, write_export

from harness.cli import main
from harness.mapping import MappingConfig
from harness.reconcile import parse_window, reconcile
from harness.reconcile.layout import discover_currents_files, storage_path_facts
from harness.reconcile.window import TimeWindow, parse_bound

WINDOW = parse_window(WINDOW_FROM, WINDOW_TO)
OPEN = "users.messages.email.Open"


def test_storage_path_names_type_and_hour(tmp_path):
    path = storage_path(tmp_path, OPEN, 1_767_222_000)
    assert storage_path_facts(path) == (OPEN, "2025-12-31-23")
    (found,) = discover_currents_files([_touch(path)])
    assert found.type_from_path == OPEN and found.date_partition == "2025-12-31-23"


def _touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


def test_hidden_and_marker_files_are_skipped(tmp_path):
    path = _touch(storage_path(tmp_path, OPEN, 1_767_222_000))
    _touch(path.parent / "_SUCCESS")
    _touch(path.parent / ".part.crc")
    assert [f.path for f in discover_currents_files([tmp_path])] == [path]


def test_type_comes_from_the_path_when_the_schema_names_none(tmp_path):
    root = tmp_path / "currents"
    (original,) = generate_storage_layout(root, 60, seed=2, types=[OPEN])
    rows = mixpanel_rows([original])
    with open(original, "rb") as handle:
        reader = fastavro.reader(handle)
        schema = copy.deepcopy(reader.writer_schema)
        records = list(reader)
    schema["name"] = "Record"  # a schema that does not say which Currents type it holds
    schema.pop("namespace", None)
    with open(original, "wb") as handle:
        fastavro.writer(handle, fastavro.parse_schema(schema), records)
    result = reconcile([root], [write_export(rows, tmp_path / "e.jsonl")], MappingConfig(), WINDOW)
    assert result.differences == 0 and result.summary["matched"] == len(rows) > 0


def test_several_schema_ids_per_type(tmp_path):
    root = tmp_path / "currents"
    (first,) = generate_storage_layout(root, 80, seed=4, types=[OPEN])
    other = tmp_path / "more"
    (second,) = generate_storage_layout(other, 80, seed=5, types=[OPEN])
    moved = first.parent.parent.parent / "4" / "0" / second.name
    moved.parent.mkdir(parents=True)
    second.rename(moved)
    rows = mixpanel_rows([first, moved])
    result = reconcile([root], [write_export(rows, tmp_path / "e.jsonl")], MappingConfig(), WINDOW)
    assert result.inputs["currents"]["files"] == 2
    assert result.differences == 0 and result.summary["matched"] == len(rows)


@pytest.mark.parametrize("ndjson", [True, False])
def test_custom_http_captures_against_the_generators_mixpanel_format(tmp_path, ndjson):
    capture = tmp_path / ("capture.ndjson" if ndjson else "capture.json")
    export = tmp_path / "export.jsonl"
    common = ["-n", "300", "--seed", "9", "-q"]
    assert main(["generate", *common, "--format", "custom-http", "-o", str(capture)]
                + (["--ndjson"] if ndjson else [])) == 0
    assert main(["generate", *common, "--format", "mixpanel", "-o", str(export)]) == 0
    result = reconcile([capture], [export], MappingConfig(), WINDOW)
    assert result.differences == 0 and result.bad_line_count == 0
    assert result.summary["matched"] == len(export.read_bytes().splitlines())


@pytest.mark.parametrize("text, end, expected", [
    ("1767225600", False, 1_767_225_600_000),
    ("1767225600.5", False, 1_767_225_600_500),
    ("2026-01-01", False, 1_767_225_600_000),
    ("2026-01-01", True, 1_767_225_600_000 + 86_400_000 - 1),
    ("2026-01-01T01:00:00Z", True, 1_767_229_200_000),
    ("2026-01-01T02:00:00+01:00", False, 1_767_229_200_000),
    ("2026-01-01T01:00:00", False, 1_767_229_200_000),
])
def test_window_bounds(text, end, expected):
    assert parse_bound(text, end=end) == expected


def test_window_is_inclusive():
    window = TimeWindow(1000, 2000)
    assert window.contains(1000) and window.contains(2000)
    assert not window.contains(999) and not window.contains(2001)
    assert window.as_dict() == {"from": "1970-01-01T00:00:01Z", "to": "1970-01-01T00:00:02Z"}
