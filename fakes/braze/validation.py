"""Body validation of the two partner endpoints, in the documented order (braze-cohort-sync.md §4.6, §4.8).

Plain functions from a decoded JSON object to typed requests, raising the catalogue's errors. Nothing
here touches state, so a rejected request changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from .config import BrazeConfig
from .errors import InvalidCohortChanges, InvalidCohortId, InvalidCreatedAt, InvalidName, TooManyIds

ID_KEYS: tuple[str, ...] = ("user_ids", "device_ids", "aliases")  # also the processing order (§4.9)


# Mutation testing: frozen=False on these three value classes is equivalent (nothing assigns to them once built).
@dataclass(frozen=True)  # pragma: no mutate
class DeclareCohort:
    cohort_id: str
    name: str
    created_at: str
    created_at_epoch: float


@dataclass(frozen=True)  # pragma: no mutate
class CohortChange:
    """One element of ``cohort_changes``; aliases are (alias_name, alias_label) pairs."""

    user_ids: tuple[str, ...]
    device_ids: tuple[str, ...]
    aliases: tuple[tuple[str, str], ...]
    should_remove: bool

    @property
    def id_count(self) -> int:
        return len(self.user_ids) + len(self.device_ids) + len(self.aliases)


@dataclass(frozen=True)  # pragma: no mutate
class ChangeMembership:
    cohort_id: str
    changes: tuple[CohortChange, ...]

    @property
    def id_count(self) -> int:
        return sum(c.id_count for c in self.changes)


def parse_cohort_id(body: dict[str, Any]) -> str:
    """``cohort_id`` is a non-empty string; numbers are not coerced (§4.6)."""
    value = body.get("cohort_id")
    if not isinstance(value, str) or value == "":
        raise InvalidCohortId()
    return value


def parse_declare(body: dict[str, Any]) -> DeclareCohort:
    """§4.6 order: cohort_id → name → created_at."""
    cohort_id = parse_cohort_id(body)
    name = body.get("name")
    if not isinstance(name, str) or name == "":
        raise InvalidName()
    created_at = body.get("created_at")
    epoch = parse_iso8601(created_at) if isinstance(created_at, str) else None
    if epoch is None or not isinstance(created_at, str):
        raise InvalidCreatedAt()
    return DeclareCohort(cohort_id, name, created_at, epoch)


def parse_change_membership(body: dict[str, Any], config: BrazeConfig) -> ChangeMembership:
    """§4.8 order: cohort_id → cohort_changes shape → id count (raw, before de-duplication)."""
    cohort_id = parse_cohort_id(body)
    raw = body.get("cohort_changes")
    if not isinstance(raw, list):
        raise InvalidCohortChanges()
    changes = tuple(_parse_change(element, config) for element in raw)
    total = sum(c.id_count for c in changes)
    if total > config.max_ids_per_request:
        raise TooManyIds()
    return ChangeMembership(cohort_id, changes)


def _parse_change(element: Any, config: BrazeConfig) -> CohortChange:
    if not isinstance(element, dict):
        raise InvalidCohortChanges()
    present = {k: element[k] for k in (*ID_KEYS, "should_remove") if k in element}
    if config.null_as_absent:
        present = {k: v for k, v in present.items() if v is not None}
    if not any(k in present for k in ID_KEYS) and not config.allow_empty_change_object:
        raise InvalidCohortChanges()
    should_remove = present.get("should_remove", False)
    if not isinstance(should_remove, bool):  # the string "true" is rejected
        raise InvalidCohortChanges()
    return CohortChange(
        _strings(present.get("user_ids", [])),
        _strings(present.get("device_ids", [])),
        _aliases(present.get("aliases", [])),
        should_remove,
    )


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidCohortChanges()
    return tuple(value)


def _aliases(value: Any) -> tuple[tuple[str, str], ...]:
    items = [value] if isinstance(value, dict) else value  # a single alias object = one-element array
    if not isinstance(items, list):
        raise InvalidCohortChanges()
    pairs = []
    for item in items:
        if not isinstance(item, dict):
            raise InvalidCohortChanges()
        name, label = item.get("alias_name"), item.get("alias_label")
        if not isinstance(name, str) or not isinstance(label, str):
            raise InvalidCohortChanges()
        pairs.append((name, label))
    return tuple(pairs)


# ISO-8601 date and time; the date-only form is rejected (§4.6). Written out rather than
# datetime.fromisoformat, which accepts "Z" only from Python 3.11 and takes date-only strings.
_ISO_DATETIME = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[Tt](?P<h>\d{2}):(?P<m>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<frac>\d{1,9}))?)?"
    r"(?P<tz>[Zz]|[+-]\d{2}(?::?\d{2})?)?$"
)


def parse_iso8601(text: str) -> float | None:
    """Epoch seconds of an ISO-8601 date-time; a time without offset is UTC. None if invalid."""
    match = _ISO_DATETIME.match(text)
    if match is None:
        return None
    try:
        year, month, day = (int(part) for part in match["date"].split("-"))
        stamp = datetime(year, month, day, int(match["h"]), int(match["m"]), int(match["s"] or 0),
                         tzinfo=timezone.utc)
    except ValueError:
        return None
    seconds = stamp.timestamp() + (float("0." + match["frac"]) if match["frac"] else 0.0)
    tz = match["tz"]
    if tz and tz not in ("Z", "z"):
        sign = -1 if tz[0] == "-" else 1
        digits = tz[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:] or 0)
        if hours > 23 or minutes > 59:
            return None
        seconds -= sign * timedelta(hours=hours, minutes=minutes).total_seconds()
    return seconds
