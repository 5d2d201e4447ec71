"""`harness generate` (DESIGN.md §5, issue 5 §5): formats, byte-for-byte reproducibility, clear errors."""

from __future__ import annotations

import json

import fastavro
import pytest

from harness.catalog import type_id_from_avro_name
from harness.cli import main
from harness.generate.invariants import schema_violations
from harness.generate.streams import DEFAULT_ANCHOR


def run(capsysbinary, *argv: str) -> tuple[int, bytes, str]:
    code = main(["generate", *argv])
    out, err = capsysbinary.readouterr()
    return code, out, err.decode()


def test_default_is_a_json_array_of_custom_http_events(capsysbinary):
    code, out, err = run(capsysbinary, "-n", "50", "-q")
    assert code == 0 and err == ""
    events = json.loads(out)
    assert len(events) == 50
    assert all(schema_violations(e) == [] for e in events)
    assert all(e["time"] <= DEFAULT_ANCHOR for e in events)


def test_ndjson_and_type_patterns(capsysbinary):
    code, out, _ = run(capsysbinary, "-n", "30", "--type", "users.messages.email.*", "--ndjson", "-q")
    lines = out.decode().splitlines()
    assert code == 0 and len(lines) == 30
    assert all(json.loads(line)["event_type"].startswith("users.messages.email.") for line in lines)


def test_several_types_after_one_option(capsysbinary):
    """DESIGN.md §5: `--type T ...`."""
    code, out, _ = run(capsysbinary, "-n", "40", "--type", "users.behaviors.Purchase", "users.behaviors.Location",
                       "--ndjson", "-q")
    assert code == 0
    assert {json.loads(line)["event_type"] for line in out.decode().splitlines()} == {
        "users.behaviors.Purchase", "users.behaviors.Location"}


def test_ndjson_by_file_name(tmp_path, capsysbinary):
    target = tmp_path / "events.ndjson"
    assert run(capsysbinary, "-n", "10", "-o", str(target))[0] == 0
    assert len(target.read_text().splitlines()) == 10


def test_storage_json_stream_and_directory(tmp_path, capsysbinary):
    code, out, _ = run(capsysbinary, "-n", "40", "--format", "storage-json", "-q")
    rows = [json.loads(line) for line in out.decode().splitlines()]
    assert code == 0 and len(rows) == 40 and all("event_type" in r for r in rows)
    directory = tmp_path / "storage"
    assert run(capsysbinary, "-n", "40", "--format", "storage-json", "-o", str(directory) + "/", "-q")[0] == 0
    files = sorted(directory.glob("*.json"))
    assert files and sum(len(f.read_text().splitlines()) for f in files) == 40


def test_avro_writes_a_file_per_type_with_the_catalog_schema(tmp_path, capsysbinary):
    code, _, err = run(capsysbinary, "-n", "120", "--format", "avro", "-o", str(tmp_path / "avro"))
    assert code == 0 and "120 written as avro" in err
    total = 0
    for path in (tmp_path / "avro").glob("*.avro"):
        with open(path, "rb") as handle:
            reader = fastavro.reader(handle)
            schema = reader.writer_schema
            type_id = type_id_from_avro_name(f"{schema['namespace']}.{schema['name']}" if "namespace" in schema else schema["name"])
            assert path.name == f"{type_id}.avro"
            total += sum(1 for _ in reader)
    assert total == 120


def test_mixpanel_format_is_mapped_through_the_reference_mapping(capsysbinary):
    code, out, err = run(capsysbinary, "-n", "300", "--format", "mixpanel", "--token", "tok")
    rows = [json.loads(line) for line in out.decode().splitlines()]
    assert code == 0 and rows
    assert all(r["properties"]["token"] == "tok" and r["properties"]["$partner_id"] == "braze" for r in rows)
    assert "no_external_user_id=" in err  # anonymous users' events are dropped (E2) and counted


@pytest.mark.parametrize("fmt", ["custom-http", "storage-json", "mixpanel"])
def test_same_seed_same_bytes(capsysbinary, fmt):
    """Issue 5 §5: --seed makes the output identical byte for byte."""
    first = run(capsysbinary, "-n", "400", "--seed", "7", "--format", fmt, "-q")[1]
    second = run(capsysbinary, "-n", "400", "--seed", "7", "--format", fmt, "-q")[1]
    other = run(capsysbinary, "-n", "400", "--seed", "8", "--format", fmt, "-q")[1]
    assert first == second and first != other


def test_same_seed_same_avro_bytes(tmp_path, capsysbinary):
    for name in ("a", "b"):
        assert run(capsysbinary, "-n", "300", "--seed", "7", "--format", "avro", "-o", str(tmp_path / name), "-q")[0] == 0
    a = {p.name: p.read_bytes() for p in (tmp_path / "a").iterdir()}
    b = {p.name: p.read_bytes() for p in (tmp_path / "b").iterdir()}
    assert a and a == b


