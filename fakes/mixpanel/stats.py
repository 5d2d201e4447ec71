"""Ingestion statistics for `GET /_harness/stats` (mixpanel-ingestion.md §14): per endpoint, project,
client User-Agent and dialect."""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any

COUNTERS = ("requests", "records_accepted", "records_dropped", "records_failed", "responses_4xx",
            "responses_5xx", "faults_fired", "rate_limited")


class IngestionStats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: dict[tuple[str, Any, str, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTERS, 0))

    def record(self, *, endpoint: str, project_id: Any, user_agent: str, dialect: str, status: int,
               accepted: int = 0, dropped: int = 0, failed: int = 0, fault: bool = False) -> None:
        with self._lock:
            row = self._rows[(endpoint, project_id, user_agent, dialect)]
            row["requests"] += 1
            row["records_accepted"] += accepted
            row["records_dropped"] += dropped
            row["records_failed"] += failed
            if 400 <= status < 500:
                row["responses_4xx"] += 1
            elif status >= 500:
                row["responses_5xx"] += 1
            if status == 429:
                row["rate_limited"] += 1
            if fault:
                row["faults_fired"] += 1

    def report(self) -> dict[str, Any]:
        with self._lock:
            rows = [
                {"endpoint": e, "project_id": p, "user_agent": ua, "dialect": d, **counts}
                for (e, p, ua, d), counts in self._rows.items()
            ]
        totals = dict.fromkeys(COUNTERS, 0)
        for row in rows:
            for key in COUNTERS:
                totals[key] += row[key]
        return {"totals": totals, "rows": rows}

    def clear(self) -> None:
        with self._lock:
            self._rows.clear()
