"""The JSON report: `summary` (the seven integer counts of issue 11), `by_type`, `samples` and input facts."""

from __future__ import annotations

import json
import os

from harness.reconcile.result import ReconcileResult


class JsonReportWriter:
    """Writes `ReconcileResult.as_dict()` as indented JSON (UTF-8, keys in a fixed order)."""

    def write(self, result: ReconcileResult, path: str | os.PathLike[str]) -> None:
        text = json.dumps(result.as_dict(), indent=2, ensure_ascii=False, default=str)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
