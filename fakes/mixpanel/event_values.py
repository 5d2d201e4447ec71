"""How event values are read (mixpanel-ingestion.md §5.5, §5.6, §3 R10): ids as text, placeholder ids,
time units, invalid UTF-8 and the exact JSON size of an event. Used by the per-event rules (`validation`)
and by profile updates."""

from __future__ import annotations

import json
from typing import Any


def placeholder_ids(bad_ids: list[str], include_lmy47d: bool) -> frozenset[str]:
    """§5.5: matched lower-cased, untrimmed."""
    ids = {s.lower() for s in bad_ids}
    if include_lmy47d:
        ids.add("lmy47d")
    return frozenset(ids)


def stringify_id(value: Any) -> str:
    """§5.5: numbers and booleans as JSON text, arrays/objects as compact JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def to_ms(t: int | float, threshold: float) -> int:
    """§5.6: |t| ≥ threshold is milliseconds, else seconds; stored as integer ms."""
    if -threshold < t < threshold:
        return int(t * 1000)
    return int(t)


def has_bad_utf8(s: str) -> bool:
    """R10/V11: lone surrogates (from `\\uD800` escapes or surrogate-escaped raw bytes)."""
    if s.isascii():
        return False
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def first_bad_utf8_key(props: dict[str, Any]) -> str | None:
    def bad(value: Any) -> bool:
        if type(value) is str:
            return has_bad_utf8(value)
        if type(value) is dict:
            return any(has_bad_utf8(k) or bad(v) for k, v in value.items())
        if type(value) is list:
            return any(bad(v) for v in value)
        return False

    for key, value in props.items():
        if has_bad_utf8(key) or bad(value):
            return key
    return None


def exact_json_size(record: Any) -> int:
    """V12: the compact JSON size in UTF-8 bytes (lone surrogates count as 3)."""
    return len(json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "surrogatepass"))
