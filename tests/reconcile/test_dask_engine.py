"""`--engine dask` (issue 11 §5): the same injected differences, reported the same as by the DuckDB engine,
on a local Dask cluster the test starts (loopback only); without Dask installed, one clear line."""

from __future__ import annotations

import copy
import sys

import pytest
from export_builder import ANCHOR, WINDOW_FROM, WINDOW_TO, generate_storage_layout, mixpanel_rows, write_export

from harness.cli import main
from harness.mapping import MappingConfig
from harness.reconcile import parse_window, reconcile

WINDOW = parse_window(WINDOW_FROM, WINDOW_TO)


@pytest.fixture(scope="module")
def sides(tmp_path_factory):
    root = tmp_path_factory.mktemp("dask")
    paths = generate_storage_layout(root / "currents", 600, seed=13)
    return root / "currents", mixpanel_rows(paths)


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    pytest.importorskip("dask.dataframe")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as local:
        yield local


def injected(rows):
    rows = copy.deepcopy(rows)
    del rows[3], rows[30]
    rows.append(copy.deepcopy(rows[5]))
    rows[8]["properties"]["$partner_id"] = "someone else"
    rows.append({"event": "Email Open", "properties": {
        "distinct_id": "nobody", "time": ANCHOR - 60, "$insert_id": "00000000-0000-4000-8000-000000000002"}})
    rows[12]["properties"]["time"] = ANCHOR + 40 * 86_400
    return rows


def comparable(result):
    data = result.as_dict()
    data["settings"].pop("engine")
    data["inputs"]["currents"].pop("jobs", None)
    return data


def test_dask_cluster_reports_what_duckdb_reports(tmp_path, sides, cluster):
    currents, rows = sides
    export = write_export(injected(rows), tmp_path / "export.jsonl")
    by_dask = reconcile([currents], [export], MappingConfig(), WINDOW, engine="dask",
                        scheduler=cluster.scheduler_address)
    by_duckdb = reconcile([currents], [export], MappingConfig(), WINDOW)
    assert by_dask.settings["engine"] == "dask"
    assert {k: v for k, v in by_dask.summary.items() if k not in ("matched", "not_exported")} == {
        "missing": 3, "extra": 1, "duplicates": 1, "mismatched": 1, "outside_window": 1}
    assert comparable(by_dask) == comparable(by_duckdb)


def test_dask_through_the_command_line(tmp_path, capsys, sides, cluster):
    currents, rows = sides
    export = write_export(rows, tmp_path / "export.jsonl")
    status = main(["reconcile", str(currents), "--mixpanel", str(export), "--engine", "dask",
                   "--scheduler", cluster.scheduler_address])
    assert status == 0 and "result: clean" in capsys.readouterr().err


def test_without_dask_installed_one_line(tmp_path, capsys, sides, monkeypatch):
    currents, rows = sides
    monkeypatch.setitem(sys.modules, "dask", None)  # import dask -> ImportError
    status = main(["reconcile", str(currents), "--mixpanel", str(write_export(rows, tmp_path / "e.jsonl")),
                   "--engine", "dask"])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1 and "pip install 'braze-mixpanel-harness[dask]'" in err[0]
