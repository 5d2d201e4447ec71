"""`harness reconcile` (issue 11 §3): exit status 0 / 1 / 2, the summary on stderr, the JSON report's keys,
the self-contained HTML report, and the mapping options shared with `harness map`."""

from __future__ import annotations

import copy
import json
import re

import pytest
from export_builder import ANCHOR, WINDOW_FROM, WINDOW_TO, generate_storage_layout, mixpanel_rows, write_export

from harness.cli import main
from harness.mapping import MappingConfig

SUMMARY_KEYS = {"matched", "missing", "extra", "duplicates", "mismatched", "not_exported", "outside_window"}


@pytest.fixture(scope="module")
def sides(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    paths = generate_storage_layout(root / "currents", 400, seed=5)
    return root / "currents", mixpanel_rows(paths)


def reconcile_cli(capsys, *argv):
    status = main(["reconcile", *map(str, argv)])
    return status, capsys.readouterr()


def test_clean_run_exits_0_with_the_summary_on_stderr(tmp_path, capsys, sides):
    currents, rows = sides
    status, out = reconcile_cli(capsys, currents, "--mixpanel", write_export(rows, tmp_path / "e.jsonl"),
                                "--from", WINDOW_FROM, "--to", WINDOW_TO)
    assert status == 0
    assert out.out == ""
    assert f"matched: {len(rows)}" in out.err.splitlines()
    assert "result: clean" in out.err
    assert "\r" not in out.err  # progress only on a terminal


def test_differences_exit_1_and_the_json_report_has_the_issue_keys(tmp_path, capsys, sides):
    currents, rows = sides
    rows = copy.deepcopy(rows[1:])  # one missing
    report = tmp_path / "report.json"
    status, out = reconcile_cli(capsys, currents, "--mixpanel", write_export(rows, tmp_path / "e.jsonl"),
                                "--json", report)
    assert status == 1
    data = json.loads(report.read_text(encoding="utf-8"))
    assert set(data["summary"]) == SUMMARY_KEYS
    assert all(type(v) is int for v in data["summary"].values())
    assert data["summary"]["missing"] == 1
    assert all(set(counts) == SUMMARY_KEYS for counts in data["by_type"].values())
    assert sum(c["missing"] for c in data["by_type"].values()) == 1
    (sample,) = data["samples"]["missing"]
    assert {"event", "distinct_id", "time", "$insert_id", "source"} <= set(sample)
    assert sample["source"]["side"] == "currents" and sample["source"]["file"].endswith(".avro")
    assert "harness-token" not in report.read_text()  # the token never reaches a report


def test_html_report_is_self_contained_and_escaped(tmp_path, capsys, sides):
    currents, rows = sides
    rows = copy.deepcopy(rows)
    rows.append({"event": "<script>alert(1)</script>", "properties": {
        "distinct_id": "x&y", "time": ANCHOR - 60, "$insert_id": "11111111-1111-4111-8111-111111111111"}})
    page = tmp_path / "report.html"
    status, _out = reconcile_cli(capsys, currents, "--mixpanel", write_export(rows, tmp_path / "e.jsonl"),
                                 "--html", page)
    assert status == 1
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "<style>" in html
    assert "<script" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert not re.search(r"""(src|href)\s*=|@import|url\(""", html)  # no external assets
    assert "Per event type" in html and "11111111-1111-4111-8111-111111111111" in html


def test_set_and_profile_are_the_mappings_options(tmp_path, capsys, sides):
    currents, rows = sides
    export = write_export(rows, tmp_path / "e.jsonl")
    status, out = reconcile_cli(capsys, currents, "--mixpanel", export, "--profile", "legacy")
    assert status == 1  # the legacy contract expects other events than the export holds
    emit_null = mixpanel_rows(sorted(currents.rglob("*.avro")), MappingConfig(null_policy="emit_null"))
    export = write_export(emit_null, tmp_path / "null.jsonl")
    assert reconcile_cli(capsys, currents, "--mixpanel", export)[0] == 1
    assert reconcile_cli(capsys, currents, "--mixpanel", export, "--set", "null_policy=emit_null")[0] == 0


@pytest.mark.parametrize("argv, message", [
    (["--set", "null_policy=sometimes"], "null_policy must be one of"),
    (["--set", "nonsense"], "--set expects KEY=VALUE"),
    (["--from", "yesterday"], "not a time: 'yesterday'"),
    (["--from", "2026-01-02", "--to", "2026-01-01"], "ends before it starts"),
])
def test_bad_options_get_one_line_and_exit_2(tmp_path, capsys, sides, argv, message):
    currents, rows = sides
    status, out = reconcile_cli(capsys, currents, "--mixpanel", write_export(rows, tmp_path / "e.jsonl"), *argv)
    assert status == 2
    assert len(out.err.strip().splitlines()) == 1 and message in out.err


def test_scheduler_needs_the_dask_engine(tmp_path, capsys, sides):
    currents, rows = sides
    status, out = reconcile_cli(capsys, currents, "--mixpanel", write_export(rows, tmp_path / "e.jsonl"),
                                "--scheduler", "tcp://127.0.0.1:8786")
    assert status == 2 and "--scheduler is for --engine dask" in out.err
