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


# --- issue 12 item 8: an interrupted run leaves no truncated file ---------------------------------------------


def _interrupt_after(monkeypatch, count: int) -> None:
    """Ctrl-C after `count` records: the stream raises KeyboardInterrupt, as Python does on SIGINT."""
    from harness.generate import streams

    real = streams.generate_records

    def interrupted(*args, **kwargs):
        records = real(*args, **kwargs)

        def run():
            for n, item in enumerate(records):
                if n == count:
                    raise KeyboardInterrupt
                yield item
        return run()

    monkeypatch.setattr(streams, "generate_records", interrupted)


@pytest.mark.parametrize("fmt, name", [("custom-http", "out.json"), ("mixpanel", "out.ndjson"),
                                       ("storage-json", "out.ndjson"), ("avro", "avro-out"),
                                       ("storage-json", "storage-out/")])
def test_interrupted_run_leaves_no_partial_output(tmp_path, monkeypatch, capsysbinary, fmt, name):
    target = tmp_path / name
    _interrupt_after(monkeypatch, 3000)
    code, _, err = run(capsysbinary, "-n", "5000", "--format", fmt, "-o", str(target))
    assert code == 130
    assert err.strip().splitlines()[-1] == f"harness generate: interrupted (nothing written to {target})"
    assert list(tmp_path.iterdir()) == []  # no file, no temporary file, no directory left behind


def test_interrupted_run_keeps_the_previous_file(tmp_path, monkeypatch, capsysbinary):
    target = tmp_path / "events.json"
    target.write_bytes(b"previous run")
    _interrupt_after(monkeypatch, 10)
    assert run(capsysbinary, "-n", "100", "-o", str(target))[0] == 130
    assert target.read_bytes() == b"previous run" and list(tmp_path.iterdir()) == [target]


def test_completed_output_is_an_ordinary_file(tmp_path, capsysbinary):
    import os
    import stat

    target = tmp_path / "events.json"
    assert run(capsysbinary, "-n", "10", "-o", str(target), "-q")[0] == 0
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask
    assert [p.name for p in tmp_path.iterdir()] == ["events.json"]


def test_sigint_to_the_process(tmp_path):
    """A real Ctrl-C (SIGINT) to a running `harness generate -o FILE`."""
    import signal
    import subprocess
    import sys
    import time

    target = tmp_path / "big.ndjson"
    process = subprocess.Popen([sys.executable, "-m", "harness", "generate", "-n", "100000000", "-o", str(target)],
                               stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        # Wait (for the real process, not for simulated time) until it is writing its temporary file.
        while not any(p.stat().st_size for p in tmp_path.iterdir()) and time.monotonic() < deadline:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130
    assert f"harness generate: interrupted (nothing written to {target})" in err
    assert list(tmp_path.iterdir()) == []


def test_avro_is_streamed_not_held_in_memory(tmp_path, monkeypatch, capsysbinary):
    """Issue 12 item 8: `--format avro` writes blocks as the stream goes (300,000 events took 300 MB when every
    record was held until the end); the files still appear only when the run completes."""
    from harness.generate import streams

    real = streams.generate_records
    on_disk: list[int] = []

    def watched(*args, **kwargs):
        def run_watched():
            for n, item in enumerate(real(*args, **kwargs)):
                if n == 15_000:
                    on_disk.append(sum(p.stat().st_size for p in tmp_path.rglob("*") if p.is_file()))
                yield item
        return run_watched()

    monkeypatch.setattr(streams, "generate_records", watched)
    target = tmp_path / "avro-out"
    assert run(capsysbinary, "-n", "20000", "--format", "avro", "-o", str(target), "-q")[0] == 0
    assert on_disk and on_disk[0] > 100_000  # most of the first 15,000 records were already written out
    assert sum(1 for p in target.iterdir()) > 10 and not [p for p in target.iterdir() if p.name.startswith(".")]
