"""`harness map` and `harness list` through the command line (DESIGN.md §5; currents-to-mixpanel.md §1, §2)."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from harness.cli import main

UUID = "f47ac10b-58cc-4372-a567-0e02b2c3d479"


def run(argv, capsys, stdin: bytes | None = None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def events_of(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_map_every_format_to_ndjson(samples_dir, custom_http_dir, capsys):
    """Auto-detection: Avro, storage JSON and Custom HTTP files of one type give the same event (§1)."""
    files = [
        samples_dir / "avro" / "users.behaviors.CustomEvent.avro",
        samples_dir / "storage-json" / "users.behaviors.CustomEvent.json",
        custom_http_dir / "users" / "behaviors" / "CustomEvent.json",
    ]
    code, out, err = run(["map", *map(str, files), "--token", "T"], capsys)
    assert code == 0
    events = events_of(out)
    assert len(events) == 3
    assert {e["event"] for e in events} == {"[Braze Custom Event] name"}
    assert all(e["properties"]["token"] == "T" and e["properties"]["distinct_id"] == "external_user_id" for e in events)
    assert "mapped: 3" in err and "not exported: 0" in err


def test_map_counts_not_exported_dropped_unknown(tmp_path, capsys):
    lines = [
        {"event_type": "users.messages.email.Send", "id": "1", "time": 1, "external_user_id": "e",
         "email_address": "a"},
        {"event_type": "users.messages.email.Send", "id": "2", "time": 1, "external_user_id": None,
         "email_address": "a"},
        {"event_type": "users.messages.email.Send", "id": "3", "time": 1, "external_user_id": "", "email_address": "a"},
        {"event_type": "users.messages.email.Retry", "id": "4", "time": 1, "external_user_id": "e"},
        {"event_type": "users.future.Thing", "id": "5", "time": 1, "external_user_id": "e"},
        {"event_type": "users.messages.email.Send", "id": "6", "time": 1, "external_user_id": "e", "email_address": "a",
         "surprise": 1},
    ]
    path = tmp_path / "in.ndjson"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    out_path = tmp_path / "out.ndjson"
    report_path = tmp_path / "report.json"
    code, out, err = run(["map", str(path), "-o", str(out_path), "--report-json", str(report_path)], capsys)
    assert code == 0 and out == ""
    assert [e["properties"]["$insert_id"] for e in events_of(out_path.read_text())] == ["1", "6"]
    for expected in ("records: 6", "mapped: 2", "not exported: 1", "dropped (no external_user_id): 2",
                     "unknown type: 1", "unknown types: users.future.Thing (1)", "unknown fields: surprise (1)"):
        assert expected in err
    report = json.loads(report_path.read_text())
    assert report["mapped"] == 2 and report["not_mapped"]["no_external_user_id"] == 2


def test_map_stdin_custom_http_batch(capsys, monkeypatch, custom_http_dir):
    event = json.loads((custom_http_dir / "users" / "messages" / "email" / "Open.json").read_text())
    batch = json.dumps({"events": [event, event]}).encode()
    code, out, err = run(["map"], capsys, stdin=batch, monkeypatch=monkeypatch)
    assert code == 0 and [e["event"] for e in events_of(out)] == ["Email Open", "Email Open"]
    code, out, err = run(["map", "-"], capsys, stdin=json.dumps([event]).encode(), monkeypatch=monkeypatch)
    assert code == 0 and len(events_of(out)) == 1


def test_map_legacy_profile(samples_dir, capsys):
    path = samples_dir / "storage-json" / "users.campaigns.Conversion.json"
    code, out, _ = run(["map", "--profile", "legacy", str(path)], capsys)
    (event,) = events_of(out)
    assert code == 0 and event["event"] == "Campaign Conversion Event" and "$partner_id" not in event["properties"]


def test_map_set_options(samples_dir, capsys):
    path = str(samples_dir / "storage-json" / "users.messages.rcs.Abort.json")
    code, out, _ = run(["map", path, "--set", "line_rcs_event_names=prefixed", "--set", "drift_fields=drop"], capsys)
    (event,) = events_of(out)
    assert event["event"] == "RCS Abort" and "canvas_id" not in event["properties"]
    code, _, err = run(["map", path, "--set", "null_policy=sometimes"], capsys)
    assert code == 2 and "null_policy" in err and "Traceback" not in err
    code, _, err = run(["map", path, "--set", "strict_properties=maybe"], capsys)
    assert code == 2 and err.count("\n") == 1


def test_map_missing_file_one_line(tmp_path, capsys):
    code, out, err = run(["map", str(tmp_path / "missing.json")], capsys)
    assert code == 2 and out == ""
    assert err.strip().count("\n") == 0 and "no such file" in err


def test_map_malformed_file_one_line(tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_bytes(b"{\"events\": [1, 2,")
    code, out, err = run(["map", str(path)], capsys)
    assert code == 2 and out == "" and err.strip().count("\n") == 0 and "bad.json" in err


def test_map_malformed_lines_counted_exit_1(tmp_path, capsys):
    path = tmp_path / "mixed.ndjson"
    good = json.dumps({"event_type": "users.messages.email.Send", "id": "1", "time": 1, "external_user_id": "e",
                       "email_address": "a"})
    path.write_text(good + "\n{oops\n" + good + "\n", encoding="utf-8")
    code, out, err = run(["map", str(path)], capsys)
    assert code == 1 and len(events_of(out)) == 2
    assert "invalid record: 1" in err and "line 2" in err


def test_map_unwritable_output(tmp_path, samples_dir, capsys):
    code, _, err = run(["map", str(samples_dir / "avro" / "users.behaviors.Purchase.avro"), "-o",
                        str(tmp_path / "no" / "such" / "dir" / "out.ndjson")], capsys)
    assert code == 2 and "cannot write" in err


def test_map_as_a_process_no_traceback(tmp_path):
    """A bad file through the real console entry point: one line on stderr, non-zero exit, no traceback."""
    bad = tmp_path / "bad.avro"
    bad.write_bytes(b"Obj\x01\x00\x00broken")
    proc = subprocess.run([sys.executable, "-m", "harness", "map", str(bad)], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().count("\n") == 0


# --- harness list --------------------------------------------------------------------------------------------

def test_list_events_table(capsys):
    code, out, err = run(["list", "events"], capsys)
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["TYPE", "GROUP", "EXPORTED", "PARTNER", "PAGE", "MIXPANEL", "EVENT"]
    assert len(lines) == 1 + 97
    assert any(line.startswith("users.messages.rcs.Abort") and line.endswith('"Abort "') for line in lines)
    assert "97 types, 80 exported under profile current (export_set glossary)" in err


def test_list_events_json_legacy(capsys):
    code, out, _ = run(["list", "events", "--profile", "legacy", "--exported", "--json"], capsys)
    entries = json.loads(out)
    assert code == 0 and len(entries) == 41
    names = {e["type"]: e["mixpanel_event"] for e in entries}
    assert names["users.messages.sms.InboundReceive"] == "SMS Inbound Receipt"
    assert names["users.behaviors.app.NewsFeedImpression"] == "News Feed Impression"


def test_list_events_export_set_column_and_filter_section_5(capsys):
    """currents-to-mixpanel.md §5 summary / §11 `export_set`: the table shows which types Braze's Mixpanel
    partner page lists; `--export-set partner_page` exports only those 55, the other 25 say why."""
    code, out, _ = run(["list", "events"], capsys)
    rows = {line.split()[0]: line.split() for line in out.splitlines()[1:]}
    assert rows["users.messages.email.Open"][2:4] == ["yes", "yes"]  # exported, on the partner page
    assert rows["users.messages.email.Deferral"][2:4] == ["yes", "no"]  # glossary only
    code, _, err = run(["list", "events", "--export-set", "partner_page"], capsys)
    assert code == 0 and "97 types, 55 exported under profile current (export_set partner_page)" in err
    code, out, _ = run(["list", "events", "--export-set", "partner_page", "--json"], capsys)
    entries = {e["type"]: e for e in json.loads(out)}
    assert sum(e["exported"] for e in entries.values()) == 55
    assert entries["users.messages.email.Deferral"]["exported"] is False
    assert entries["users.messages.email.Deferral"]["status"] == "not_in_export_set"
    assert entries["users.messages.email.Deferral"]["export_sets"] == ["glossary"]
    assert entries["users.messages.email.Open"]["export_sets"] == ["glossary", "partner_page"]
    code, out, _ = run(["list", "events", "--export-set", "partner_page", "--exported", "--json"], capsys)
    assert len(json.loads(out)) == 55


def test_map_set_export_set_partner_page_section_11(tmp_path, capsys):
    """§11 `export_set = partner_page` through `harness map --set`: a glossary-only type is not exported."""
    lines = [
        {"event_type": "users.messages.email.Open", "id": "1", "time": 1, "external_user_id": "e"},
        {"event_type": "users.messages.email.Deferral", "id": "2", "time": 1, "external_user_id": "e"},
    ]
    path = tmp_path / "in.ndjson"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    code, out, err = run(["map", str(path)], capsys)
    assert code == 0 and [e["event"] for e in events_of(out)] == ["Email Open", "Email Deferral"]
    code, out, err = run(["map", str(path), "--set", "export_set=partner_page"], capsys)
    assert code == 0 and [e["event"] for e in events_of(out)] == ["Email Open"]
    assert "not exported: 1" in err
    code, _, err = run(["map", str(path), "--set", "export_set=everything"], capsys)
    assert code == 2 and "export_set" in err


def test_list_scenarios_none_and_some(tmp_path, capsys):
    code, out, _ = run(["list", "scenarios", "--dir", str(tmp_path)], capsys)
    assert code == 0 and "no scenarios" in out
    (tmp_path / "b.yaml").write_text("description: >\n  Second\n  scenario\nsteps: []\n", encoding="utf-8")
    (tmp_path / "a.yaml").write_text("description: First one\n", encoding="utf-8")
    (tmp_path / "broken.yaml").write_text("description: [unclosed\n", encoding="utf-8")
    code, out, _ = run(["list", "scenarios", "--dir", str(tmp_path)], capsys)
    lines = out.splitlines()
    assert code == 0 and lines[1].split(None, 1) == ["a.yaml", "First one"]
    assert lines[2].split(None, 1) == ["b.yaml", "Second scenario"]
    assert "unreadable" in lines[3]
    code, out, _ = run(["list", "scenarios", "--dir", str(tmp_path), "--json"], capsys)
    assert [e["name"] for e in json.loads(out)] == ["a.yaml", "b.yaml", "broken.yaml"]


@pytest.fixture(scope="session")
def custom_http_dir(samples_dir):
    return samples_dir / "custom-http"


@pytest.mark.skipif(not __import__("os").path.exists("/dev/full"), reason="needs /dev/full")
def test_map_full_disk_one_line(samples_dir, capsys):
    path = samples_dir / "avro" / "users.behaviors.Purchase.avro"
    code, _, err = run(["map", "-q", str(path), "-o", "/dev/full"], capsys)
    assert code == 2 and "cannot write /dev/full" in err and err.count("\n") == 1


def test_map_without_input_on_a_terminal(capsys, monkeypatch):
    class Terminal(io.TextIOWrapper):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Terminal(io.BytesIO(b"")))
    code = main(["map"])
    assert code == 2 and "no input" in capsys.readouterr().err


# --- issue 12 item 9: what a newcomer feeds `harness map` -------------------------------------------------


def _generate(*argv: str) -> None:
    assert main(["generate", "-q", *argv]) == 0


def test_map_refuses_to_overwrite_its_input(tmp_path, capsys):
    source = tmp_path / "events.ndjson"
    _generate("-n", "20", "-o", str(source))
    before = source.read_bytes()
    capsys.readouterr()
    for target in (source, tmp_path / "." / "events.ndjson"):
        code, out, err = run(["map", str(source), "-o", str(target)], capsys)
        assert code == 2 and err.count("\n") == 1
        assert "is also an input" in err and source.read_bytes() == before


def test_map_says_mixpanel_events_are_not_currents(tmp_path, capsys):
    """The harness's own mapped output fed back to `harness map` (currents-to-mixpanel.md §1: inputs are Currents)."""
    mapped = tmp_path / "mapped.ndjson"
    _generate("-n", "200", "--format", "mixpanel", "-o", str(mapped))
    capsys.readouterr()
    code, out, err = run(["map", str(mapped)], capsys)
    assert code == 2 and out == ""
    assert err.strip() == (f"harness map: error: {mapped}: these look like Mixpanel events "
                           '({"event": ..., "properties": ...}), not Braze Currents events; `harness map` reads '
                           "Currents exports or captures")


