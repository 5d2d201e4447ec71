"""The bundled scenario library (issue 10 item 3) runs in the test suite: every case passes on the reference
connectors, and `harness list scenarios` lists it."""

from __future__ import annotations

import json

import pytest

from harness.cli import main
from harness.scenarios.library import bundled_scenarios_dir
from harness.scenarios.loader import load_cases
from harness.scenarios.runner import RunOptions, run_one

CASES = load_cases([bundled_scenarios_dir()])


@pytest.mark.parametrize("case", CASES, ids=[c.case_id for c in CASES])
def test_bundled_scenario_passes(case):
    result = run_one(case, RunOptions())
    assert result.passed, f"{result.failure_text()}\nreplay: {result.replay}"


def test_the_library_is_at_least_sixty_behaviours_and_harness_list_scenarios_lists_them(capsys):
    files = {c.file for c in CASES}
    assert len(files) >= 60
    assert main(["list", "scenarios", "--json"]) == 0
    listed = {e["name"] for e in json.loads(capsys.readouterr().out)}
    assert len(listed) == len(files)
    assert all(e.endswith((".yaml", ".yml")) for e in listed)


def test_every_bundled_file_names_itself_and_cites_its_spec():
    for case in CASES:
        stem = case.file.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        assert case.name == stem, case.file
        assert "§" in case.description or ".md" in case.description, f"{case.file}: cite the spec section"
        assert case.tags, f"{case.file}: tag it"
