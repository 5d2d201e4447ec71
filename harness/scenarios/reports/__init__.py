"""Report writers for a `RunResult`: small objects with one method, `write(result, path)` (DESIGN.md §7)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from harness.scenarios.reports.html import HtmlReportWriter
from harness.scenarios.reports.json_report import JsonReportWriter
from harness.scenarios.reports.junit import JunitReportWriter
from harness.scenarios.results import RunResult


class ReportError(ValueError):
    """A report that cannot be written for a reason other than the file system."""


class ReportWriter(Protocol):
    def write(self, result: RunResult, path: Path) -> None: ...


REPORT_WRITERS: dict[str, ReportWriter] = {
    "junit": JunitReportWriter(), "json": JsonReportWriter(), "html": HtmlReportWriter()}

__all__ = ["REPORT_WRITERS", "HtmlReportWriter", "JsonReportWriter", "JunitReportWriter", "ReportError",
           "ReportWriter"]
