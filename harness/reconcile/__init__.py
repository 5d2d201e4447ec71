"""`harness reconcile`: a real Braze Currents export against a real Mixpanel raw export (issue 11).

    from harness.reconcile import reconcile, parse_window, JsonReportWriter, HtmlReportWriter

    result = reconcile(["currents/"], ["export.jsonl.gz"], MappingConfig(), parse_window("2026-01-01", None))
    result.summary        # {"matched": …, "missing": …, "extra": …, "duplicates": …, "mismatched": …,
                          #  "not_exported": …, "outside_window": …}
    result.by_type / result.tally.samples / result.exit_status (0 clean, 1 differences, 2 bad input)

Stages: `layout` (find the files: Braze's storage layout, export files), `expected` (Currents records
through the mapping oracle), `found` (export rows, via `mixpanel_export`), both written by `staging`, then
`duckdb_engine` (load, join on the dedup key of `properties`, count); `result` holds the buckets,
`json_report` and `html_report` write them. `window` parses `--from`/`--to`.
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
