"""Dotted-key configuration of a fake (`import.max_body_bytes`), read and changed at runtime through
`GET|PUT /_harness/config`.

A fake declares its keys once as `Setting`s (default, type, optional choices / bounds / validator). Values
are checked on every change: an unknown key or a wrong type is a `ConfigError` (the control API answers
400 with the message) and a rejected update changes nothing.
"""

from __future__ import annotations

import builtins
import copy
import json
import math
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fakes.core.nesting import MAX_CONTROL_DEPTH, deeper_than


class ConfigError(ValueError):
    """An unknown key or an invalid value; the message names the key."""


MAX_DURATION_S = 10 * 366 * 86_400
"""Largest duration a setting in seconds takes (ten years): the clock adds it to epoch times, which must stay
inside what datetime and the scheduler handle."""

MAX_NUMBER = 2**53
"""Largest number any setting takes unless it declares its own `maximum`: JSON-safe, and far past every
limit or count a fake uses, yet small enough that arithmetic on it (times 1000, as a float) stays finite."""

_TYPE_NAMES = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object"}


@dataclass(frozen=True)
class Setting:
    key: str
    default: Any
    type: builtins.type | tuple[builtins.type, ...] | None = None
    """Expected type(s); inferred from `default` when None. `float` accepts integers too."""
    nullable: bool = False
    choices: tuple[Any, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    validator: Callable[[Any], Any] | None = None
    """Called with the value; may return a normalised value or raise ValueError with a message."""
    doc: str = ""
    types: tuple[builtins.type, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        declared = self.type if self.type is not None else type(self.default)
        types = declared if isinstance(declared, tuple) else (declared,)
        if type(None) in types:
            types = tuple(t for t in types if t is not type(None))
            object.__setattr__(self, "nullable", True)
        if self.default is None:
            object.__setattr__(self, "nullable", True)
        object.__setattr__(self, "types", types)
        if self.default is not None:
            self.check(self.default)

    def check(self, value: Any) -> Any:
        """Return the value to store, or raise ConfigError."""
        if value is None:
            if self.nullable:
                return None
            raise ConfigError(f"{self.key}: null is not allowed")
        if not self._type_ok(value):
            expected = " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in self.types)
            raise ConfigError(f"{self.key}: expected {expected}, got {_json_type(value)}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"{self.key}: must be a finite number")
        if self.choices is not None and value not in self.choices:
            raise ConfigError(f"{self.key}: must be one of {', '.join(json.dumps(c) for c in self.choices)}")
        if self.minimum is not None and isinstance(value, (int, float)) and value < self.minimum:
            raise ConfigError(f"{self.key}: must be >= {self.minimum:g}")
        if self.maximum is not None and isinstance(value, (int, float)) and value > self.maximum:
            raise ConfigError(f"{self.key}: must be <= {self.maximum:g}")
        if isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) > MAX_NUMBER:
            raise ConfigError(f"{self.key}: must be between -2**53 and 2**53")
        bad_text = _unencodable_text(value)
        if bad_text is not None:
            raise ConfigError(f"{self.key}: {bad_text!r} is not valid Unicode text (a lone surrogate)")
        if self.validator is not None:
            try:
                result = self.validator(value)
            except ConfigError:
                raise
            except (ValueError, TypeError) as exc:
                raise ConfigError(f"{self.key}: {exc}") from None
            if result is not None:
                value = result
        if float in self.types and isinstance(value, int) and not isinstance(value, bool) and int not in self.types:
            value = float(value)
        return copy.deepcopy(value)

    def _type_ok(self, value: Any) -> bool:
        for t in self.types:
            if t is bool:
                if isinstance(value, bool):
                    return True
            elif t is int:
                if isinstance(value, int) and not isinstance(value, bool):
                    return True
            elif t is float:
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    return True
            elif t is list:
                if isinstance(value, (list, tuple)):
                    return True
            elif isinstance(value, t):
                return True
        return False


def _unencodable_text(value: Any) -> str | None:
    """The first string in `value` (keys included) that UTF-8 cannot encode, else None."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return item
        elif isinstance(item, Mapping):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return None


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


class FakeConfig:
    """The values of a fake's settings. Thread-safe; updates are validated as a whole, then applied."""

    def __init__(self, settings: Iterable[Setting], values: Mapping[str, Any] | None = None, *,
                 namespace: str | None = None) -> None:
        # `namespace`: the fake's own key prefix (`braze`), which a key may leave out where it is unambiguous,
        # so a config file's `braze:` section takes `max_ids_per_request`, not `braze: {braze: {...}}`.
        self._namespace = namespace
        self._settings: dict[str, Setting] = {}
        for s in settings:
            if s.key in self._settings:
                raise ValueError(f"setting {s.key} declared twice")
            self._settings[s.key] = s
        self._prefixes = {".".join(k.split(".")[:i]) for k in self._settings for i in range(1, k.count(".") + 1)}
        self._lock = threading.Lock()
        self._values = {k: copy.deepcopy(s.default) for k, s in self._settings.items()}
        if values:
            self.update(values)

    @property
    def settings(self) -> Mapping[str, Setting]:
        return dict(self._settings)

    def __contains__(self, key: str) -> bool:
        return key in self._settings

    def __getitem__(self, key: str) -> Any:
        if key not in self._settings:
            raise KeyError(key)
        with self._lock:
            value = self._values[key]
        # Only containers need copying (callers must not mutate the stored value); scalars are immutable.
        return copy.deepcopy(value) if isinstance(value, (dict, list)) else value

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def flatten(self, values: Mapping[str, Any], _prefix: str = "") -> dict[str, Any]:
        """Accept dotted keys and nested objects alike: `{"import": {"max_body_bytes": 5}}`."""
        if not isinstance(values, Mapping):
            raise ConfigError("configuration must be a JSON object of dotted keys")
        flat: dict[str, Any] = {}
        for raw_key, value in values.items():
            key = f"{_prefix}{raw_key}"
            if not isinstance(raw_key, str) or not raw_key:
                raise ConfigError(f"invalid configuration key {raw_key!r}")
            if key in self._settings:
                flat[key] = value
            elif key in self._prefixes and isinstance(value, Mapping):
                flat.update(self.flatten(value, key + "."))
            elif not _prefix and self._namespace and self._known(f"{self._namespace}.{raw_key}"):
                flat.update(self.flatten({raw_key: value}, self._namespace + "."))
            else:
                raise ConfigError(f"unknown configuration key: {key}")
        return flat

    def _known(self, key: str) -> bool:
        return key in self._settings or key in self._prefixes

    def update(self, values: Mapping[str, Any]) -> list[str]:
        """Validate every value first, then apply them all; returns the changed keys (sorted)."""
        flat = self.flatten(values)
        for key, value in flat.items():
            # deepcopy and == below recurse: absurd nesting would crash them (and no setting needs it)
            if deeper_than(value, MAX_CONTROL_DEPTH):
                raise ConfigError(f"{key}: nested too deeply (at most {MAX_CONTROL_DEPTH} levels)")
        checked = {k: self._settings[k].check(v) for k, v in flat.items()}
        with self._lock:
            changed = sorted(k for k, v in checked.items() if self._values[k] != v)
            self._values.update(checked)
        return changed

    def set(self, key: str, value: Any) -> None:
        self.update({key: value})

    def as_dict(self) -> dict[str, Any]:
        """All values by dotted key, sorted."""
        with self._lock:
            return {k: copy.deepcopy(self._values[k]) for k in sorted(self._values)}

    def describe(self) -> list[dict[str, Any]]:
        out = []
        for key in sorted(self._settings):
            s = self._settings[key]
            item: dict[str, Any] = {
                "key": key,
                "default": s.default,
                "type": [_TYPE_NAMES.get(t, t.__name__) for t in s.types],
                "nullable": s.nullable,
            }
            if s.choices is not None:
                item["choices"] = list(s.choices)
            if s.minimum is not None:
                item["minimum"] = s.minimum
            if s.maximum is not None:
                item["maximum"] = s.maximum
            if s.doc:
                item["doc"] = s.doc
            out.append(item)
        return out

    def restore_defaults(self) -> None:
        with self._lock:
            self._values = {k: copy.deepcopy(s.default) for k, s in self._settings.items()}
