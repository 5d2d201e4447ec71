"""A malformed scenario file gets one clear line naming the file, the line and the key path (issue 10 item 1),
from `load_cases` and from `harness run` (exit 2, no traceback)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harness.scenarios.loader import load_cases, load_file
from harness.scenarios.source import ScenarioError


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ScenarioError) as caught:
        load_file(path)
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(("body", "expected"), [
    ("name: x\nsteps:\n  - advance: 2h\n  - advance: 2x\n", ":4: steps[1].advance: expected a duration like 2h"),
    ("name: x\nstep: []\n", ":2: step: unknown key (expected one of: cohorts, "),
    ("name: x\nsteps:\n  - frobnicate: 1\n", ":3: steps[0].frobnicate: unknown key (expected one of: advance, at,"),
    ("name: x\nseed: abc\n", ":2: seed: expected an integer, got the string 'abc'"),
    ("name: x\nsteps:\n  - advance: 1h\n    at: 2h\n", ":3: steps[0]: expected exactly one of: advance,"),
    ("name: x\nexpect:\n  - segment: {cohort: 9, equals: [a]}\n", ":3: expect[0].segment.cohort: cohort 9 is not "
                                                                  "defined in cohorts"),
    ("name: x\ncohorts:\n  - {id: 1, name: c, definition: {did_event: {event: E, min_count: -1}}}\n",
     ":3: cohorts[0].definition: bad cohort definition: did_event.min_count"),
    ("description: no name\n", ":1: missing required key 'name'"),
    ("name: x\nseed: 1\nseed: 2\n", ":3: duplicate key 'seed'"),
    ("name: Not A Name\n", ":1: name: expected a lower-case name"),
    ("- just\n- a list\n", ":1: a scenario file holds a mapping"),
    ("name: x\nevents:\n  - {event_type: T, id: e, user: {device_model: iPhone15,2}}\n",
     ":3: events[0].user: keys must be strings, got 2 (quote it; a comma inside {...} starts a new key)"),
])
def test_a_malformed_file_is_one_line_with_file_line_and_key(tmp_path, body, expected):
    path = write(tmp_path, "bad.yaml", body)
    message = error_of(path)
    assert message.startswith(f"{path}:") and expected in message


def test_bad_yaml_names_the_line(tmp_path):
    path = write(tmp_path, "bad.yaml", "name: x\nsteps:\n  - advance: 1h\n   bad: [\n")
    message = error_of(path)
    assert "bad.yaml:4: invalid YAML" in message


def test_a_missing_event_file_is_named_at_its_key(tmp_path):
    path = write(tmp_path, "s.yaml", "name: x\nevents:\n  - file: nope.json\n")
    assert "s.yaml:3: events[0].file: file 'nope.json' not found" in error_of(path)


def test_an_empty_file_says_so(tmp_path):
    assert "s.yaml: the file is empty" in error_of(write(tmp_path, "s.yaml", "# nothing\n"))


def test_errors_inside_an_included_fragment_point_into_the_fragment(tmp_path):
    write(tmp_path, "frag.yaml", "steps:\n  - advance: soon\n")
    path = write(tmp_path, "s.yaml", "name: x\ninclude: [frag.yaml]\nsteps:\n  - advance: 1h\n")
    message = error_of(path)
    assert "frag.yaml:2: steps[0].advance: expected a duration" in message


def test_a_missing_include_is_named(tmp_path):
    path = write(tmp_path, "s.yaml", "name: x\ninclude: [gone.yaml]\n")
    assert "s.yaml:2: include[0]: included file 'gone.yaml' not found" in error_of(path)


def test_includes_merge_mappings_and_concatenate_lists(tmp_path):
    write(tmp_path, "frag.yaml", "seed: 3\nusers: [{external_id: a}]\nconfig: {sync: {batch_size: 10}}\n")
    path = write(tmp_path, "s.yaml", "name: x\ninclude: [frag.yaml]\nusers: [{external_id: b}]\n"
                                     "config: {sync: {dynamic_interval_s: 60}}\n")
    (case,) = load_file(path)
    assert case.seed == 3
    assert [u["external_id"] for u in case.data["users"]] == ["a", "b"]
    assert case.data["config"]["sync"] == {"batch_size": 10, "dynamic_interval_s": 60}
    assert case.line_of(("users", 1)) == 3 and case.provenance[("users", 0)][0].endswith("frag.yaml")


def test_a_matrix_expands_into_cases_with_substituted_values(tmp_path):
    path = write(tmp_path, "s.yaml", """
        name: m
        matrix: {profile: [current, legacy], interval: [2h, 4h]}
        mapping: {profile: "${profile}"}
        cohorts:
          - {id: 1, name: "c ${interval}", definition: {ids: [a]}, sync: {type: dynamic, interval: "${interval}"}}
    """)
    cases = load_file(path)
    assert [c.case_id for c in cases] == ["m[profile=current,interval=2h]", "m[profile=current,interval=4h]",
                                          "m[profile=legacy,interval=2h]", "m[profile=legacy,interval=4h]"]
    assert cases[3].data["mapping"] == {"profile": "legacy"}
    assert cases[3].data["cohorts"][0]["sync"]["interval"] == "4h" and cases[3].data["cohorts"][0]["name"] == "c 4h"


def test_a_matrix_value_is_checked_like_any_value(tmp_path):
    path = write(tmp_path, "s.yaml", "name: m\nmatrix: {d: [1h, later]}\nsteps:\n  - advance: \"${d}\"\n")
    assert "s.yaml:4: steps[0].advance: expected a duration" in error_of(path)


def test_two_files_with_one_name_are_refused(tmp_path):
    write(tmp_path, "a.yaml", "name: same\n")
    write(tmp_path, "b.yaml", "name: same\n")
    with pytest.raises(ScenarioError, match="scenario name 'same' is also used by"):
        load_cases([tmp_path])


def test_harness_run_answers_a_bad_file_with_one_line_and_exit_2(tmp_path):
    path = write(tmp_path, "bad.yaml", "name: x\nsteps:\n  - advance: 2x\n")
    done = subprocess.run([sys.executable, "-m", "harness", "run", str(path)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert "bad.yaml:3: steps[0].advance: expected a duration like 2h" in done.stderr
    assert "Traceback" not in done.stderr


def test_nested_aliases_cannot_blow_the_file_up(tmp_path):
    lines = ["name: x", "a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    path = write(tmp_path, "lol.yaml", "\n".join(lines) + "\n")
    assert "expands to more than 500,000 values (nested YAML aliases?)" in error_of(path)


def test_a_folder_without_scenario_files_is_bad_input(tmp_path):
    done = subprocess.run([sys.executable, "-m", "harness", "run", str(tmp_path)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2
    assert f"no scenario files (*.yaml, *.yml) under {tmp_path}" in done.stderr
