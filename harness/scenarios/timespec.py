"""Durations and times as scenario files write them.

A duration is a number of seconds or a string of number-unit parts: `90s`, `2h`, `1d12h`, `250ms`, `1.5m`
(a leading `-` makes it negative). A time is an ISO-8601 timestamp (absolute) or a duration, read as an
offset from the scenario's start: `at: 2h` is two hours after the start, `at: 0` the start itself.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timezone

UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
DURATION_PATTERN = r"^-?([0-9]+(\.[0-9]+)?(ms|s|m|h|d|w))+$"
_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d|w)")
_DURATION = re.compile(DURATION_PATTERN)
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")


class TimeSpecError(ValueError):
    """A duration or time that cannot be read; the message says what was expected."""


def parse_duration(value: object) -> float:
    """Seconds of a duration (`2h`, `90s`, `1d12h`, or a number of seconds)."""
    if isinstance(value, bool):
        raise TimeSpecError("expected a duration like 2h, 90s or 1d12h")
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise TimeSpecError("expected a finite duration")
        return float(value)
    if isinstance(value, str) and _DURATION.match(value.strip()):
        text = value.strip()
        sign = -1.0 if text.startswith("-") else 1.0
        return sign * sum(float(n) * UNITS[u] for n, u in _PART.findall(text))
    raise TimeSpecError("expected a duration like 2h, 90s or 1d12h")


def is_iso_time(value: object) -> bool:
    return isinstance(value, str) and bool(_ISO.match(value.strip()))


def parse_iso(value: str) -> float:
    """Epoch seconds of an ISO-8601 timestamp (UTC when no offset is given)."""
    text = value.strip().replace(" ", "T")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise TimeSpecError(f"expected an ISO-8601 time like 2026-01-01T00:00:00Z ({exc})") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def parse_time(value: object, start: float) -> float:
    """Epoch seconds of a scenario time: an ISO-8601 timestamp, or a duration after `start`."""
    if is_iso_time(value):
        return parse_iso(str(value))
    try:
        return start + parse_duration(value)
    except TimeSpecError:
        raise TimeSpecError("expected a time: an offset from the start like 2h, or an ISO-8601 time") from None


def format_offset(seconds: float) -> str:
    """`2h0m5s`-style rendering of an offset, for reports (`+` or `-` first)."""
    sign = "-" if seconds < 0 else "+"
    rest = abs(seconds)
    days, rest = divmod(rest, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{int(days)}d" if days else "", f"{int(hours)}h" if hours else "", f"{int(minutes)}m" if minutes else ""]
    secs_text = f"{secs:.3f}".rstrip("0").rstrip(".")
    if secs or not any(parts):
        parts.append(f"{secs_text}s")
    return sign + "".join(parts)
