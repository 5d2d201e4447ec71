"""The published JSON Schema is the one description of a scenario file (issue 10 item 1): it is valid, the
runner knows every step and expectation it allows, and the reference page documents every key."""

from __future__ import annotations

from pathlib import Path

import jsonschema

from harness.scenarios.expectations import EXPECTATIONS
from harness.scenarios.library import bundled_scenarios_dir
from harness.scenarios.loader import scenario_schema
from harness.scenarios.steps import STEPS

REFERENCE = Path(bundled_scenarios_dir()) / "REFERENCE.md"


def test_the_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(scenario_schema())


def test_every_step_and_expectation_of_the_schema_has_its_implementation_and_no_more():
    defs = scenario_schema()["$defs"]
    assert set(defs["step"]["properties"]) == set(STEPS)
    assert set(defs["expectation"]["properties"]) == set(EXPECTATIONS)


def test_the_reference_page_documents_every_key():
    text = REFERENCE.read_text(encoding="utf-8")
    schema = scenario_schema()
    defs = schema["$defs"]
    keys = set(schema["properties"]) | set(defs["step"]["properties"]) | set(defs["expectation"]["properties"])
    keys |= set(schema["properties"]["world"]["properties"]) | set(defs["user"]["properties"])
    keys |= set(defs["cohort"]["properties"])
    missing = sorted(k for k in keys if f"`{k}" not in text and f"{k}:" not in text and f"{k}`" not in text)
    assert missing == []


def test_the_readme_scenario_example_loads_and_passes(tmp_path):
    import re

    from harness.scenarios.loader import load_file
    from harness.scenarios.runner import run_scenarios

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    (example,) = [block for block in re.findall(r"```yaml\n(.*?)```", readme, flags=re.S)
                  if "name: email_clickers_reach_a_segment" in block]
    path = tmp_path / "example.yaml"
    path.write_text(example, encoding="utf-8")
    result = run_scenarios(load_file(path))
    assert result.ok, result.cases[0].failure_text()
