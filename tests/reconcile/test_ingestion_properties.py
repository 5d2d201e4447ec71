"""Properties Mixpanel adds on ingestion (`mp_*`, `$mp_*`, any name under those prefixes, not only the ones
every export carries) are never differences, while a compared property whose value merely looks like one
still is (issue 11 §3: "Properties Mixpanel adds on ingestion (`mp_*`, `$mp_*`) are not differences")."""

from __future__ import annotations

import copy

import pytest
from export_builder import WINDOW_FROM, WINDOW_TO, generate_storage_layout, mixpanel_rows, write_export

from harness.mapping import MappingConfig
from harness.reconcile import parse_window, reconcile
from harness.reconcile.properties import is_compared

WINDOW = parse_window(WINDOW_FROM, WINDOW_TO)


@pytest.fixture(scope="module")
def sides(tmp_path_factory):
    root = tmp_path_factory.mktemp("ingestion")
    paths = generate_storage_layout(root / "currents", 400, seed=5)
    return root / "currents", mixpanel_rows(paths)


def run(tmp_path, currents, rows):
    return reconcile([currents], [write_export(rows, tmp_path / "export.jsonl")], MappingConfig(), WINDOW)


def test_uncommon_ingestion_properties_are_not_differences(tmp_path, sides):
    currents, rows = sides
    rows = copy.deepcopy(rows)
    for number, row in enumerate(rows):
        row["properties"].update({"mp_lib": "python", "$mp_event_size": 812 + number, "mp_nested": {"a": [1]}})
    result = run(tmp_path, currents, rows)
    assert result.summary["matched"] == len(rows)
    assert result.summary["mismatched"] == 0
    assert result.exit_status == 0


def test_a_value_that_looks_like_an_ingestion_property_is_still_compared(tmp_path, sides):
    currents, rows = sides
    rows = copy.deepcopy(rows)
    target = rows[7]["properties"]
    key = next(k for k, v in target.items() if is_compared(k) and type(v) is str)
    target[key] = '"mp_x" and "$mp_y"'
    target["mp_lib"] = "python"
    result = run(tmp_path, currents, rows)
    assert result.summary["mismatched"] == 1
    assert result.summary["matched"] == len(rows) - 1
    (sample,) = result.tally.samples["mismatched"]
    assert list(sample["differences"]) == [key]
    assert sample["differences"][key]["found"] == '"mp_x" and "$mp_y"'
