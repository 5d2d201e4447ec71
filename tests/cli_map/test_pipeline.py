"""The `harness map` engine: NDJSON chunks, worker processes, identical output whatever the job count."""

from __future__ import annotations

import dataclasses
import json
import pickle

import pytest

from harness.cli import main
from harness.mapping import MappingConfig, MappingReport, PlanCache, map_currents_event
from harness.mapping.pipeline import auto_jobs, map_ndjson


def _lines(custom_http_dir, n: int = 300) -> bytes:
    events = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(custom_http_dir.rglob("*.json"))]
    out = []
    for i in range(n):
        event = dict(events[i % len(events)], id=f"id-{i}")
        if i % 37 == 0:
            event["user"] = dict(event["user"], external_user_id=None)
        out.append(json.dumps(event))
        if i % 50 == 7:
            out.append("{not json")
        if i % 90 == 3:
            out.append("")
    return ("\n".join(out) + "\n").encode()


def test_chunked_mapping_equals_record_by_record(shapes_dir):
    """Chunks of a few hundred bytes (many boundaries) give the same events, counts and line numbers."""
    data = _lines(shapes_dir / "custom-http", 120)
    config = MappingConfig(token="t")
    outcomes = list(map_ndjson(data, None, config, jobs=1, chunk_bytes=700))
    assert len(outcomes) > 10
    expected_events, report = [], MappingReport()
    bad_lines = []
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            bad_lines.append(number)
            report.add(map_currents_event(None, config))
            continue
        result = map_currents_event(record, config, size=len(line))
        report.add(result)
        if result.mapped:
            expected_events.append(result.event)
    merged = MappingReport()
    for outcome in outcomes:
        merged.merge(outcome.report)
    got = [json.loads(x) for o in outcomes for x in o.output.splitlines()]
    assert got == expected_events
    assert merged.as_dict() == report.as_dict()
    assert [n for o in outcomes for n, _ in o.malformed] == bad_lines  # absolute line numbers across chunks
    assert sum(o.malformed_count for o in outcomes) == len(bad_lines)


def test_jobs_do_not_change_the_output(shapes_dir, tmp_path, capsys):
    """`--jobs 2` writes byte-for-byte what `--jobs 1` writes, with the same counts and exit status."""
    path = tmp_path / "in.ndjson"
    path.write_bytes(_lines(shapes_dir / "custom-http", 3000))
    results = {}
    for jobs in ("1", "2"):
        out = tmp_path / f"out-{jobs}.ndjson"
        code = main(["map", str(path), "-o", str(out), "--jobs", jobs])
        results[jobs] = (code, out.read_bytes(), capsys.readouterr().err)
    assert results["1"] == results["2"]
    assert results["1"][0] == 1  # malformed lines present
    assert "malformed record" in results["1"][2]


def test_config_pickles_without_compiled_plans():
    """A config is plain settings (workers get it pickled); compiled plans stay in the process's PlanCache."""
    cache = PlanCache()
    config = MappingConfig(profile="legacy", token="x")
    map_currents_event({"event_type": "users.messages.email.Send", "external_user_id": "e"}, config, cache=cache)
    assert cache.for_config(config).plans
    assert set(vars(config)) == {f.name for f in dataclasses.fields(MappingConfig)}  # nothing compiled on it
    copy = pickle.loads(pickle.dumps(config))
    assert copy == config and set(vars(copy)) == set(vars(config))
    assert cache.for_config(copy).plans == {}
    assert map_currents_event({"event_type": "users.messages.email.Send", "external_user_id": "e", "id": "i",
                               "time": 1}, copy, cache=cache).event["properties"]["token"] == "x"


def test_auto_jobs():
    assert auto_jobs(1000) == 1
    assert auto_jobs(100 << 20) >= 1


def test_bad_jobs_option(capsys):
    with pytest.raises(SystemExit):
        main(["map", "--jobs", "0"])
    assert "at least 1" in capsys.readouterr().err


def test_auto_jobs_only_where_workers_pay():
    """Issue 12 item 12: workers cost about a third more CPU than one process, so `auto` starts them only for a
    large input with at least two idle CPUs (the load average, less this process itself)."""
    big = 100 << 20
    assert auto_jobs(big, cpus=2, load=0.3) == 2
    assert auto_jobs(big, cpus=2, load=1.0) == 2  # this process alone keeps the load at about one
    assert auto_jobs(big, cpus=2, load=1.8) == 1  # someone else is busy: one process is faster
    assert auto_jobs(big, cpus=2, load=9.0) == 1  # a shared, loaded machine
    assert auto_jobs(big, cpus=16, load=2.0) == 4  # never more than MAX_AUTO_JOBS
    assert auto_jobs(1000, cpus=16, load=0.0) == 1  # small input: starting workers costs more than it saves


def test_map_chooses_jobs_automatically_by_default(tmp_path, samples_dir, capsys, monkeypatch):
    from harness.cli.commands import map as command

    source = tmp_path / "events.ndjson"
    source.write_bytes(_lines(samples_dir / "custom-http", 50))
    asked: list[int] = []
    monkeypatch.setattr(command, "auto_jobs", lambda size: asked.append(size) or 1)
    assert main(["map", str(source), "-q"]) in (0, 1)
    assert asked == [source.stat().st_size]
    asked.clear()
    assert main(["map", str(source), "-q", "--jobs", "1"]) in (0, 1)
    assert asked == []  # an explicit number is taken as given
