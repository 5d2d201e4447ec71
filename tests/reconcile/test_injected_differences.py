"""Both sides from the generator; known differences injected into the export; reconcile reports exactly them
(issue 11, "Done when"; buckets as in harness/reconcile/result.py)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from export_builder import (
    ANCHOR,
    WINDOW_FROM,
    WINDOW_TO,
    generate_storage_layout,
    key_of,
    mixpanel_rows,
    write_export,
)

from harness.mapping import MappingConfig
from harness.reconcile import parse_window, reconcile

WINDOW = parse_window(WINDOW_FROM, WINDOW_TO)


@pytest.fixture(scope="module")
def sides(tmp_path_factory):
    root = tmp_path_factory.mktemp("sides")
    paths = generate_storage_layout(root / "currents", 1500, seed=11)
    rows = mixpanel_rows(paths)
    return root / "currents", rows


def run(tmp_path: Path, currents: Path, rows: list[dict], **options):
    export = write_export(rows, tmp_path / "export.jsonl", compress=options.pop("compress", False))
    return reconcile([currents], [export], MappingConfig(), options.pop("window", WINDOW), **options)


def test_untouched_export_reconciles_clean(tmp_path, sides):
    currents, rows = sides
    result = run(tmp_path, currents, rows)
    summary = result.summary
    assert summary["matched"] == len(rows)
    assert {k: v for k, v in summary.items() if k not in ("matched", "not_exported")} == {
        "missing": 0, "extra": 0, "duplicates": 0, "mismatched": 0, "outside_window": 0}
    assert summary["not_exported"] > 0  # anonymous users (E2) and types not exported (§5): counted, no error
    assert sum(result.not_exported_reasons.values()) == summary["not_exported"]
    assert result.exit_status == 0


def test_gzip_export_reads_the_same(tmp_path, sides):
    currents, rows = sides
    assert run(tmp_path, currents, rows, compress=True).summary == run(tmp_path, currents, rows).summary


def test_injected_differences_are_reported_exactly(tmp_path, sides):
    currents, rows = sides
    rows = copy.deepcopy(rows)
    dropped = [rows.pop(3), rows.pop(40), rows.pop(77)]
    duplicated = [rows[5], rows[6]]
    rows.extend(copy.deepcopy(duplicated))
    changed = rows[10]
    changed_key = next(k for k in changed["properties"] if not k.startswith(("$", "mp_")) and k not in (
        "distinct_id", "time", "token"))
    original_value = changed["properties"][changed_key]
    changed["properties"][changed_key] = "changed by the test"
    unexplained = {"event": "Email Open", "properties": {
        "distinct_id": "nobody-sent-this", "time": ANCHOR - 3600, "$insert_id": "00000000-0000-4000-8000-000000000001",
        "$partner_id": "braze", "mp_processing_time_ms": 1}}
    rows.append(unexplained)
    shifted = rows[20]
    shifted_original = key_of(shifted)
    shifted["properties"]["time"] = ANCHOR + 30 * 86_400  # outside the window

    result = run(tmp_path, currents, rows)
    summary = result.summary
    # The shifted row is outside the window, so the event it should have been is missing.
    assert {k: v for k, v in summary.items() if k not in ("matched", "not_exported")} == {
        "missing": 4, "extra": 1, "duplicates": 2, "mismatched": 1, "outside_window": 1}
    samples = result.tally.samples
    assert sorted(s["$insert_id"] for s in samples["missing"]) == sorted(
        [r["properties"]["$insert_id"] for r in dropped] + [shifted_original["$insert_id"]])
    assert [s["$insert_id"] for s in samples["extra"]] == [unexplained["properties"]["$insert_id"]]
    assert samples["extra"][0]["distinct_id"] == "nobody-sent-this"
    assert sorted(s["$insert_id"] for s in samples["duplicates"]) == sorted(
        r["properties"]["$insert_id"] for r in duplicated)
    assert all(s["copies"] == 2 and len(s["source"]["copies"]) == 2 for s in samples["duplicates"])
    (mismatch,) = samples["mismatched"]
    assert mismatch["$insert_id"] == changed["properties"]["$insert_id"]
    assert mismatch["differences"] == {changed_key: {"expected": original_value, "found": "changed by the test"}}
    assert [s["$insert_id"] for s in samples["outside_window"]] == [shifted_original["$insert_id"]]
    assert summary["matched"] == len(sides[1]) - 3 - 1 - 1  # dropped, changed, shifted
    assert result.by_type[changed["event"]]["mismatched"] == 1
    assert result.by_type["Email Open"]["extra"] >= 1
    assert result.exit_status == 1


def test_properties_mixpanel_adds_are_not_differences(tmp_path, sides):
    currents, rows = sides
    rows = copy.deepcopy(rows)
    for row in rows[:50]:
        row["properties"].update({"mp_lib": "python", "$mp_replay_id": "r", "mp_country_code": "DE",
                                  "token": "harness-token"})
    for row in rows[50:60]:
        row["properties"]["time"] = row["properties"]["time"] * 1000  # milliseconds: the same instant
    assert run(tmp_path, currents, rows).differences == 0


def test_floats_compare_within_the_tolerance(tmp_path, sides):
    currents, rows = sides
    rows = copy.deepcopy(rows)
    nudged = 0
    for row in rows:
        for key, value in row["properties"].items():
            if type(value) is float:
                row["properties"][key] = value * (1 + 1e-9)
                nudged += 1
                break
    result = run(tmp_path, currents, rows)
    assert result.differences == 0
    if nudged:
        row = next(r for r in rows if any(type(v) is float for v in r["properties"].values()))
        key = next(k for k, v in row["properties"].items() if type(v) is float)
        row["properties"][key] *= 1.01
        assert run(tmp_path, currents, rows).summary["mismatched"] == 1


def test_a_property_missing_or_added_is_a_mismatch(tmp_path, sides):
    currents, rows = sides
    rows = copy.deepcopy(rows)
    removed = next(k for k in rows[0]["properties"] if k == "$partner_id")
    del rows[0]["properties"][removed]
    rows[1]["properties"]["surprise"] = 1
    result = run(tmp_path, currents, rows)
    assert result.summary["mismatched"] == 2
    differences = {s["$insert_id"]: s["differences"] for s in result.tally.samples["mismatched"]}
    assert differences[rows[0]["properties"]["$insert_id"]] == {
        "$partner_id": {"expected": "braze", "found": {"absent": True}}}
    assert differences[rows[1]["properties"]["$insert_id"]] == {"surprise": {"expected": {"absent": True}, "found": 1}}


def test_repeated_currents_records_arriving_twice_are_not_duplicates(tmp_path, sides):
    """Currents is at-least-once: a record delivered twice may arrive twice; that is explained."""
    currents, rows = sides
    paths = sorted(currents.rglob("*.avro"))
    extra_dir = tmp_path / "again"
    again = generate_storage_layout(extra_dir, 1500, seed=11)  # the same records once more
    both = mixpanel_rows(paths) + mixpanel_rows(again)
    result = reconcile([currents, extra_dir], [write_export(both, tmp_path / "export.jsonl")], MappingConfig(), WINDOW)
    assert result.differences == 0
    assert result.inputs["currents"]["repeated_records"] == len(rows)


def test_window_excludes_records_on_both_sides(tmp_path, sides):
    currents, rows = sides
    times = sorted(r["properties"]["time"] for r in rows)
    middle = times[len(times) // 2]
    window = parse_window(str(middle), None)
    result = run(tmp_path, currents, rows, window=window)
    assert result.differences == 0
    before = sum(1 for t in times if t < middle)
    # an early export row and the Currents record it came from are both outside
    assert result.summary["outside_window"] >= 2 * before
    assert result.summary["matched"] == len(rows) - before


def test_a_subtree_of_the_layout_is_one_type(tmp_path, sides):
    currents, rows = sides
    subtree = next(p for p in sorted(currents.iterdir()) if p.name == "event_type=users.messages.email.Open")
    opens = [r for r in rows if r["event"] == "Email Open"]
    result = reconcile([subtree], [write_export(opens, tmp_path / "export.jsonl")], MappingConfig(), WINDOW)
    assert result.differences == 0
    assert result.summary["matched"] == len(opens) > 0


def test_worker_processes_give_the_same_result(tmp_path, sides):
    currents, rows = sides
    rows = copy.deepcopy(rows)
    del rows[100]
    rows.append(copy.deepcopy(rows[0]))
    rows[7]["properties"]["$partner_id"] = "someone else"
    one = run(tmp_path, currents, rows, jobs=1).as_dict()
    two = run(tmp_path, currents, rows, jobs=2).as_dict()
    assert one["inputs"]["currents"].pop("jobs") == 1 and two["inputs"]["currents"].pop("jobs") == 2
    assert one == two
    assert one["summary"]["missing"] == one["summary"]["duplicates"] == one["summary"]["mismatched"] == 1
