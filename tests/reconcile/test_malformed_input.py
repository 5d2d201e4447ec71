"""Malformed input (issue 11, "Done when"): one clear line naming the file and exit status 2; a bad line
is counted and reported while the rest is still compared."""

from __future__ import annotations

import gzip
import shutil

import pytest
from export_builder import WINDOW_FROM, WINDOW_TO, generate_storage_layout, mixpanel_rows, write_export

from harness.cli import main


@pytest.fixture(scope="module")
def sides(tmp_path_factory):
    root = tmp_path_factory.mktemp("malformed")
    paths = generate_storage_layout(root / "currents", 300, seed=3)
    rows = mixpanel_rows(paths)
    return root / "currents", rows


def reconcile_cli(capsys, *argv):
    status = main(["reconcile", *map(str, argv), "--from", WINDOW_FROM, "--to", WINDOW_TO])
    return status, capsys.readouterr().err


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("harness reconcile: error: ")
    return lines[0]


def test_truncated_avro_names_the_file(tmp_path, capsys, sides):
    currents, rows = sides
    copy = tmp_path / "currents"
    shutil.copytree(currents, copy)
    victim = max(copy.rglob("*.avro"), key=lambda p: p.stat().st_size)
    victim.write_bytes(victim.read_bytes()[: victim.stat().st_size // 2])
    status, err = reconcile_cli(capsys, copy, "--mixpanel", write_export(rows, tmp_path / "e.jsonl"))
    assert status == 2
    assert str(victim) in one_error_line(err)


def test_avro_cut_inside_its_header_names_the_file(tmp_path, capsys, sides):
    currents, rows = sides
    victim = tmp_path / "event_type=users.messages.email.Open" / "cut.avro"
    victim.parent.mkdir()
    victim.write_bytes(next(currents.rglob("*.avro")).read_bytes()[:20])
    status, err = reconcile_cli(capsys, victim, "--mixpanel", write_export(rows, tmp_path / "e.jsonl"))
    assert status == 2 and str(victim) in one_error_line(err)


def test_a_non_json_line_is_counted_and_the_rest_compared(tmp_path, capsys, sides):
    currents, rows = sides
    export = write_export(rows, tmp_path / "e.jsonl")
    lines = export.read_bytes().splitlines(keepends=True)
    export.write_bytes(b"".join(lines[:5]) + b"{not json\n" + b"".join(lines[5:]))
    report = tmp_path / "r.json"
    status, err = reconcile_cli(capsys, currents, "--mixpanel", export, "--json", report)
    assert status == 2
    assert f"bad line: {export} line 6: not JSON" in err
    import json

    data = json.loads(report.read_text())
    assert data["bad_lines"]["count"] == 1
    assert data["summary"]["matched"] == len(rows)
    assert data["summary"]["missing"] == data["summary"]["extra"] == 0


def test_a_json_line_that_is_no_event_is_counted(tmp_path, capsys, sides):
    currents, rows = sides
    export = write_export(rows, tmp_path / "e.jsonl")
    export.write_bytes(export.read_bytes() + b'{"event": "x"}\n[1, 2]\n')
    status, err = reconcile_cli(capsys, currents, "--mixpanel", export)
    assert status == 2
    assert "no \"properties\" object" in err and "expected a JSON object, got list" in err


def test_a_currents_ndjson_bad_line_is_counted(tmp_path, capsys, sides):
    currents, rows = sides
    capture = tmp_path / "capture.ndjson"
    assert main(["generate", "-n", "50", "--seed", "3", "--format", "custom-http", "--ndjson", "-o", str(capture),
                 "-q"]) == 0
    capture.write_bytes(capture.read_bytes() + b"garbage\n")
    status, err = reconcile_cli(capsys, capture, "--mixpanel", write_export([], tmp_path / "e.jsonl"))
    assert status == 2
    assert f"bad line: {capture} line 51" in err


@pytest.mark.parametrize("kind", ["avro-as-export", "export-as-currents", "binary-as-currents", "html-as-export"])
def test_a_file_of_the_wrong_kind_names_the_file(tmp_path, capsys, sides, kind):
    currents, rows = sides
    export = write_export(rows, tmp_path / "e.jsonl")
    avro = next(currents.rglob("*.avro"))
    if kind == "avro-as-export":
        status, err = reconcile_cli(capsys, currents, "--mixpanel", avro)
        named = avro
    elif kind == "export-as-currents":
        status, err = reconcile_cli(capsys, export, "--mixpanel", export)
        named = export
    elif kind == "binary-as-currents":
        named = tmp_path / "picture.png"
        named.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
        status, err = reconcile_cli(capsys, named, "--mixpanel", export)
    else:
        named = tmp_path / "page.html"
        named.write_text("<html><body>login</body></html>\n")
        status, err = reconcile_cli(capsys, currents, "--mixpanel", named)
    assert status == 2
    assert str(named) in one_error_line(err)


def test_an_empty_directory_names_it(tmp_path, capsys, sides):
    currents, rows = sides
    empty = tmp_path / "empty"
    empty.mkdir()
    status, err = reconcile_cli(capsys, empty, "--mixpanel", write_export(rows, tmp_path / "e.jsonl"))
    assert status == 2 and f"{empty}: empty directory" in one_error_line(err)
    status, err = reconcile_cli(capsys, currents, "--mixpanel", empty)
    assert status == 2 and f"{empty}: empty directory" in one_error_line(err)


def test_a_missing_path_names_it(tmp_path, capsys, sides):
    currents, _rows = sides
    status, err = reconcile_cli(capsys, currents, "--mixpanel", tmp_path / "nowhere.jsonl")
    assert status == 2 and "nowhere.jsonl: no such file or directory" in one_error_line(err)


def test_truncated_gzip_export_names_the_file(tmp_path, capsys, sides):
    currents, rows = sides
    export = write_export(rows, tmp_path / "e.jsonl.gz", compress=True)
    data = export.read_bytes()
    export.write_bytes(data[: len(data) // 2])
    status, err = reconcile_cli(capsys, currents, "--mixpanel", export)
    assert status == 2 and str(export) in one_error_line(err)
    assert gzip.decompress(data)  # the untruncated file was fine
