"""JSON value comparisons for cohort rules: ``true`` is not ``1`` (Python's ``==`` says it is)."""

from __future__ import annotations

from math import isfinite
from typing import Any

SCALAR_TYPES = (str, int, float, bool)


def is_number(value: Any) -> bool:
    """A JSON number: int or float, not bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_finite_number(value: Any) -> bool:
    """A JSON number that JSON can carry: not NaN or infinity."""
    return is_number(value) and isfinite(value)


def json_equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (list, dict)) or isinstance(b, (list, dict)):
        return False  # rules compare scalars only; a list- or object-valued property equals no rule value
    return bool(a == b)


def matches_any(value: Any, allowed: tuple[Any, ...]) -> bool:
    return any(json_equal(value, option) for option in allowed)
