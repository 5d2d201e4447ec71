"""The JSON report: per case its steps, expectations, outcomes, timings, seed, replay command, timeline and a
masked journal excerpt; a summary on top. Times are epoch seconds of the simulated clock."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.scenarios.results import RunResult

FORMAT_VERSION = 1


def report_json(result: RunResult) -> dict[str, Any]:
    return {"format": "harness-run", "version": FORMAT_VERSION, "summary": {**result.counts, "total": len(result.cases),
            "wall_s": round(result.wall_s, 3), "sut": result.sut, "seed_override": result.seed},
            "cases": [case.to_json() for case in result.cases]}


class JsonReportWriter:
    def write(self, result: RunResult, path: Path) -> None:
        path.write_text(json.dumps(report_json(result), indent=1, ensure_ascii=False, default=str) + "\n",
                        encoding="utf-8")
