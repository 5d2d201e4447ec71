"""Counters over many mapping results: what was mapped, what was not and why (E2, E12, §5, §1)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from harness.mapping.result import (
    REASON_NO_EXTERNAL_USER_ID,
    REASON_NOT_EXPORTED,
    REASON_UNKNOWN_TYPE,
    REASONS,
    WARNING_UNKNOWN_FIELD,
    MappingResult,
)


@dataclass
class MappingReport:
    """Accumulates `MappingResult`s. `add` is cheap enough to call once per event."""

    total: int = 0
    mapped: int = 0
    reasons: Counter = field(default_factory=Counter)  # reason -> count of records without an event
    not_exported_types: Counter = field(default_factory=Counter)  # type id -> count
    unknown_types: Counter = field(default_factory=Counter)  # type id -> count
    unknown_fields: Counter = field(default_factory=Counter)  # field name -> count
    warnings: Counter = field(default_factory=Counter)  # warning -> count (unknown fields excluded)
    events_by_name: Counter = field(default_factory=Counter)  # Mixpanel event name -> count

    def add(self, result: MappingResult) -> None:
        event = result.event
        self.total += 1
        if event is not None:
            self.mapped += 1
            names = self.events_by_name
            name = event["event"]
            names[name] = names.get(name, 0) + 1
        else:
            reason = result.reason
            self.reasons[reason] += 1
            if reason == REASON_NOT_EXPORTED:
                self.not_exported_types[result.type_id] += 1
            elif reason == REASON_UNKNOWN_TYPE:
                self.unknown_types[result.type_id] += 1
        warnings = result.warnings
        if warnings:
            for warning in warnings:
                if warning.startswith(WARNING_UNKNOWN_FIELD):
                    self.unknown_fields[warning[len(WARNING_UNKNOWN_FIELD):]] += 1
                else:
                    self.warnings[warning] += 1

    def merge(self, other: MappingReport) -> None:
        """Add another report's counts to this one (e.g. from a worker process)."""
        self.total += other.total
        self.mapped += other.mapped
        for name in ("reasons", "not_exported_types", "unknown_types", "unknown_fields", "warnings",
                     "events_by_name"):
            getattr(self, name).update(getattr(other, name))

    def add_invalid(self, count: int = 1, reason: str = "invalid_record") -> None:
        """Records the reader could not even decode into an object."""
        self.total += count
        self.reasons[reason] += count

    @property
    def not_exported(self) -> int:
        return self.reasons[REASON_NOT_EXPORTED]

    @property
    def dropped_no_external_id(self) -> int:
        return self.reasons[REASON_NO_EXTERNAL_USER_ID]

    @property
    def unknown(self) -> int:
        return self.reasons[REASON_UNKNOWN_TYPE]

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "mapped": self.mapped,
            "not_mapped": {reason: self.reasons[reason] for reason in REASONS if self.reasons[reason]},
            "not_exported_types": dict(sorted(self.not_exported_types.items())),
            "unknown_types": dict(sorted(self.unknown_types.items())),
            "unknown_fields": dict(sorted(self.unknown_fields.items())),
            "warnings": dict(sorted(self.warnings.items())),
        }

    def summary_lines(self) -> list[str]:
        """Human-readable counts, one line each (used by `harness map` on stderr)."""
        lines = [
            f"records: {self.total}",
            f"mapped: {self.mapped}",
            f"not exported: {self.not_exported}",
            f"dropped (no external_user_id): {self.dropped_no_external_id}",
            f"unknown type: {self.unknown}",
        ]
        for reason in REASONS:
            shown_above = reason in (REASON_NOT_EXPORTED, REASON_NO_EXTERNAL_USER_ID, REASON_UNKNOWN_TYPE)
            if not shown_above and self.reasons[reason]:
                lines.append(f"{reason.replace('_', ' ')}: {self.reasons[reason]}")
        if self.unknown_types:
            lines.append("unknown types: " + ", ".join(f"{k} ({v})" for k, v in sorted(self.unknown_types.items())))
        if self.unknown_fields:
            lines.append("unknown fields: " + ", ".join(f"{k} ({v})" for k, v in sorted(self.unknown_fields.items())))
        if self.warnings:
            lines.append("warnings: " + ", ".join(f"{k} ({v})" for k, v in sorted(self.warnings.items())))
        return lines
