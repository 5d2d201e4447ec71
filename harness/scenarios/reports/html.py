"""The HTML report: one self-contained page (inline CSS, no script, no external asset) that opens from a file
with no network. A summary table, then per case: status, seed and replay command, steps, expectations with
their diffs, a timeline of simulated time (steps, requests and faults, deliveries and retries, sync runs,
membership changes, checks) and a masked excerpt of each fake's journal. Failing cases come first, open."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from html import escape
from pathlib import Path

from harness.scenarios.results import CaseResult, RunResult
from harness.scenarios.timespec import format_offset

STYLE = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#1d2330;background:#fafbfc}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:0}h3{font-size:14px;margin:16px 0 6px;color:#4a5468}
table{border-collapse:collapse;width:100%;margin:4px 0 8px}th,td{text-align:left;padding:3px 8px;vertical-align:top;
border-bottom:1px solid #e4e7ec}th{background:#f0f2f5;font-weight:600}
code,pre{font:12px/1.4 ui-monospace,Menlo,Consolas,monospace}td code{word-break:break-all}
pre{background:#f3f4f7;padding:8px;overflow-x:auto;white-space:pre-wrap;margin:4px 0}
details.case{background:#fff;border:1px solid #dde1e7;border-left:6px solid #9aa3b2;border-radius:4px;margin:10px 0;
padding:8px 12px}details.passed{border-left-color:#2e9d5b}details.failed{border-left-color:#d4433b}
details.error{border-left-color:#b7791f}summary{cursor:pointer}.badge{display:inline-block;min-width:54px;
text-align:center;border-radius:3px;color:#fff;font-size:12px;padding:1px 6px;margin-right:8px}
.b-passed{background:#2e9d5b}.b-failed{background:#d4433b}.b-error{background:#b7791f}.muted{color:#6b7385}
.ok{color:#2e7d4f}.fail{color:#c0392b;font-weight:600}.warn{color:#a05a00}.info{color:#1d2330}
.lane{font-size:11px;text-transform:uppercase;letter-spacing:.04em;color:#59627a}.diff{color:#8a1c14}
.totals span{margin-right:16px}
"""


def _offset(at: float, start: float) -> str:
    return format_offset(at - start)