def test_every_format_carries_the_same_stream(tmp_path, capsysbinary):
    """One seed, one stream: storage formats hold the Custom HTTP records minus the Custom-HTTP-only types."""
    http = json.loads(run(capsysbinary, "-n", "3000", "--seed", "5", "-q")[1])
    code, out, err = run(capsysbinary, "-n", "3000", "--seed", "5", "--format", "storage-json")
    storage_ids = [json.loads(line)["id"] for line in out.decode().splitlines()]
    expected = [e["id"] for e in http if not e["event_type"].startswith("users.messages.newsfeedcard.")]
    assert code == 0 and storage_ids == expected
    if len(expected) < len(http):
        assert f"no_storage_schema={len(http) - len(expected)}" in err


def test_knobs_on_the_command_line(capsysbinary):
    code, out, _ = run(capsysbinary, "-n", "200", "--anchor", "2025-03-01T00:00:00Z", "--span", "2h", "--users", "20",
                       "--anonymous-share", "0", "--rate", "duplicate=0.1", "--mix", "campaign=5",
                       "--canvas-dispatch-mode", "shared", "-q")
    events = json.loads(out)
    assert code == 0 and max(e["time"] for e in events) <= 1_740_787_200
    assert len({e["id"] for e in events}) < len(events)  # duplicates share their id


@pytest.mark.parametrize("argv, message", [
    (["-n", "x"], "-n expects an integer"),
    (["-n", "-3"], "-n must be at least 0"),
    (["--seed", "1.5"], "--seed expects an integer"),
    (["--format", "xml"], "--format must be one of"),
    (["--type", "users.nope"], "matches no Currents event type"),
    (["--format", "avro"], "give -o DIRECTORY"),
    (["--rate", "abort"], "expects NAME=VALUE"),
    (["--rate", "nope=0.1"], "unknown rate"),
    (["--rate", "abort=2"], "between 0 and 1"),
    (["--mix", "nope=1"], "unknown story kind"),
    (["--anchor", "yesterday"], "--anchor expects"),
    (["--span", "0"], "--span expects"),
    (["--anonymous-share", "2"], "between 0 and 1"),
    (["--canvas-dispatch-mode", "x"], "--canvas-dispatch-mode must be"),
    (["--profile", "old"], "--profile must be"),
    (["--format", "avro", "--type", "users.messages.newsfeedcard.Click", "-o", "/tmp/x"], "no storage schema"),
    (["-o", "/nonexistent-dir/out.json"], "does not exist"),
    (["--all", "--type", "users.behaviors.Purchase"], "not allowed with"),
    (["--mix", "session=0", "--type", "users.behaviors.app.SessionEnd"], "cannot produce"),
])
def test_bad_options_one_clear_line_nonzero_exit(capsysbinary, argv, message):
    try:
        code = main(["generate", *argv])
    except SystemExit as exc:  # argparse-level errors
        code = exc.code
    out, err = capsysbinary.readouterr()
    lines = err.decode().strip().splitlines()
    assert code != 0 and out == b""
    assert len(lines) == 1 and message in lines[0] and lines[0].startswith("harness generate: error:")


def test_future_anchor_is_warned_about(capsysbinary):
    code, out, err = run(capsysbinary, "-n", "5", "--anchor", "2999-01-01T00:00:00Z")
    assert code == 0 and "warning: --anchor is in the future" in err and json.loads(out)


def test_avro_target_that_is_a_file(tmp_path, capsysbinary):
    target = tmp_path / "file"
    target.write_text("x")
    code, _, err = run(capsysbinary, "--format", "avro", "-o", str(target))
    assert code != 0 and "not a directory" in err
    assert target.read_text() == "x"


def test_progress_only_on_a_terminal(monkeypatch, capsysbinary):
    """DESIGN.md §5: long work shows progress on a terminal and stays quiet otherwise."""
    from harness.cli.commands import generate as command

    code, _, err = run(capsysbinary, "-n", "20000", "--ndjson")
    assert code == 0 and "\r" not in err
    monkeypatch.setattr(command, "progress_enabled", lambda stream: True)
    monkeypatch.setattr(command, "_PROGRESS_MIN_EVENTS", 1)
    code, out, err = run(capsysbinary, "-n", "20000", "--ndjson")
    assert code == 0 and "\rharness generate: 10,000/20,000 events" in err
    assert len(out.splitlines()) == 20000  # progress never reaches stdout


def test_same_bytes_across_processes_and_hash_seeds(tmp_path):
    """--seed output does not depend on Python's per-process string hashing."""
    import os
    import subprocess
    import sys

    outputs = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run([sys.executable, "-m", "harness", "generate", "-n", "1500", "--seed", "4", "-q"],
                              capture_output=True, env=env, check=True, timeout=120)
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1] and len(outputs[0]) > 10_000
