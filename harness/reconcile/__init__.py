"""`harness reconcile`: a real Braze Currents export against a real Mixpanel raw export (issue 11).

    from harness.reconcile import reconcile, parse_window, JsonReportWriter, HtmlReportWriter

    result = reconcile(["currents/"], ["export.jsonl.gz"], MappingConfig(), parse_window("2026-01-01", None))
    result.summary        # {"matched": …, "missing": …, "extra": …, "duplicates": …, "mismatched": …,
                          #  "not_exported": …, "outside_window": …}
    result.by_type / result.tally.samples / result.exit_status (0 clean, 1 differences, 2 bad input)

Stages: `layout` (find the files: Braze's storage layout, export files), `expected` (Currents records
through the mapping oracle, one file per task), `found` (export rows, via `mixpanel_export`), both handed
to an `EventSink` (`staging`), then an engine: `duckdb_engine` (default: load, join on the dedup key of
`properties`, count in SQL) or `dask_engine` (optional extra: the same on a Dask cluster); `run` ties them
together. `result` holds the buckets, `samples` their shape, `json_report` and `html_report` write them;
`window` parses `--from`/`--to`; `export_download` pulls the export from a live Mixpanel or fake
(`--mixpanel URL`).
"""

from harness.reconcile.errors import ReconcileInputError
from harness.reconcile.html_report import HtmlReportWriter, render_html
from harness.reconcile.json_report import JsonReportWriter
from harness.reconcile.result import BUCKETS, DIFFERENCE_BUCKETS, ReconcileResult, Tally
from harness.reconcile.run import ENGINES, reconcile
from harness.reconcile.window import TimeWindow, parse_window

__all__ = [
    "BUCKETS", "DIFFERENCE_BUCKETS", "ENGINES", "HtmlReportWriter", "JsonReportWriter", "ReconcileInputError",
    "ReconcileResult", "Tally", "TimeWindow", "parse_window", "reconcile", "render_html",
]
