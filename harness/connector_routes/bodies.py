"""Reading the JSON bodies and query values of the connectors' control routes (DESIGN.md §7.1).

Every check raises `fakes.core.ControlError` (400) naming the key and what it should be, so a bad body is
answered with a message and never with a 500.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from fakes.core import ControlError


def json_object(body: Any, what: str, allowed: Iterable[str]) -> dict[str, Any]:
    """`body` as a JSON object holding no key outside `allowed`."""
    if not isinstance(body, dict):
        raise ControlError(f"{what} must be a JSON object, got {type(body).__name__}")
    allowed = tuple(allowed)
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise ControlError(f"{what}: unknown key(s) {', '.join(unknown)}; known: {', '.join(allowed)}")
    return body


def required(body: dict[str, Any], key: str, what: str) -> Any:
    if key not in body or body[key] is None:
        raise ControlError(f'{what}: "{key}" is required')
    return body[key]


def text(body: dict[str, Any], key: str, what: str, *, default: str | None = None,
         needed: bool = False) -> str | None:
    """A non-empty string, or `default` when the key is absent or null (unless `needed`)."""
    value = required(body, key, what) if needed else body.get(key)
    if value is None:
        return default
    if not isinstance(value, str) or not value:
        raise ControlError(f'{what}: "{key}" must be a non-empty string, got {value!r}')
    return value


def integer(body: dict[str, Any], key: str, what: str) -> int:
    value = required(body, key, what)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ControlError(f'{what}: "{key}" must be an integer, got {value!r}')
    return value


def number(value: Any, key: str, what: str, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ControlError(f'{what}: "{key}" must be a number, got {value!r}')
    if positive and value <= 0:
        raise ControlError(f'{what}: "{key}" must be > 0, got {value!r}')
    return float(value)


def epoch_query(raw: str | None, key: str, default: float) -> float:
    """A query value in epoch seconds (`?at=1767225600`), or `default` when absent."""
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ControlError(f"?{key}= must be epoch seconds, got {raw!r}") from None
    if not math.isfinite(value):
        raise ControlError(f"?{key}= must be a finite number, got {raw!r}")
    return value


def cohort_id(raw: str) -> int:
    """A cohort id from a path: Mixpanel cohort ids are integers."""
    try:
        return int(raw)
    except ValueError:
        raise ControlError(f"no cohort {raw!r}: cohort ids are integers", 404) from None