def test_map_walks_a_directory_tree(tmp_path, capsys):
    """Braze's storage exports are nested folders (event_type=.../date=.../...avro): `harness map DIR` reads
    every data file under DIR in name order, skipping hidden and marker files."""
    root = tmp_path / "export"
    _generate("-n", "300", "--format", "avro", "-o", str(root / "avro") + "/")
    (root / "more" / "deeper").mkdir(parents=True)
    _generate("-n", "40", "--seed", "2", "-o", str(root / "more" / "deeper" / "events.ndjson"))
    (root / "_SUCCESS").write_text("")
    (root / "more" / ".hidden.json").write_text("not json")
    files = sorted(str(p) for p in root.rglob("*") if p.is_file() and not p.name.startswith((".", "_")))
    capsys.readouterr()
    code, by_dir, err = run(["map", str(root), "-q"], capsys)
    assert code == 0, err
    code, by_files, _ = run(["map", *files, "-q"], capsys)
    assert code == 0 and by_dir == by_files and len(events_of(by_dir)) > 40


def test_map_of_an_empty_directory_or_file_says_so(tmp_path, capsys):
    (tmp_path / "empty-dir").mkdir()
    code, _, err = run(["map", str(tmp_path / "empty-dir")], capsys)
    assert code == 2 and "empty directory" in err and err.count("\n") == 1
    empty = tmp_path / "empty.ndjson"
    empty.write_bytes(b"\n")
    code, out, err = run(["map", str(empty)], capsys)
    assert (code, out) == (2, "") and err == f"harness map: error: no Currents records in the input: {empty} is empty\n"


def test_map_warns_about_an_empty_file_among_others(tmp_path, capsys):
    empty, full = tmp_path / "empty.json", tmp_path / "full.ndjson"
    empty.write_bytes(b"")
    _generate("-n", "30", "-o", str(full))
    capsys.readouterr()
    code, out, err = run(["map", str(empty), str(full)], capsys)
    assert code == 0 and out and f"harness map: warning: {empty} is empty (no records)" in err


def test_map_empty_stdin_says_so(capsys, monkeypatch):
    code, out, err = run(["map"], capsys, stdin=b"", monkeypatch=monkeypatch)
    assert (code, out) == (2, "") and "no Currents records in the input: <stdin> is empty" in err