def _iso(at: float) -> str:
    try:
        return datetime.fromtimestamp(at, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    except (OverflowError, OSError, ValueError):
        return str(at)


def _case(case: CaseResult) -> str:
    parts = [f'<details class="case {case.status}" id="{escape(case.case_id)}"{" open" if not case.passed else ""}>',
             f'<summary><span class="badge b-{case.status}">{case.status}</span><h2 style="display:inline">'
             f'{escape(case.case_id)}</h2> <span class="muted">{escape(case.file)} · seed {case.seed} · sut '
             f'{escape(case.sut)} · {case.wall_s:.2f} s</span></summary>']
    if case.description:
        parts.append(f"<p>{escape(case.description)}</p>")
    if case.tags:
        parts.append(f'<p class="muted">tags: {escape(", ".join(case.tags))}</p>')
    parts.append(f"<h3>Replay</h3><pre>{escape(case.replay)}</pre>")
    if case.status == "error":
        parts.append(f'<h3>Error</h3><pre class="fail">{escape(case.error or "")}</pre>')
    if not case.passed and case.status == "failed":
        parts.append(f'<h3>What failed</h3><pre class="diff">{escape(case.failure_text())}</pre>')
    parts.append(f"<p class='muted'>simulated time: start {_iso(case.start)}, end {_iso(case.end)} "
                 f"({_offset(case.end, case.start)})</p>")
    if case.steps:
        rows = "".join(
            f"<tr><td>{s.index}</td><td><code>{escape(s.kind)}</code></td><td><code>"
            f"{escape(json.dumps(s.spec, ensure_ascii=False, default=str)[:300])}</code></td><td>"
            f"{_offset(s.started_at, case.start)}</td><td>{_outcome(s.outcome)}</td></tr>" for s in case.steps)
        parts.append("<h3>Steps</h3><table><tr><th>#</th><th>step</th><th>value</th><th>at</th><th>result</th></tr>"
                     f"{rows}</table>")
    if case.checks:
        rows = "".join(
            f"<tr><td><code>{escape(c.where)}</code>{f' (line {c.line})' if c.line else ''}</td><td><code>"
            f"{escape(c.kind)}</code></td><td>{_offset(c.at, case.start)}</td><td>{_outcome(c.outcome)}</td></tr>"
            for c in case.checks)
        parts.append("<h3>Expectations</h3><table><tr><th>where</th><th>kind</th><th>at</th><th>result</th></tr>"
                     f"{rows}</table>")
    if case.timeline:
        rows = "".join(
            f'<tr><td>{_offset(t.at, case.start)}</td><td class="lane">{escape(t.lane)}</td>'
            f'<td class="{escape(t.level)}">{escape(t.text)}</td></tr>' for t in case.timeline)
        parts.append('<h3>Timeline (simulated time from the start)</h3><table class="timeline"><tr><th>at</th>'
                     f"<th>lane</th><th>what</th></tr>{rows}</table>")
    for fake, entries in case.journal.items():
        if not entries:
            continue
        rows = "".join(
            f"<tr><td>{_offset(float(e.get('at') or case.start), case.start)}</td><td><code>"
            f"{escape(str(e.get('method')))} {escape(str(e.get('path')))}</code></td><td>{escape(str(e.get('status')))}"
            "</td><td><code>"
            f"{escape(str(e.get('body') or '')[:400])}</code></td></tr>" for e in entries)
        parts.append(f"<h3>Journal excerpt: fake {escape(fake)} (secrets masked)</h3><table><tr><th>at</th>"
                     f"<th>request</th><th>status</th><th>body</th></tr>{rows}</table>")
    parts.append("</details>")
    return "\n".join(parts)


def _outcome(outcome: object) -> str:
    if outcome is None:
        return '<span class="muted">done</span>'
    passed = getattr(outcome, "passed", False)
    reason = escape(getattr(outcome, "reason", "") or ("passed" if passed else "failed"))
    diff = getattr(outcome, "diff", [])
    text = f'<span class="{"ok" if passed else "fail"}">{reason}</span>'
    if diff:
        text += f'<pre class="diff">{escape(chr(10).join(diff))}</pre>'
    return text


def render_html(result: RunResult) -> str:
    counts = result.counts
    ordered = sorted(result.cases, key=lambda c: (c.passed, c.status != "error"))
    summary_rows = "".join(
        f'<tr><td><span class="badge b-{c.status}">{c.status}</span></td><td><a href="#{escape(c.case_id)}">'
        f"{escape(c.case_id)}</a></td><td>{escape(c.file)}</td><td>{c.seed}</td><td>{c.wall_s:.2f} s</td></tr>"
        for c in ordered)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>harness run: "
        f"{counts['passed']} passed, {counts['failed']} failed, {counts['error']} errors</title>"
        f"<style>{STYLE}</style></head><body>"
        "<h1>Braze ↔ Mixpanel harness: scenario run</h1>"
        f'<p class="totals"><span class="ok">{counts["passed"]} passed</span><span class="fail">{counts["failed"]} '
        f'failed</span><span class="warn">{counts["error"]} errors</span><span class="muted">{len(result.cases)} '
        f"cases in {result.wall_s:.2f} s · sut {escape(result.sut)}</span></p>"
        "<table><tr><th></th><th>case</th><th>file</th><th>seed</th><th>wall time</th></tr>"
        f"{summary_rows}</table>" + "\n".join(_case(c) for c in ordered) + "</body></html>\n")


class HtmlReportWriter:
    def write(self, result: RunResult, path: Path) -> None:
        path.write_text(render_html(result), encoding="utf-8")
