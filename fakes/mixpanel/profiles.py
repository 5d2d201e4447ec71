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
        self._dirty: set[Hashable] = set()  # keys changed since the last take_changes (--state-dir)
        self.max_properties = max_properties
        self.max_name_len = max_name_len

    def clear(self) -> None:
        with self._lock:
            self._profiles = {}
            self.log = []
            self._dirty = set()

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
            return [_profile_item(key, profile) for key, profile in self._profiles.items()]

    def take_changes(self) -> list[dict[str, Any]]:
        """The profiles changed since the last call: each as a `snapshot` item, or `{"key", "deleted": true}`."""
        with self._lock:
            dirty, self._dirty = self._dirty, set()
            out = []
            for key in dirty:
                profile = self._profiles.get(key)
                out.append(_profile_item(key, profile) if profile is not None
                           else {"key": list(key) if isinstance(key, tuple) else key, "deleted": True})
            return out

    def restore(self, items: Any, where: str = "profiles") -> None:
        """Load `snapshot` / `take_changes` items, checking each (ValueError names the bad one)."""
        if not isinstance(items, list):
            raise ValueError(f"{where}: not a list")
        with self._lock:
            for index, item in enumerate(items):
                key, profile = _checked_item(item, f"{where}[{index}]")
                if profile is None:
                    self._profiles.pop(key, None)
                else:
                    self._profiles[key] = profile

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
            self._dirty.add(update.key)
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


def _profile_item(key: Hashable, profile: Profile) -> dict[str, Any]:
    return {"key": _key_json(key), **profile.describe(), "key_written_ms": profile.key_written_ms}


def _key_json(key: Hashable) -> Any:
    if isinstance(key, tuple):
        return [k if not isinstance(k, tuple) else list(k) for k in key]
    return key


def _checked_item(item: Any, where: str) -> tuple[Hashable, Profile | None]:
    """(key, profile or None for a deletion) of a saved item, or ValueError naming the bad field."""
    if not isinstance(item, dict):
        raise ValueError(f"{where}: not an object")
    key = item.get("key")
    # (project, distinct_id) or (project, (group_key, group_id)): JSON turned tuples into lists
    if not isinstance(key, list) or len(key) != 2 or (key[0] is not None and type(key[0]) is not int):
        raise ValueError(f"{where}.key: must be [project_id, id]")
    identity = key[1]
    if isinstance(identity, list):
        if len(identity) != 2 or not all(isinstance(v, str) for v in identity):
            raise ValueError(f"{where}.key: a group id must be [group_key, group_id] strings")
        identity = tuple(identity)
    elif not isinstance(identity, (str, int, float)) or isinstance(identity, bool):
        raise ValueError(f"{where}.key: the id must be a string or a number")
    pair = (key[0], identity)
    if item.get("deleted") is True:
        return pair, None
    checks = (("properties", dict), ("metadata", dict), ("key_written_ms", dict))
    for name, kind in checks:
        if not isinstance(item.get(name, {}), kind):
            raise ValueError(f"{where}.{name}: must be an object")
    for name in ("created_at", "updates"):
        if type(item.get(name)) is not int:
            raise ValueError(f"{where}.{name}: must be an integer")
    if item.get("last_seen") is not None and type(item["last_seen"]) is not int:
        raise ValueError(f"{where}.last_seen: must be an integer or null")
    written = item.get("key_written_ms", {})
    if not all(type(v) is int for v in written.values()):
        raise ValueError(f"{where}.key_written_ms: values must be integers")
    return pair, Profile(item["properties"], item["created_at"], item["last_seen"], item["updates"], dict(written),
                         dict(item.get("metadata", {})))
