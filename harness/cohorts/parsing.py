"""``parse_definition``: a JSON-like cohort definition (DESIGN.md §7.1) into frozen nodes, validated eagerly.

Every problem raises one ``CohortDefinitionError`` whose message starts with the path of the bad key, e.g.
``and[1].did_event.min_count: expected a non-negative integer, got "x"``. Unknown keys are errors too, so a
typo is never silently ignored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from harness.cohorts.did_event import DidEvent
from harness.cohorts.errors import CohortDefinitionError
from harness.cohorts.json_values import SCALAR_TYPES, is_finite_number
from harness.cohorts.nodes import AllOf, AnyOf, CohortNode, IdList, NoneOf
from harness.cohorts.profile_filter import OPERATORS, ProfileFilter

KINDS = ("did_event", "profile", "ids", "and", "or", "not")
DID_EVENT_KEYS = ("event", "min_count", "max_count", "exactly", "within_days", "from", "to", "where")
MAX_DEPTH = 64  # deeper than any real cohort; keeps a hostile definition from exhausting the stack


def parse_definition(data: Any) -> CohortNode:
    """Parse a definition (a dict from JSON or YAML) into its node tree; raise ``CohortDefinitionError``."""
    return _node(data, "", 0)


def _node(data: Any, path: str, depth: int) -> CohortNode:
    if depth > MAX_DEPTH:
        raise CohortDefinitionError(path, f"definitions nest at most {MAX_DEPTH} levels deep")
    if not isinstance(data, Mapping) or len(data) != 1:
        if isinstance(data, Mapping) and len(data) > 1:
            keys = ", ".join(sorted(map(str, data)))
            raise CohortDefinitionError(path, f"expected exactly one of {', '.join(KINDS)}, got keys {keys}")
        raise CohortDefinitionError(path, f"expected an object with one of {', '.join(KINDS)}, got {_shown(data)}")
    ((kind, body),) = data.items()
    here = _join(path, str(kind))
    if kind in ("and", "or"):
        if not isinstance(body, list) or not body:
            raise CohortDefinitionError(here, f"expected a non-empty array of definitions, got {_shown(body)}")
        children = tuple(_node(child, f"{here}[{i}]", depth + 1) for i, child in enumerate(body))
        return AllOf(children) if kind == "and" else AnyOf(children)
    if kind == "not":
        return NoneOf(_node(body, here, depth + 1))
    if kind == "ids":
        if not isinstance(body, list) or not all(isinstance(d, str) for d in body):
            raise CohortDefinitionError(here, f"expected an array of distinct_id strings, got {_shown(body)}")
        return IdList(frozenset(body))
    if kind == "did_event":
        return _did_event(body, here)
    if kind == "profile":
        return _profile(body, here)
    raise CohortDefinitionError(here, f"unknown definition; expected one of {', '.join(KINDS)}")


def _did_event(body: Any, path: str) -> DidEvent:
    _object(body, path, DID_EVENT_KEYS)
    event = body.get("event")
    if not isinstance(event, str) or not event:
        raise CohortDefinitionError(_join(path, "event"), f"expected a non-empty event name, got {_shown(event)}")
    counts = {key: _count(body, key, path) for key in ("min_count", "max_count", "exactly")}
    if counts["exactly"] is not None and (counts["min_count"] is not None or counts["max_count"] is not None):
        raise CohortDefinitionError(_join(path, "exactly"), "cannot be combined with min_count or max_count")
    low, high = counts["min_count"], counts["max_count"]
    if low is not None and high is not None and low > high:
        raise CohortDefinitionError(_join(path, "max_count"), f"must be at least min_count ({low}), got {high}")
    within = body.get("within_days")
    if within is not None and (not is_finite_number(within) or within <= 0):
        raise CohortDefinitionError(_join(path, "within_days"), f"expected a positive number, got {_shown(within)}")
    start, end = body.get("from"), body.get("to")
    for key, value in (("from", start), ("to", end)):
        if value is not None and not is_finite_number(value):
            raise CohortDefinitionError(_join(path, key), f"expected epoch seconds (a number), got {_shown(value)}")
        if value is not None and within is not None:
            raise CohortDefinitionError(_join(path, key), "give within_days or from/to, not both")
    if start is not None and end is not None and start > end:
        raise CohortDefinitionError(_join(path, "to"), f"must not be before from ({start}), got {end}")
    return DidEvent(event, low, high, counts["exactly"], within, start, end, _where(body.get("where"), path))


def _count(body: Mapping[str, Any], key: str, path: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise CohortDefinitionError(_join(path, key), f"expected a non-negative integer, got {_shown(value)}")
    return value


def _where(where: Any, path: str) -> tuple[tuple[str, Any], ...]:
    if where is None:
        return ()
    here = _join(path, "where")
    if not isinstance(where, Mapping):
        raise CohortDefinitionError(here, f"expected an object of property: value, got {_shown(where)}")
    out: list[tuple[str, Any]] = []
    for name, value in where.items():
        if isinstance(value, list):
            if not value or not all(_scalar(v) for v in value):
                raise CohortDefinitionError(_join(here, str(name)),
                                            f"expected a non-empty array of strings, numbers or booleans, "
                                            f"got {_shown(value)}")
            out.append((str(name), tuple(value)))
        elif _scalar(value):
            out.append((str(name), value))
        else:
            raise CohortDefinitionError(_join(here, str(name)),
                                        f"expected a string, number, boolean or an array of them, got {_shown(value)}")
    return tuple(sorted(out, key=lambda item: item[0]))


def _profile(body: Any, path: str) -> ProfileFilter:
    _object(body, path, ("property", *OPERATORS))
    name = body.get("property")
    if not isinstance(name, str) or not name:
        raise CohortDefinitionError(_join(path, "property"), f"expected a non-empty property name, got {_shown(name)}")
    operators = [key for key in body if key != "property"]
    if len(operators) != 1:
        got = ", ".join(operators) or "none"
        raise CohortDefinitionError(path, f"expected exactly one operator of {', '.join(OPERATORS)} "
                                          f"(combine several with \"and\"), got {got}")
    operator = operators[0]
    operand = body[operator]
    here = _join(path, operator)
    if operator == "equals" and not _scalar(operand):
        raise CohortDefinitionError(here, f"expected a string, number or boolean, got {_shown(operand)}")
    if operator == "in":
        if not isinstance(operand, list) or not operand or not all(_scalar(v) for v in operand):
            raise CohortDefinitionError(here, f"expected a non-empty array of strings, numbers or booleans, "
                                              f"got {_shown(operand)}")
        operand = tuple(operand)
    if operator in ("is_set", "not_set") and not isinstance(operand, bool):
        raise CohortDefinitionError(here, f"expected true or false, got {_shown(operand)}")
    if operator in ("gt", "gte", "lt", "lte") and not is_finite_number(operand):
        raise CohortDefinitionError(here, f"expected a number, got {_shown(operand)}")
    return ProfileFilter(name, operator, operand)


def _object(body: Any, path: str, allowed: tuple[str, ...]) -> None:
    if not isinstance(body, Mapping):
        raise CohortDefinitionError(path, f"expected an object, got {_shown(body)}")
    for key in body:
        if key not in allowed:
            raise CohortDefinitionError(_join(path, str(key)), f"unknown key; expected one of {', '.join(allowed)}")


def _scalar(value: Any) -> bool:
    return isinstance(value, SCALAR_TYPES)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _shown(value: Any) -> str:
    """The offending value as JSON (``"x"``, ``null``), cut short when long."""
    try:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
