"""Reports (issue 10 item 4): JUnit XML read back with junitparser (one test case per scenario, the diff in the
failure message), the JSON report's shape, and a self-contained HTML report whose failing case shows its diff,
timeline and replay command with no external asset."""

from __future__ import annotations

import json
import textwrap
from html.parser import HTMLParser
from pathlib import Path

import junitparser
import pytest
from conftest import DATA

from harness.scenarios.loader import load_cases
from harness.scenarios.reports import REPORT_WRITERS
from harness.scenarios.runner import run_scenarios

FAILING = """
name: segment_expected_wrong
tags: [report]
seed: 3
users: [{external_id: u1, profile: {plan: pro}}, {external_id: u2, profile: {plan: free}}]
cohorts:
  - {id: 5, name: Pro, definition: {profile: {property: plan, equals: pro}}}
faults:
  braze:
    - {match: {endpoint: cohorts/users}, nth: [1], action: {type: status, status: 503, body: {message: busy}}}
steps:
  - advance: 10s
expect:
  - segment: {cohort: 5, equals: [u1, u2]}
"""
CRASHING = """
name: crashes_for_the_report
users: [{device_ids: [d1]}]
steps:
  - identify: {device_id: nope, external_id: u9}
"""


@pytest.fixture(scope="module")
def run_result(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cases")
    (folder / "f.yaml").write_text(textwrap.dedent(FAILING).lstrip(), encoding="utf-8")
    (folder / "g.yaml").write_text(textwrap.dedent(CRASHING).lstrip(), encoding="utf-8")
    return run_scenarios(load_cases([DATA / "custom.yaml", folder]))


def test_junit_has_one_test_case_per_scenario_with_the_diff(run_result, tmp_path):
    path = tmp_path / "junit.xml"
    REPORT_WRITERS["junit"].write(run_result, path)
    xml = junitparser.JUnitXml.fromfile(str(path))
    cases = {case.name: case for suite in xml for case in suite}
    assert set(cases) == {"custom_event_prefixed", "segment_expected_wrong", "crashes_for_the_report"}
    assert cases["custom_event_prefixed"].is_passed
    (failure,) = cases["segment_expected_wrong"].result
    assert isinstance(failure, junitparser.Failure)
    assert "missing: u2" in failure.text and "segment" in failure.message
    (error,) = cases["crashes_for_the_report"].result
    assert isinstance(error, junitparser.Error) and "Traceback" in error.text
    assert "harness run" in cases["segment_expected_wrong"].system_out


def test_json_report_has_steps_expectations_outcomes_timings_seed_and_replay(run_result, tmp_path):
    path = tmp_path / "run.json"
    REPORT_WRITERS["json"].write(run_result, path)
    data = json.loads(path.read_text())
    assert data["summary"] | {"wall_s": 0} == {"passed": 1, "failed": 1, "error": 1, "total": 3, "wall_s": 0,
                                               "sut": "reference", "seed_override": None}
    case = next(c for c in data["cases"] if c["name"] == "segment_expected_wrong")
    assert case["seed"] == 3 and case["replay"].startswith("harness run ")
    assert case["steps"][0]["kind"] == "advance" and case["checks"][0]["outcome"]["passed"] is False
    assert case["wall_s"] > 0 and case["end"] - case["start"] == 10
    lanes = {entry["lane"] for entry in case["timeline"]}
    assert {"step", "braze", "sync", "check"} <= lanes
    assert any("fault" in entry["text"] for entry in case["timeline"])  # the 503 fault shows on the timeline


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.external: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        for name, value in attrs:
            if name in ("src", "href") and value and not value.startswith("#"):
                self.external.append(value)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_report_is_self_contained_and_shows_the_failure_diff_and_timeline(run_result, tmp_path):
    path = tmp_path / "run.html"
    REPORT_WRITERS["html"].write(run_result, path)
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    text = "".join(page.text)
    assert page.external == [] and "script" not in page.tags
    assert "missing: u2" in text and "Timeline (simulated time from the start)" in text
    assert "POST /partners/mixpanel/cohorts/users → 503" in text
    assert "harness run" in text and "Traceback" in text
    assert "harness-partner-key" not in text and "harness-data-import-key" not in text  # masked journal


def test_the_cli_writes_every_report_and_refuses_a_missing_folder(tmp_path):
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-m", "harness", "run", str(DATA / "custom.yaml"), "--junit",
                           str(tmp_path / "j.xml"), "--json", str(tmp_path / "r.json"), "--html",
                           str(tmp_path / "r.html")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert all((tmp_path / n).stat().st_size > 0 for n in ("j.xml", "r.json", "r.html"))
    missing = subprocess.run([sys.executable, "-m", "harness", "run", str(DATA / "custom.yaml"), "--junit",
                              str(Path(tmp_path) / "no" / "j.xml")], capture_output=True, text=True, timeout=300)
    assert missing.returncode == 2 and "folder" in missing.stderr and "does not exist" in missing.stderr
