"""The runner (issue 10 item 2): isolation and determinism by seed, parallel runs, selection, --list,
--last-failed, --seed, the replay command, a crashing scenario reported as an error while the run goes on, and
the exit statuses."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

from conftest import DATA

from harness.scenarios.loader import load_cases, load_file
from harness.scenarios.runner import RunOptions, replay_command, run_scenarios, select

CRASHING = """
name: crashes_on_unknown_device
tags: [broken]
users: [{device_ids: [d1]}]
steps:
  - identify: {device_id: no-such-device, external_id: u9}
"""
FAILING = """
name: expects_the_wrong_count
tags: [broken]
seed: 5
users: [{external_id: u1}]
events:
  - {event_type: users.behaviors.CustomEvent, id: e1, time: 1767225000, user: {user_id: b1, external_user_id: u1},
     properties: {name: Ping}}
expect:
  - event_counts: {total: 2}
"""


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CI": "true"}
    return subprocess.run([sys.executable, "-m", "harness", "run", *args], capture_output=True, text=True,
                          timeout=300, cwd=cwd, env=env)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def _comparable(data: dict) -> dict:
    return {k: v for k, v in data.items() if k not in ("wall_s",)}


def test_the_same_seed_gives_the_same_result_byte_for_byte():
    (case,) = load_file(DATA / "clicks.yaml")
    first, second = (run_scenarios([case]).cases[0].to_json() for _ in range(2))
    assert first["status"] == "passed"
    assert json.dumps(_comparable(first), sort_keys=True) == json.dumps(_comparable(second), sort_keys=True)


def test_a_seed_override_changes_the_world_and_is_in_the_replay_command():
    (case,) = load_file(DATA / "clicks.yaml")
    default = run_scenarios([case]).cases[0]
    other = run_scenarios([case], RunOptions(seed=99)).cases[0]
    assert other.seed == 99 and "--seed 99" in other.replay
    assert other.summary["mixpanel"] != default.summary["mixpanel"] or other.timeline != default.timeline


def test_parallel_runs_give_the_same_results_in_the_same_order():
    cases = load_cases([DATA])
    serial = run_scenarios(cases, RunOptions(jobs=1))
    parallel = run_scenarios(cases, RunOptions(jobs=2))
    assert [c.case_id for c in parallel.cases] == [c.case_id for c in serial.cases]
    assert [json.dumps(_comparable(c.to_json()), sort_keys=True) for c in parallel.cases] == \
        [json.dumps(_comparable(c.to_json()), sort_keys=True) for c in serial.cases]


def test_a_crashing_scenario_is_an_error_with_its_traceback_and_the_run_goes_on(tmp_path):
    write(tmp_path, "a_crash.yaml", CRASHING)
    write(tmp_path, "b_fine.yaml", (DATA / "custom.yaml").read_text())
    result = run_scenarios(load_cases([tmp_path]))
    crashed, fine = result.cases
    assert crashed.status == "error" and "Traceback" in (crashed.error or "")
    assert "steps[0].identify: no Braze profile has device id 'no-such-device'" in (crashed.error or "")
    assert fine.status == "passed" and result.counts == {"passed": 1, "failed": 0, "error": 1}


def test_exit_status_is_0_all_passed_1_some_failed(tmp_path):
    assert cli(str(DATA / "custom.yaml")).returncode == 0
    write(tmp_path, "f.yaml", FAILING)
    done = cli(str(tmp_path / "f.yaml"))
    assert done.returncode == 1
    assert "expect[0]: event counts differ" in done.stderr and "total: expected 2, got 1" in done.stderr
    assert "replay: harness run" in done.stderr and "1 failed" in done.stderr


def test_the_replay_command_reproduces_the_failure_exactly(tmp_path):
    write(tmp_path, "f.yaml", FAILING)
    (case,) = load_cases([tmp_path])
    result = run_scenarios([case], RunOptions(seed=11)).cases[0]
    argv = shlex.split(result.replay)
    assert argv[:2] == ["harness", "run"] and "--seed" in argv
    again = cli(*argv[2:], "--json", str(tmp_path / "again.json"))
    replayed = json.loads((tmp_path / "again.json").read_text())["cases"][0]
    assert again.returncode == 1 and replayed["seed"] == 11
    assert replayed["checks"] == json.loads(json.dumps(result.to_json()["checks"]))


def test_selection_by_keyword_tag_and_list(tmp_path):
    write(tmp_path, "f.yaml", FAILING)
    write(tmp_path, "c.yaml", CRASHING)
    cases = load_cases([DATA, tmp_path])
    assert [c.name for c in select(cases, keyword="clicks")] == ["clicks_reach_a_segment"]
    assert [c.name for c in select(cases, keyword="*_prefixed")] == ["custom_event_prefixed"]
    assert {c.name for c in select(cases, tags=["broken"])} == {"expects_the_wrong_count", "crashes_on_unknown_device"}
    listed = cli(str(DATA), str(tmp_path), "--list", "--tag", "broken")
    assert listed.returncode == 0
    assert sorted(line.split()[0] for line in listed.stdout.splitlines()) == [
        "crashes_on_unknown_device", "expects_the_wrong_count"]
    assert "2 of 5 cases selected" in listed.stderr


def test_last_failed_runs_only_what_failed_last_time(tmp_path):
    write(tmp_path, "f.yaml", FAILING)
    write(tmp_path, "ok.yaml", (DATA / "custom.yaml").read_text())
    assert cli(str(tmp_path), cwd=tmp_path).returncode == 1
    again = cli(str(tmp_path), "--last-failed", cwd=tmp_path)
    assert again.returncode == 1
    assert "expects_the_wrong_count" in again.stderr and "custom_event_prefixed" not in again.stderr
    assert "0 passed, 1 failed" in again.stderr


def test_the_replay_command_names_the_case_and_sut():
    (case,) = load_file(DATA / "custom.yaml")
    line = replay_command(case, RunOptions(sut_spec="mypkg.mod:deliver", seed=4))
    assert shlex.split(line) == ["harness", "run", case.file, "-k", "custom_event_prefixed", "--seed", "4",
                                 "--sut", "mypkg.mod:deliver"]
