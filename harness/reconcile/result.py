"""What a reconciliation found: counts per bucket, per event type and overall, and samples with their ids.

Buckets (issue 11 §2), one per compared unit:

* `matched`        a Currents record's expected event is in the export with the expected properties;
* `missing`        expected, not in the export;
* `extra`          in the export, no Currents record explains it (counted once per dedup key);
* `duplicates`     further copies of one dedup key in the raw export (copies beyond the first);
* `mismatched`     in both, some compared property differs (each difference: expected, found);
* `not_exported`   a Currents record the mapping exports no event for (its reason counted), not an error;
* `outside_window` a record or export row dated outside `--from`/`--to`, not compared.

`by_type` is keyed by the Mixpanel event name; a record that yields no event (`not_exported`) is counted
under its Currents type id, since it has no Mixpanel name.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

BUCKETS: tuple[str, ...] = ("matched", "missing", "extra", "duplicates", "mismatched", "not_exported",
                            "outside_window")
DIFFERENCE_BUCKETS: tuple[str, ...] = ("missing", "extra", "duplicates", "mismatched")
SAMPLED_BUCKETS: tuple[str, ...] = BUCKETS[1:]  # every bucket but `matched`
DEFAULT_SAMPLES = 20  # kept per bucket

EXIT_CLEAN = 0
EXIT_DIFFERENCES = 1
EXIT_BAD_INPUT = 2


@dataclass
class Tally:
    """Counts per (type, bucket) and the first samples of each bucket; cheap to add to once per event."""

    sample_limit: int = DEFAULT_SAMPLES
    counts: dict[str, Counter] = field(default_factory=dict)  # by_type name -> bucket -> count
    samples: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {b: [] for b in BUCKETS})

    def add(self, bucket: str, name: str, count: int = 1) -> None:
        per_type = self.counts.get(name)
        if per_type is None:
            per_type = self.counts[name] = Counter()
        per_type[bucket] += count

    def wants_sample(self, bucket: str) -> bool:
        return len(self.samples[bucket]) < self.sample_limit

    def sample(self, bucket: str, sample: dict[str, Any]) -> None:
        if len(self.samples[bucket]) < self.sample_limit:
            self.samples[bucket].append(sample)

    def merge(self, other: Tally) -> None:
        for name, per_type in other.counts.items():
            for bucket, count in per_type.items():
                self.add(bucket, name, count)
        for bucket, samples in other.samples.items():
            for sample in samples:
                self.sample(bucket, sample)


@dataclass(frozen=True)
class BadLine:
    """A line of an input that could not be read; the rest of that file was still compared."""

    file: str
    line: int
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "reason": self.reason}


@dataclass
class ReconcileResult:
    """The outcome of one reconciliation, ready for the report writers."""

    tally: Tally
    not_exported_reasons: Counter = field(default_factory=Counter)  # mapping reason -> count
    bad_lines: list[BadLine] = field(default_factory=list)  # the first ones listed
    bad_line_count: int = 0
    inputs: dict[str, Any] = field(default_factory=dict)  # files, records, rows read per side
    window: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)  # mapping profile and options, engine

    @property
    def by_type(self) -> dict[str, dict[str, int]]:
        return {name: {bucket: int(self.tally.counts[name][bucket]) for bucket in BUCKETS}
                for name in sorted(self.tally.counts)}

    @property
    def summary(self) -> dict[str, int]:
        totals: Counter[str] = Counter()
        for per_type in self.tally.counts.values():
            totals.update(per_type)
        return {bucket: int(totals[bucket]) for bucket in BUCKETS}

    @property
    def differences(self) -> int:
        summary = self.summary
        return sum(summary[bucket] for bucket in DIFFERENCE_BUCKETS)

    @property
    def exit_status(self) -> int:
        """0 clean, 1 differences found, 2 bad input (some lines unreadable; the rest was still compared)."""
        if self.bad_line_count:
            return EXIT_BAD_INPUT
        return EXIT_DIFFERENCES if self.differences else EXIT_CLEAN

    def as_dict(self) -> dict[str, Any]:
        return {
            "summary": self.summary,
            "by_type": self.by_type,
            "samples": {bucket: list(self.tally.samples[bucket]) for bucket in SAMPLED_BUCKETS},
            "not_exported_reasons": dict(sorted(self.not_exported_reasons.items())),
            "bad_lines": {"count": self.bad_line_count, "first": [b.as_dict() for b in self.bad_lines]},
            "inputs": self.inputs,
            "window": self.window,
            "settings": self.settings,
            "exit_status": self.exit_status,
        }

    def summary_lines(self) -> list[str]:
        """Human-readable counts for stderr, one line each."""
        summary = self.summary
        lines = [f"{bucket.replace('_', ' ')}: {summary[bucket]}" for bucket in BUCKETS]
        if self.not_exported_reasons:
            lines.append("not exported by reason: " + ", ".join(
                f"{reason} ({count})" for reason, count in sorted(self.not_exported_reasons.items())))
        for bad in self.bad_lines:
            lines.append(f"bad line: {bad.file} line {bad.line}: {bad.reason}")
        if self.bad_line_count > len(self.bad_lines):
            lines.append(f"... {self.bad_line_count - len(self.bad_lines)} more bad line(s)")
        lines.append("result: " + ("bad input (unreadable lines; the rest was compared)" if self.bad_line_count
                                   else f"{self.differences} difference(s)" if self.differences else "clean"))
        return lines
