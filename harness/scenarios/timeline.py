"""What a case leaves for its reports besides pass/fail: a timeline of simulated time (steps, requests each fake
received with their answers and faults, Current deliveries and retries, sync runs, membership changes,
checks), a masked excerpt of each fake's journal, and a short summary."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness.scenarios.results import TimelineEntry

if TYPE_CHECKING:
    from harness.scenarios.run_context import ScenarioRun

MAX_TIMELINE = 400
JOURNAL_EXCERPT = 40
BODY_CHARS = 600
_ENTRY_KEYS = ("id", "at", "method", "path", "query", "status", "fault", "body", "response_body")


def build_timeline(run: ScenarioRun) -> list[TimelineEntry]:
    entries: list[TimelineEntry] = []
    for step in run.steps:
        level = "info" if step.outcome is None else ("ok" if step.outcome.passed else "fail")
        entries.append(TimelineEntry(step.started_at, "step", f"{step.kind}: {_brief(step.spec)}", level))
    for fake in ("mixpanel", "braze"):
        for entry in run.fleet[fake].requests():
            status = entry.get("status")
            fault = entry.get("fault")
            level = "warn" if fault or status is None or status >= 400 else "ok"
            text = f"{entry.get('method')} {entry.get('path')} → {status if status is not None else 'no answer'}"
            if fault:
                text += f" (fault {fault.get('id', '')}: {fault.get('action', '')})"
            entries.append(TimelineEntry(float(entry.get("at", run.start)), fake, text, level))
    for cohort_id, sync in run.pipeline.syncs.items():
        for record in sync.runs:
            counts = record.counts
            outcome = record.outcome or "running"
            level = "ok" if outcome == "success" else "warn"
            entries.append(TimelineEntry(record.started_at, "sync",
                                         f"cohort {cohort_id}: {record.kind} run {record.run_id} → {outcome}"
                                         + (f" ({record.reason})" if record.reason else ""), level))
            if counts.get("adds") or counts.get("removes"):
                entries.append(TimelineEntry(record.finished_at or record.started_at, "membership",
                                             f"cohort {cohort_id}: +{counts.get('adds', 0)} −{counts.get('removes', 0)}"
                                             " sent to Braze"))
    for check in run.checks:
        entries.append(TimelineEntry(check.at, "check", f"{check.where} {check.kind}: "
                                     f"{check.outcome.reason or ('passed' if check.outcome.passed else 'failed')}",
                                     "ok" if check.outcome.passed else "fail"))
    entries.sort(key=lambda e: e.at)
    if len(entries) > MAX_TIMELINE:
        half = MAX_TIMELINE // 2
        cut = len(entries) - MAX_TIMELINE
        entries = entries[:half] + [TimelineEntry(entries[half].at, "step", f"… {cut} entries left out …")] \
            + entries[-half:]
    return entries


def journal_excerpt(run: ScenarioRun) -> dict[str, list[dict[str, Any]]]:
    """The newest requests of each fake (already masked by the fakes), bodies cut short."""
    out: dict[str, list[dict[str, Any]]] = {}
    for fake in ("mixpanel", "braze"):
        rows = []
        for entry in run.fleet[fake].requests(JOURNAL_EXCERPT):
            row = {k: entry.get(k) for k in _ENTRY_KEYS if k in entry}
            for key in ("body", "response_body"):
                text = row.get(key)
                if isinstance(text, str) and len(text) > BODY_CHARS:
                    row[key] = text[:BODY_CHARS] + "…"
            rows.append(row)
        out[fake] = rows
    return out


def summary_of(run: ScenarioRun) -> dict[str, Any]:
    pipeline = run.pipeline
    reader = pipeline.reader
    return {
        "delivery": pipeline.current.report.to_json(sample=5),
        "mixpanel": {"dedup": len(reader.event_rows("dedup")), "raw": len(reader.event_rows("raw"))},
        "syncs": {str(c): {"state": s.state, "pause_reason": s.pause_reason, "runs": len(s.runs)}
                  for c, s in pipeline.syncs.items()},
    }


def _brief(spec: Any, limit: int = 120) -> str:
    text = str(spec)
    return text if len(text) <= limit else text[:limit] + "…"
