"""How deeply JSON-like values nest, measured without recursion.

Hostile or broken input can nest containers thousands of levels deep. Python's recursive walks
(`copy.deepcopy`, `json.dumps`, `==` on containers, a naive masker) then die with RecursionError, which
a server turns into a 500. The core therefore measures depth iteratively and bounds what it keeps:
the journal elides parts below `journal.max_depth`, configuration values and fault rule bodies are
refused beyond `MAX_CONTROL_DEPTH`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MAX_CONTROL_DEPTH = 64
"""Deepest nesting accepted in a configuration value or a fault rule body (far beyond any real use)."""


def _children(value: Any) -> Any:
    if isinstance(value, Mapping):
        return value.values()
    if isinstance(value, (list, tuple)):
        return value
    return None


def deeper_than(value: Any, limit: int) -> bool:
    """True when containers (mappings, lists, tuples) nest more than `limit` levels in `value`.

    A scalar has depth 0, `[]` and `{"a": 1}` depth 1, `[[1]]` depth 2. Stops at the first too-deep
    branch; safe at any depth (an explicit stack, no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        children = _children(item)
        if children is None:
            continue
        depth += 1
        if depth > limit:
            return True
        for child in children:
            if isinstance(child, (Mapping, list, tuple)):
                stack.append((child, depth))
    return False


def elided_marker(limit: int) -> str:
    """What the journal shows in place of a container nested deeper than `limit` levels."""
    return f"…(nested deeper than {limit} levels)"
