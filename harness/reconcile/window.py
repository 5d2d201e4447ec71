"""The time window a reconciliation judges: events dated outside it are counted, never compared.

Two exports overlap only in part, so `--from` and `--to` say which span both should cover. A bound is Unix
seconds, an ISO 8601 instant (`2026-01-01T12:00:00Z`; no offset means UTC) or a date (`2026-01-01`);
both bounds are inclusive, and a date as `--to` covers that whole day (as Mixpanel's export `to_date` does).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

_DAY_MS = 86_400_000


@dataclass(frozen=True)
class TimeWindow:
    """Inclusive bounds in milliseconds since the epoch; None = unbounded on that side."""

    from_ms: int | None = None
    to_ms: int | None = None

    def __post_init__(self) -> None:
        if self.from_ms is not None and self.to_ms is not None and self.from_ms > self.to_ms:
            raise ValueError("the window ends before it starts (--to is earlier than --from)")

    def contains(self, time_ms: int) -> bool:
        return (self.from_ms is None or time_ms >= self.from_ms) and (self.to_ms is None or time_ms <= self.to_ms)

    @property
    def unbounded(self) -> bool:
        return self.from_ms is None and self.to_ms is None

    def as_dict(self) -> dict[str, str | None]:
        return {"from": _iso(self.from_ms), "to": _iso(self.to_ms)}


def _iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    moment = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    return moment.isoformat(timespec="milliseconds" if ms % 1000 else "seconds").replace("+00:00", "Z")


def parse_bound(text: str, *, end: bool = False) -> int:
    """One bound as milliseconds; `end=True` makes a bare date mean the last millisecond of that day.
    ValueError with a readable message for anything else."""
    value = text.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        if seconds != seconds or seconds in (float("inf"), float("-inf")):
            raise ValueError(f"not a time: {text!r}")
        return round(seconds * 1000)
    try:
        day = date.fromisoformat(value)
    except ValueError:
        pass
    else:
        start = int(datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp() * 1000)
        return start + _DAY_MS - 1 if end else start
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"not a time: {text!r} (expected Unix seconds, a date or an ISO 8601 time)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int((moment - datetime(1970, 1, 1, tzinfo=timezone.utc)) / timedelta(milliseconds=1))


def parse_window(from_text: str | None, to_text: str | None) -> TimeWindow:
    return TimeWindow(None if from_text is None else parse_bound(from_text),
                      None if to_text is None else parse_bound(to_text, end=True))
