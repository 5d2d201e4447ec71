"""Braze's public sample Avro files, laid out in the storage path structure, reconcile against their own
mapping with zero differences (issue 11, "Done when"). Read in place from ../shared; never copied in."""

from __future__ import annotations

import shutil

from export_builder import as_exported, avro_records, storage_path, write_export

from harness.currents_io import TYPE_KEY
from harness.mapping import MappingConfig, map_currents_event
from harness.reconcile import reconcile

HOUR = 2_033_798_400  # the samples' hour (their `time` is 2033802504, spec §1)


def test_samples_reconcile_against_their_own_mapping(tmp_path, samples_dir):
    avro_files = sorted((samples_dir / "avro").glob("*.avro"))
    assert avro_files
    root = tmp_path / "currents"
    placed = []
    for source in avro_files:
        target = storage_path(root, source.name[: -len(".avro")], HOUR)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)  # into the test's tmp dir only
        placed.append(target)
    rows = []
    for type_id, record in avro_records(placed):
        record[TYPE_KEY] = type_id
        result = map_currents_event(record, MappingConfig())
        if result.event is not None:
            rows.append(as_exported(result.event, len(rows)))
    result = reconcile([root], [write_export(rows, tmp_path / "export.jsonl")], MappingConfig())
    assert result.differences == 0 and result.bad_line_count == 0
    summary = result.summary
    assert summary["matched"] > 0 and summary["not_exported"] > 0  # undocumented types: not exported (§5)
    assert result.exit_status == 0
    # every sample shares one id and time (§1), so types whose Mixpanel names coincide share a dedup key
    assert result.inputs["currents"]["repeated_records"] == len(rows) - summary["matched"]
