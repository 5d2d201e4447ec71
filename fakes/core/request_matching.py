"""Request patterns for verifying what a fake received (`POST /_harness/requests/count` and `/find`).

In the manner of WireMock's request verification: a pattern names the method, path, query parameters,
headers, body and answer status a journal entry must have, and the control API counts or lists the
entries that match. A pattern is parsed and checked whole before anything is matched; every problem is a
`PatternError` whose message names the offending key (`headers.Content-Type.regex: ...`).

    {"method": "POST",                                   # or ["GET", "POST"]
     "path": "/import",                                  # a string is `equals`; or a matcher object
     "query": {"strict": "1", "project_id": {"absent": true}},
     "headers": {"Content-Type": {"contains": "json"}},  # names are case-insensitive
     "body": [{"json": {"properties": {"distinct_id": "u1"}}}, {"regex": "Email (Open|Click)"}],
     "status": 200,                                      # or a list
     "after_id": 12}                                     # only entries newer than journal id 12

A string matcher is one of `{"equals": s}`, `{"contains": s}`, `{"regex": r}` (Python `re.search`),
`{"glob": g}` (fnmatch, case-sensitive) or `{"absent": true}` (query and headers only). A body matcher is
`{"json": J}` (the body parses as JSON and holds J: every key of an object with a matching value, every
element of an array matching some element), `{"equals": s}`, `{"contains": s}`, `{"regex": r}` or
`{"absent": true}` (an empty body); a list of them must all match. Matching reads the journal as it
stands: bodies masked and capped at `journal.max_body_chars` (a truncated body is not JSON), encoded
bodies not shown (no body matcher matches them).
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from fakes.core.nesting import MAX_CONTROL_DEPTH, deeper_than

PATTERN_KEYS = ("method", "path", "query", "headers", "body", "status", "after_id")
STRING_OPERATORS = ("equals", "contains", "regex", "glob", "absent")
BODY_OPERATORS = ("json", "equals", "contains", "regex", "absent")
_NO_JSON = object()


class PatternError(ValueError):
    """A malformed pattern; the message starts with the key path of the problem."""


@dataclass(frozen=True)
class StringMatcher:
    op: str
    value: Any  # str, a compiled regex, or True for absent

    def matches(self, text: str | None) -> bool:
        """`text` None means absent."""
        if self.op == "absent":
            return text is None
        if text is None:
            return False
        if self.op == "equals":
            return bool(text == self.value)
        if self.op == "contains":
            return self.value in text
        if self.op == "glob":
            return fnmatch.fnmatchcase(text, self.value)
        return self.value.search(text) is not None


@dataclass(frozen=True)
class RequestPattern:
    methods: frozenset[str] | None = None
    path: StringMatcher | None = None
    query: tuple[tuple[str, StringMatcher], ...] = ()
    headers: tuple[tuple[str, StringMatcher], ...] = ()
    body: tuple[StringMatcher, ...] = ()  # op "json" holds the expected value
    statuses: frozenset[int] | None = None
    after_id: int | None = None

    def matches(self, entry: Mapping[str, Any]) -> bool:
        if self.after_id is not None and not entry.get("id", 0) > self.after_id:
            return False
        if self.methods is not None and entry.get("method") not in self.methods:
            return False
        if self.statuses is not None and entry.get("status") not in self.statuses:
            return False
        if self.path is not None and not self.path.matches(entry.get("path", "")):
            return False
        query = entry.get("query") or {}
        for name, matcher in self.query:
            values = query.get(name)
            if matcher.op == "absent":
                if values:
                    return False
            elif not values or not any(matcher.matches(v) for v in values):
                return False
        headers = {str(k).lower(): v for k, v in (entry.get("headers") or {}).items()}
        for name, matcher in self.headers:
            if not matcher.matches(headers.get(name)):
                return False
        return all(_body_matches(m, entry) for m in self.body)

    def select(self, entries: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        return [e for e in entries if self.matches(e)]


def _body_matches(matcher: StringMatcher, entry: Mapping[str, Any]) -> bool:
    text = entry.get("body")
    if matcher.op == "absent":
        return text == "" and not entry.get("body_bytes")
    if text is None:  # an encoded body the journal does not show
        return False
    if matcher.op != "json":
        return matcher.matches(text)
    if entry.get("body_truncated"):
        return False
    try:
        actual = json.loads(text)
    except (ValueError, RecursionError):
        return False
    return json_contains(actual, matcher.value)


def json_contains(actual: Any, expected: Any) -> bool:
    """Whether `actual` holds `expected`: objects by key (extra keys allowed), arrays element-wise in any
    order (extra elements allowed), scalars equal with their JSON types (true is not 1)."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(k in actual and json_contains(actual[k], v)
                                                for k, v in expected.items())
    if isinstance(expected, list):
        return isinstance(actual, list) and all(any(json_contains(a, e) for a in actual) for e in expected)
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        return bool(expected == actual)
    return type(expected) is type(actual) and bool(expected == actual)


