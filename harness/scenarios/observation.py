"""`Observation`: what one pipeline run saw, for tests and the scenario runner to assert on.

It holds the Current's delivery report, what arrived in fake Mixpanel's deduplicated view keyed by
`$insert_id`, what the reference mapping (the oracle) says should have arrived, cohort members at the
times they were looked at, the sync engine's run records and fake Braze's segment answers. `diff()` is the
oracle comparison, event by event, as readable lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.connectors.cohort_sync.records import RunRecord
from harness.connectors.report import DeliveryReport

MAX_DIFF_LINES = 40


@dataclass
class Observation:
    seed: int
    report: DeliveryReport
    arrived: dict[str, dict[str, Any]]
    """Fake Mixpanel's dedup view, keyed by `$insert_id`."""
    expected: dict[str, dict[str, Any]]
    """The oracle: the reference mapping of every submitted event it exports, keyed by `$insert_id`."""
    raw_count: int
    """Rows in fake Mixpanel's raw view (retries and redeliveries show here)."""
    submitted: int
    """Currents events handed to the connector, redeliveries included."""
    cohort_members: dict[int, dict[float, list[str]]] = field(default_factory=dict)
    """cohort id → {simulated time → sorted distinct_ids}, at each sync run and each time asked for."""
    runs: dict[str, list[RunRecord]] = field(default_factory=dict)
    """sync id → its run records (braze-cohort-sync.md §8.10)."""
    segments: dict[int, list[str]] = field(default_factory=dict)
    """cohort id → sorted external ids of fake Braze's segment "Mixpanel Cohorts includes <cohort>"."""
    at: float = 0.0
    """The simulated time of the observation."""

    def diff(self, *, limit: int = MAX_DIFF_LINES) -> list[str]:
        """The oracle comparison as readable lines (empty when everything arrived exactly as mapped)."""
        lines: list[str] = []
        missing = sorted(set(self.expected) - set(self.arrived))
        extra = sorted(set(self.arrived) - set(self.expected))
        lines += [f"missing {k}: {_label(self.expected[k])}" for k in missing]
        lines += [f"unexpected {k}: {_label(self.arrived[k])}" for k in extra]
        for key in sorted(set(self.expected) & set(self.arrived)):
            lines += _event_diff(key, self.expected[key], self.arrived[key])
        if len(lines) > limit:
            lines = lines[:limit] + [f"... and {len(lines) - limit} more lines"]
        return lines

    def diff_text(self) -> str:
        lines = self.diff()
        return "\n".join(lines) if lines else "every expected event arrived exactly as mapped"

    def matches_oracle(self) -> bool:
        return self.arrived == self.expected

    def distinct_ids(self) -> set[str]:
        return {str(e["properties"].get("distinct_id")) for e in self.arrived.values()}


def _label(event: dict[str, Any]) -> str:
    props = event.get("properties") or {}
    return f"{event.get('event')!r} distinct_id={props.get('distinct_id')!r} time={props.get('time')!r}"


def _event_diff(key: str, expected: dict[str, Any], arrived: dict[str, Any]) -> list[str]:
    if expected == arrived:
        return []
    lines = [f"differs {key}: {_label(expected)}"]
    if expected.get("event") != arrived.get("event"):
        lines.append(f"    event: expected {expected.get('event')!r}, got {arrived.get('event')!r}")
    want, got = expected.get("properties") or {}, arrived.get("properties") or {}
    for name in sorted(set(want) | set(got)):
        if name not in got:
            lines.append(f"    - {name}: {want[name]!r} (missing)")
        elif name not in want:
            lines.append(f"    + {name}: {got[name]!r} (not in the mapping)")
        elif want[name] != got[name] or type(want[name]) is not type(got[name]):
            lines.append(f"    ~ {name}: expected {want[name]!r}, got {got[name]!r}")
    return lines
