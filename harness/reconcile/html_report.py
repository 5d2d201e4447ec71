"""The HTML report: one self-contained page (inline CSS, no scripts, no external assets), every text escaped.

It shows the verdict, the overall counts, the per-type table (differences highlighted), the reasons for
`not_exported`, unreadable lines, and the samples of each bucket with their ids and sources.
"""

from __future__ import annotations

import json
import os
from html import escape
from typing import Any

from harness.reconcile.result import BUCKETS, DIFFERENCE_BUCKETS, ReconcileResult

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.8em}
table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;
vertical-align:top}th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}
td.diff{background:#fde2e2;font-weight:600}.clean{color:#17692b}.dirty{color:#a11}
code,pre{font:12px ui-monospace,monospace;white-space:pre-wrap;word-break:break-all;margin:0}
.muted{color:#666}
"""


def _text(value: Any) -> str:
    return escape(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str))


def _code(value: Any) -> str:
    return f"<code>{_text(value)}</code>"


def _count_cell(bucket: str, count: int) -> str:
    css = "n diff" if count and bucket in DIFFERENCE_BUCKETS else "n"
    return f'<td class="{css}">{count:,}</td>'


def _header_row() -> str:
    return "".join(f"<th>{escape(b.replace('_', ' '))}</th>" for b in BUCKETS)


def _verdict(result: ReconcileResult) -> str:
    if result.bad_line_count:
        return '<p class="dirty">Bad input: some lines could not be read (listed below); the rest was compared.</p>'
    if result.differences:
        return f'<p class="dirty">{result.differences:,} difference(s) found.</p>'
    return '<p class="clean">Clean: everything expected arrived, exactly as expected.</p>'


def _samples(bucket: str, samples: list[dict[str, Any]]) -> str:
    if not samples:
        return ""
    keys: list[str] = []
    for sample in samples:
        keys.extend(k for k in sample if k not in keys)
    head = "".join(f"<th>{escape(k)}</th>" for k in keys)
    rows = []
    for sample in samples:
        cells = []
        for key in keys:
            value = sample.get(key)
            if key == "differences" and isinstance(value, dict):
                items = "".join(f"<tr><td>{_code(k)}</td><td>{_code(d.get('expected'))}</td>"
                                f"<td>{_code(d.get('found'))}</td></tr>" for k, d in value.items())
                cells.append("<td><table><tr><th>property</th><th>expected</th><th>found</th></tr>"
                             f"{items}</table></td>")
            else:
                cells.append(f"<td>{_code(value)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    title = escape(bucket.replace("_", " "))
    return (f"<h3>{title} (first {len(samples)})</h3>"
            f"<table><tr>{head}</tr>{''.join(rows)}</table>")


def render_html(result: ReconcileResult) -> str:
    summary = result.summary
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             "<title>harness reconcile report</title>", f"<style>{_CSS}</style></head><body>",
             "<h1>Braze Currents &rarr; Mixpanel reconciliation</h1>", _verdict(result)]
    window = result.window or {}
    parts.append(f'<p class="muted">window: {_text(window.get("from") or "open")} to '
                 f'{_text(window.get("to") or "open")}; engine: {_text(result.settings.get("engine", ""))}; '
                 f'profile: {_text(result.settings.get("mapping", {}).get("profile", ""))}</p>')
    parts.append("<h2>Summary</h2><table><tr>" + _header_row() + "</tr><tr>"
                 + "".join(_count_cell(b, summary[b]) for b in BUCKETS) + "</tr></table>")
    rows = []
    for name, counts in result.by_type.items():
        rows.append(f"<tr><td>{_code(name)}</td>" + "".join(_count_cell(b, counts[b]) for b in BUCKETS) + "</tr>")
    parts.append("<h2>Per event type</h2>"
                 '<p class="muted">Mixpanel event names; records that yield no event are listed by Currents '
                 "type id.</p><table><tr><th>type</th>" + _header_row() + "</tr>" + "".join(rows) + "</table>")
    if result.not_exported_reasons:
        items = "".join(f"<tr><td>{_code(r)}</td><td class=\"n\">{c:,}</td></tr>"
                        for r, c in sorted(result.not_exported_reasons.items()))
        parts.append(f"<h2>Not exported, by reason</h2><table><tr><th>reason</th><th>records</th></tr>{items}</table>")
    if result.bad_line_count:
        items = "".join(f"<tr><td>{_code(b.file)}</td><td class=\"n\">{b.line}</td><td>{_text(b.reason)}</td></tr>"
                        for b in result.bad_lines)
        parts.append(f"<h2>Unreadable lines ({result.bad_line_count:,})</h2>"
                     f"<table><tr><th>file</th><th>line</th><th>why</th></tr>{items}</table>")
    inputs = "".join(f"<tr><td>{escape(side)}</td><td>{_code(facts)}</td></tr>"
                     for side, facts in result.inputs.items())
    parts.append(f"<h2>Inputs</h2><table>{inputs}</table>")
    samples = "".join(_samples(b, result.tally.samples[b]) for b in BUCKETS if b != "matched")
    parts.append("<h2>Samples</h2>" + (samples or '<p class="muted">none</p>'))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


class HtmlReportWriter:
    """Writes `render_html(result)` to a file."""

    def write(self, result: ReconcileResult, path: str | os.PathLike[str]) -> None:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(render_html(result))