# --- parsing ----------------------------------------------------------------------------------------
def parse_pattern(raw: Any, *, extra_keys: tuple[str, ...] = ()) -> tuple[RequestPattern, dict[str, Any]]:
    """The pattern of a request body, and the values of `extra_keys` it held (e.g. `limit`), or PatternError."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise PatternError("the pattern must be a JSON object, e.g. {\"method\": \"POST\", \"path\": \"/import\"}")
    known = (*PATTERN_KEYS, *extra_keys)
    unknown = sorted(str(k) for k in raw if k not in known)
    if unknown:
        raise PatternError(f"unknown field(s) {', '.join(unknown)}; known: {', '.join(known)}")
    if deeper_than(raw, MAX_CONTROL_DEPTH):
        raise PatternError(f"the pattern is nested too deeply (at most {MAX_CONTROL_DEPTH} levels)")
    pattern = RequestPattern(
        methods=_methods(raw["method"]) if "method" in raw else None,
        path=_string_matcher(raw["path"], "path", allow_absent=False) if "path" in raw else None,
        query=_named("query", raw.get("query"), lower=False),
        headers=_named("headers", raw.get("headers"), lower=True),
        body=_body(raw["body"]) if "body" in raw else (),
        statuses=_statuses(raw["status"]) if "status" in raw else None,
        after_id=_non_negative(raw["after_id"], "after_id") if "after_id" in raw else None,
    )
    return pattern, {k: raw[k] for k in extra_keys if k in raw}


def _non_negative(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise PatternError(f"{where}: must be a non-negative integer")
    return value


def _methods(value: Any) -> frozenset[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(m, str) and m.strip() for m in items):
        raise PatternError("method: must be a method name or a non-empty list of them")
    return frozenset(m.strip().upper() for m in items)


def _statuses(value: Any) -> frozenset[int]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(s, int) and not isinstance(s, bool) and 100 <= s <= 599 for s in items):
        raise PatternError("status: must be an HTTP status (100-599) or a non-empty list of them")
    return frozenset(items)


def _named(where: str, value: Any, *, lower: bool) -> tuple[tuple[str, StringMatcher], ...]:
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise PatternError(f"{where}: must be an object of name -> matcher")
    out = []
    for name, spec in value.items():
        if not name:
            raise PatternError(f"{where}: a name must not be empty")
        out.append((name.lower() if lower else name, _string_matcher(spec, f"{where}.{name}", allow_absent=True)))
    return tuple(out)


def _string_matcher(spec: Any, where: str, *, allow_absent: bool,
                    operators: tuple[str, ...] = STRING_OPERATORS) -> StringMatcher:
    if isinstance(spec, str):
        return StringMatcher("equals", spec)
    allowed = tuple(op for op in operators if allow_absent or op != "absent")
    if not isinstance(spec, dict) or len(spec) != 1:
        raise PatternError(f"{where}: give a string or an object with one of {', '.join(allowed)}")
    ((op, value),) = spec.items()
    if op not in allowed:
        raise PatternError(f"{where}: unknown matcher {op!r}; use one of {', '.join(allowed)}")
    where = f"{where}.{op}"
    if op == "absent":
        if value is not True:
            raise PatternError(f"{where}: must be true")
        return StringMatcher(op, True)
    if op == "json":
        return StringMatcher(op, value)
    if not isinstance(value, str):
        raise PatternError(f"{where}: must be a string")
    if op == "regex":
        try:
            return StringMatcher(op, re.compile(value))
        except (re.error, RecursionError, OverflowError) as exc:
            raise PatternError(f"{where}: not a valid regular expression ({exc})") from None
    return StringMatcher(op, value)


def _body(value: Any) -> tuple[StringMatcher, ...]:
    items = value if isinstance(value, list) else [value]
    if not items:
        raise PatternError("body: give a matcher object or a non-empty list of them")
    out = []
    for index, item in enumerate(items):
        where = f"body[{index}]" if isinstance(value, list) else "body"
        if not isinstance(item, dict):  # a bare string would be ambiguous (text? JSON?)
            raise PatternError(f"{where}: give an object with one of {', '.join(BODY_OPERATORS)}")
        out.append(_string_matcher(item, where, allow_absent=True, operators=BODY_OPERATORS))
    return tuple(out)
