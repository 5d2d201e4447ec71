"""User and group profiles (mixpanel-ingestion.md §7.2, §8): the operation semantics and a
thread-safe store keyed on (project, id). Plain Python."""

from __future__ import annotations

import threading
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

# §7.2, in the order they are recognised inside one update object.
OPERATIONS = ("$set", "$set_once", "$add", "$append", "$union", "$remove", "$unset", "$delete")
CREATING_OPERATIONS = frozenset({"$set", "$set_once", "$add", "$append", "$union"})


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def json_equal(a: Any, b: Any) -> bool:
    """JSON equality: `true` is not `1` (Python's `==` says it is)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    return a == b


def operation_value_ok(op: str, value: Any) -> bool:
    """§7.2 "Invalid when" column."""
    if op in ("$set", "$set_once", "$append", "$remove"):
        return isinstance(value, dict)
    if op == "$add":
        return isinstance(value, dict) and all(_is_number(v) for v in value.values())
    if op == "$union":
        return isinstance(value, dict) and all(isinstance(v, list) and v for v in value.values())
    if op == "$unset":
        return isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value)
    return True  # $delete: its value is ignored


@dataclass
class Profile:
    properties: dict[str, Any] = field(default_factory=dict)
    created_at: int = 0
    last_seen: int | None = None
    updates: int = 0
    key_written_ms: dict[str, int] = field(default_factory=dict)  # for engage.order = time
    metadata: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        return {"properties": self.properties, "created_at": self.created_at, "last_seen": self.last_seen,
                "updates": self.updates, "metadata": self.metadata}


@dataclass
class ProfileUpdate:
    """One validated update: its operations in document order, and the §7.1 modifiers."""

    key: tuple[int | None, Hashable]  # (project, distinct_id) or (project, (group_key, group_id))
    operations: list[tuple[str, Any]]
    time_ms: int
    ignore_time: bool = False
    metadata: dict[str, Any] = field(default_factory=dict)
    geo: dict[str, Any] = field(default_factory=dict)

    @property
    def project_id(self) -> int | None:
        return self.key[0]


class ProfileStore:
    """Profiles plus a raw log of every applied update (a `$delete` leaves a tombstone there)."""

    def __init__(self, max_properties: int = 2000, max_name_len: int = 255) -> None:
        self._lock = threading.Lock()
        self._profiles: dict[Hashable, Profile] = {}
        self.log: list[dict[str, Any]] = []
        self.max_properties = max_properties
        self.max_name_len = max_name_len

    def clear(self) -> None:
        with self._lock:
            self._profiles = {}
            self.log = []

    def get(self, key: Hashable) -> Profile | None:
        with self._lock:
            return self._profiles.get(key)

    def keys(self) -> list[Hashable]:
        with self._lock:
            return list(self._profiles)

    def __len__(self) -> int:
        with self._lock:
            return len(self._profiles)

    def items(self) -> list[tuple[Hashable, Profile]]:
        with self._lock:
            return list(self._profiles.items())

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return [{"key": list(key) if isinstance(key, tuple) else key, **profile.describe(),
                     "key_written_ms": profile.key_written_ms} for key, profile in self._profiles.items()]

    def restore(self, items: list[dict[str, Any]]) -> None:
        with self._lock:
            for item in items:
                key = item["key"]
                # (project, distinct_id) or (project, (group_key, group_id)): JSON turned tuples into lists
                key = (key[0], tuple(key[1]) if isinstance(key[1], list) else key[1])
                self._profiles[key] = Profile(item["properties"], item["created_at"], item["last_seen"],
                                              item["updates"], dict(item.get("key_written_ms", {})),
                                              dict(item.get("metadata", {})))

    def apply(self, update: ProfileUpdate, *, by_time: bool = False) -> bool:
        """Apply every operation in order; False (nothing changed) when the result would pass the
        profile property limit (§7.1)."""
        with self._lock:
            existing = self._profiles.get(update.key)
            ops = [op for op, _ in update.operations]
            if existing is None and not any(op in CREATING_OPERATIONS for op in ops):
                self.log.append({"key": update.key, "operations": update.operations, "time_ms": update.time_ms,
                                 "effect": "no profile"})
                return True
            profile = existing if existing is not None else Profile(created_at=update.time_ms)
            props = dict(profile.properties)
            written = dict(profile.key_written_ms)
            deleted = False
            for op, value in update.operations:
                if op == "$delete":
                    deleted = True
                    props = {}
                    written = {}
                    continue
                self._apply_one(op, value, props, written, update.time_ms, by_time)
            if update.geo:
                for key, value in update.geo.items():
                    props[key] = value
            if len(props) > self.max_properties:
                return False
            self.log.append({"key": update.key, "operations": update.operations, "time_ms": update.time_ms,
                             "effect": "deleted" if deleted else "applied"})
            if deleted and not props:
                self._profiles.pop(update.key, None)
                return True
            profile.properties = props
            profile.key_written_ms = written
            profile.updates += 1
            profile.metadata.update(update.metadata)
            if not update.ignore_time:
                profile.last_seen = update.time_ms
            self._profiles[update.key] = profile
            return True

    def _name(self, key: str) -> str:
        return key[: self.max_name_len]

    def _apply_one(self, op: str, value: Any, props: dict[str, Any], written: dict[str, int], time_ms: int,
                   by_time: bool) -> None:
        if op == "$unset":
            for key in value:
                props.pop(self._name(key), None)
            return
        for raw_key, item in value.items():
            key = self._name(raw_key)
            if by_time and written.get(key, -1) > time_ms:
                continue  # engage.order = time: an older write of this key is skipped
            if op == "$set":
                props[key] = item
            elif op == "$set_once":
                if key in props:
                    continue
                props[key] = item
            elif op == "$add":
                current = props.get(key, 0)
                if not _is_number(current):
                    continue  # existing non-numeric value: unchanged (U)
                props[key] = current + item
            elif op == "$append":
                current = props.get(key)
                if current is None and key not in props:
                    props[key] = [item]
                elif isinstance(current, list):
                    props[key] = current + [item]
                else:
                    continue  # existing non-list: unchanged (U)
            elif op == "$union":
                current = props.get(key)
                if key not in props:
                    current = []
                elif not isinstance(current, list):
                    continue
                merged = list(current)
                for element in item:
                    if not any(json_equal(element, seen) for seen in merged):
                        merged.append(element)
                props[key] = merged
            elif op == "$remove":
                current = props.get(key)
                if isinstance(current, list):
                    props[key] = [element for element in current if not json_equal(element, item)]  # Q16
            written[key] = time_ms
