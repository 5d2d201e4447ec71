"""Comparisons that explain themselves: a JSON subset match and an id-set match, each returning the lines that
say what differs (empty when it matches)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

MAX_LISTED = 20


def json_subset_diff(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Lines saying where `actual` does not contain `expected` (mappings: a subset of keys, recursively;
    lists and scalars: equal)."""
    here = path or "body"
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{here}: expected a mapping, got {actual!r}"]
        lines: list[str] = []
        for key, want in expected.items():
            if key not in actual:
                lines.append(f"{here}.{key}: missing (expected {want!r})")
            else:
                lines += json_subset_diff(want, actual[key], f"{here}.{key}")
        return lines
    if _same_number(expected, actual):
        return []
    if expected != actual or type(expected) is not type(actual):
        return [f"{here}: expected {expected!r}, got {actual!r}"]
    return []


def _same_number(a: Any, b: Any) -> bool:
    numbers = (int, float)
    return isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool) and not isinstance(b, bool) \
        and a == b


def id_set_diff(actual: Iterable[str], spec: dict[str, Any]) -> list[str]:
    """Lines saying how a set of ids fails `equals` / `includes` / `excludes` / `count` in `spec`."""
    have = set(actual)
    lines: list[str] = []
    if "equals" in spec:
        want = set(spec["equals"])
        if want - have:
            lines.append(f"missing: {_listed(want - have)}")
        if have - want:
            lines.append(f"unexpected: {_listed(have - want)}")
    if "includes" in spec and set(spec["includes"]) - have:
        lines.append(f"missing: {_listed(set(spec['includes']) - have)}")
    if "excludes" in spec and set(spec["excludes"]) & have:
        lines.append(f"present but excluded: {_listed(set(spec['excludes']) & have)}")
    if "count" in spec and len(have) != spec["count"]:
        lines.append(f"count: expected {spec['count']}, got {len(have)}")
    return lines


def _listed(ids: set[str]) -> str:
    ordered = sorted(ids)
    more = f" and {len(ordered) - MAX_LISTED} more" if len(ordered) > MAX_LISTED else ""
    return ", ".join(ordered[:MAX_LISTED]) + more
