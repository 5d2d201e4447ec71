"""Braze user store of one workspace: identified and anonymous profiles (braze-cohort-sync.md §6).

Only the control surface (Python or HTTP) changes profiles; cohort import only reads them. Profiles
deleted or merged away notify a ``ProfileListener`` so cohort membership can close their intervals.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from .errors import ControlError

Alias = tuple[str, str]  # (alias_name, alias_label)


@dataclass
class Profile:
    braze_id: str
    created_at: float
    external_id: str | None = None
    identified_at: float | None = None
    deleted_at: float | None = None
    aliases: set[Alias] = field(default_factory=set)
    device_ids: set[str] = field(default_factory=set)
    attributes: dict = field(default_factory=dict)

    def exists_at(self, t: float) -> bool:
        return self.created_at <= t and (self.deleted_at is None or self.deleted_at > t)

    def identified_by(self, t: float) -> bool:
        return self.identified_at is not None and self.identified_at <= t

    def aliases_json(self) -> list[dict[str, str]]:
        return [{"alias_name": name, "alias_label": label} for name, label in sorted(self.aliases)]

    def member_json(self, t: float) -> dict[str, Any]:
        """The profile as a cohort or segment member at time t (its external id only once identified)."""
        return {
            "braze_id": self.braze_id,
            "external_id": self.external_id if self.identified_by(t) else None,
            "device_ids": sorted(self.device_ids),
            "aliases": self.aliases_json(),
        }

    def to_json(self) -> dict:
        return {
            "braze_id": self.braze_id,
            "external_id": self.external_id,
            "aliases": self.aliases_json(),
            "device_ids": sorted(self.device_ids),
            "attributes": dict(self.attributes),
            "created_at": self.created_at,
            "identified_at": self.identified_at,
            "deleted_at": self.deleted_at,
        }


class ProfileListener(Protocol):
    def profile_deleted(self, braze_id: str, at: float) -> None: ...

    def profile_merged(self, from_id: str, into_id: str, at: float) -> None: ...


class IdentifyConflict(ControlError):
    def __init__(self, external_id: str) -> None:
        super().__init__(f"external_id {external_id!r} already belongs to another profile", status=409)


def _locked(method):
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self._lock:
            return method(self, *args, **kwargs)
    return wrapper


class BrazeUserStore:
    """Profiles indexed by external id, alias pair and device id; each unique in the workspace.

    Public methods take the state lock (shared with the cohort import model), so Python seeding is
    safe while a server thread applies requests."""

    def __init__(self, clock, listener: ProfileListener | None = None,
                 identify_conflict: str | Callable[[], str] = "reject", lock=None) -> None:
        self._clock = clock
        self._lock = lock if lock is not None else threading.RLock()
        self.listener = listener
        self._identify_conflict = identify_conflict
        self._profiles: dict[str, Profile] = {}
        self._by_external: dict[str, str] = {}
        self._by_alias: dict[Alias, str] = {}
        self._by_device: dict[str, str] = {}
        self._next = 1
        self._version = 0  # bumped on every change; keys the case-folded index cache
        self.dirty: set[str] = set()  # braze ids changed since persistence last took them (--state-dir)
        self._folded: tuple[int, dict] | None = None

    # --- seeding ---------------------------------------------------------------------------------
    @_locked
    def add_identified(self, external_id: str, aliases: Iterable = (), devices: Iterable[str] = (),
                       attributes: dict | None = None, at: float | None = None) -> Profile:
        _require_str(external_id, "external_id")
        if external_id in self._by_external:
            raise IdentifyConflict(external_id)
        return self._create(external_id, aliases, devices, attributes, at)

    @_locked
    def add_anonymous(self, aliases: Iterable = (), devices: Iterable[str] = (),
                      attributes: dict | None = None, at: float | None = None) -> Profile:
        return self._create(None, aliases, devices, attributes, at)

    @_locked
    def add_many(self, specs: list, at: float | None = None) -> list[Profile]:
        """Seed several profiles from JSON-shaped dicts, all or nothing (control ``POST .../users``).

        Each spec: ``external_id`` (absent or null = anonymous), ``aliases`` (alias objects or pairs),
        ``device_ids`` (or ``devices``), optional ``attributes`` and ``created_at`` (epoch seconds)."""
        if not isinstance(specs, list) or not specs:
            raise ControlError("users must be a non-empty array of user objects")
        seen_external, seen_alias, seen_device = set(), set(), set()
        prepared = []
        for i, spec in enumerate(specs):
            where = f"users[{i}]"
            if not isinstance(spec, dict):
                raise ControlError(f"{where}: a user is a JSON object")
            unknown = set(spec) - {"external_id", "aliases", "device_ids", "devices", "attributes", "created_at"}
            if unknown:
                raise ControlError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
            external_id = spec.get("external_id")
            if external_id is not None:
                _require_str(external_id, f"{where}.external_id")
                if external_id in self._by_external or external_id in seen_external:
                    raise IdentifyConflict(external_id)
                seen_external.add(external_id)
            raw_aliases = spec.get("aliases") or []
            raw_devices = spec.get("device_ids", spec.get("devices")) or []
            if not isinstance(raw_aliases, list) or not isinstance(raw_devices, list):
                raise ControlError(f"{where}: aliases and device_ids must be arrays")
            try:
                pairs = [_alias(*_alias_pair(a)) for a in raw_aliases]
                for device_id in raw_devices:
                    _require_str(device_id, "device_id")
            except ControlError as error:
                raise ControlError(f"{where}: {error.message}") from None
            for pair in pairs:
                self._check_alias_free(pair, None)
                if pair in seen_alias:
                    raise ControlError(f"{where}: alias {pair[0]!r}/{pair[1]!r} given twice", 409)
                seen_alias.add(pair)
            for device_id in raw_devices:
                self._check_device_free(device_id, None)
                if device_id in seen_device:
                    raise ControlError(f"{where}: device {device_id!r} given twice", 409)
                seen_device.add(device_id)
            created = spec.get("created_at", at)
            if created is not None and (isinstance(created, bool) or not isinstance(created, (int, float))):
                raise ControlError(f"{where}.created_at must be epoch seconds")
            attributes = spec.get("attributes")
            if attributes is not None and not isinstance(attributes, dict):
                raise ControlError(f"{where}.attributes must be an object")
            prepared.append((external_id, pairs, raw_devices, attributes, created))
        return [self._create(*args) for args in prepared]

    @_locked
    def add_alias(self, braze_id: str, alias_name: str, alias_label: str) -> Profile:
        profile = self.require(braze_id)
        pair = _alias(alias_name, alias_label)
        self._check_alias_free(pair, braze_id)
        profile.aliases.add(pair)
        self._by_alias[pair] = braze_id
        self._version += 1
        self.dirty.add(braze_id)
        return profile

    @_locked
    def add_device(self, braze_id: str, device_id: str) -> Profile:
        profile = self.require(braze_id)
        _require_str(device_id, "device_id")
        self._check_device_free(device_id, braze_id)
        profile.device_ids.add(device_id)
        self._by_device[device_id] = braze_id
        self._version += 1
        self.dirty.add(braze_id)
        return profile

    @_locked
    def identify(self, external_id: str, *, braze_id: str | None = None, device: str | None = None,
                 alias: Alias | None = None, at: float | None = None) -> Profile:
        """Give an anonymous profile an external id at time ``at`` (§6)."""
        _require_str(external_id, "external_id")
        profile = self.select(braze_id=braze_id, device=device, alias=alias)
        if profile.external_id is not None:
            raise ControlError(f"profile {profile.braze_id} is already identified as {profile.external_id!r}", 409)
        at = self._now(at)
        self._version += 1
        self.dirty.add(profile.braze_id)
        owner_id = self._by_external.get(external_id)
        if owner_id is None:
            profile.external_id, profile.identified_at = external_id, at
            self._by_external[external_id] = profile.braze_id
            return profile
        policy = self._identify_conflict() if callable(self._identify_conflict) else self._identify_conflict
        if policy == "reject":
            raise IdentifyConflict(external_id)
        # merge: devices, aliases and open memberships move to the existing profile.
        owner = self._profiles[owner_id]
        self.dirty.add(owner_id)
        for device_id in profile.device_ids:
            self._by_device[device_id] = owner_id
        for pair in profile.aliases:
            self._by_alias[pair] = owner_id
        owner.device_ids |= profile.device_ids
        owner.aliases |= profile.aliases
        profile.device_ids, profile.aliases = set(), set()
        if self.listener is not None:
            self.listener.profile_merged(profile.braze_id, owner_id, at)
        self._delete(profile, at)
        return owner

    @_locked
    def delete(self, braze_id: str, at: float | None = None) -> Profile:
        profile = self.require(braze_id)
        self._delete(profile, self._now(at))
        return profile

    # --- lookups (cohort import resolution, §4.9) -------------------------------------------------
    @_locked
    def by_external_id(self, external_id: str, case_sensitive: bool = True) -> Profile | None:
        if not case_sensitive:
            return self._live(self._folded_lookup("external", external_id.casefold()))
        return self._live(self._by_external.get(external_id))

    @_locked
    def by_device(self, device_id: str, case_sensitive: bool = True) -> Profile | None:
        if not case_sensitive:
            return self._live(self._folded_lookup("device", device_id.casefold()))
        return self._live(self._by_device.get(device_id))

    @_locked
    def by_alias(self, alias_name: str, alias_label: str, case_sensitive: bool = True) -> Profile | None:
        if not case_sensitive:
            return self._live(self._folded_lookup("alias", (alias_name.casefold(), alias_label.casefold())))
        return self._live(self._by_alias.get((alias_name, alias_label)))

    def resolver(self, now: float, case_sensitive: bool = True) -> ProfileResolver:
        """Fast lookups at one instant for one request; the caller holds the store's lock meanwhile."""
        return ProfileResolver(self, now, case_sensitive)

    def _folded_index(self) -> dict:
        self._folded_lookup("external", "")  # builds the folded index when it is stale
        assert self._folded is not None
        return self._folded[1]

    def _folded_lookup(self, kind: str, key) -> str | None:
        """Case-insensitive match (braze.case_sensitive_ids = false); ambiguous folds match nobody."""
        if self._folded is None or self._folded[0] != self._version:
            index: dict = {"external": {}, "device": {}, "alias": {}}
            for value, bid in self._by_external.items():
                index["external"].setdefault(value.casefold(), set()).add(bid)
            for value, bid in self._by_device.items():
                index["device"].setdefault(value.casefold(), set()).add(bid)
            for (name, label), bid in self._by_alias.items():
                index["alias"].setdefault((name.casefold(), label.casefold()), set()).add(bid)
            self._folded = (self._version, index)
        found = self._folded[1][kind].get(key, ())
        return next(iter(found)) if len(found) == 1 else None

    @_locked
    def get(self, braze_id: str) -> Profile | None:
        return self._profiles.get(braze_id)

    @_locked
    def require(self, braze_id: str) -> Profile:
        profile = self._profiles.get(braze_id)
        if profile is None or profile.deleted_at is not None:
            raise ControlError(f"unknown braze_id {braze_id!r}", status=404)
        return profile

    @_locked
    def select(self, *, braze_id: str | None = None, external_id: str | None = None,
               device: str | None = None, alias: Alias | None = None) -> Profile:
        """The live profile named by exactly one selector."""
        given = [s for s in (braze_id, external_id, device, alias) if s is not None]
        if len(given) != 1:
            raise ControlError("select a profile by exactly one of braze_id, external_id, device, alias")
        if braze_id is not None:
            return self.require(braze_id)
        if external_id is not None:
            found = self.by_external_id(external_id)
        elif device is not None:
            found = self.by_device(device)
        else:
            found = self.by_alias(*_alias(*_alias_pair(alias)))
        if found is None:
            raise ControlError("no profile matches that selector", status=404)
        return found

    @_locked
    def profiles(self, include_deleted: bool = False) -> list[Profile]:
        return [p for p in self._profiles.values() if include_deleted or p.deleted_at is None]

    def __len__(self) -> int:
        return len(self._profiles)

    def put_saved(self, profile: Profile) -> None:
        """Put a saved profile in place of the one with its braze id (restoring `--state-dir`)."""
        old = self._profiles.get(profile.braze_id)
        if old is not None:
            self._unindex(old)
        self._profiles[profile.braze_id] = profile
        if profile.deleted_at is None:
            if profile.external_id is not None:
                self._by_external[profile.external_id] = profile.braze_id
            for pair in profile.aliases:
                self._by_alias[pair] = profile.braze_id
            for device_id in profile.device_ids:
                self._by_device[device_id] = profile.braze_id
        self._version += 1

    def _unindex(self, profile: Profile) -> None:
        if profile.external_id is not None and self._by_external.get(profile.external_id) == profile.braze_id:
            del self._by_external[profile.external_id]
        for pair in profile.aliases:
            if self._by_alias.get(pair) == profile.braze_id:
                del self._by_alias[pair]
        for device_id in profile.device_ids:
            if self._by_device.get(device_id) == profile.braze_id:
                del self._by_device[device_id]

    # --- internals -------------------------------------------------------------------------------
    def _now(self, at: float | None) -> float:
        return self._clock.now() if at is None else float(at)

    def _live(self, braze_id: str | None) -> Profile | None:
        if braze_id is None:
            return None
        profile = self._profiles[braze_id]
        return profile if profile.exists_at(self._clock.now()) else None

    def _create(self, external_id, aliases, devices, attributes, at) -> Profile:
        pairs = [_alias(*_alias_pair(a)) for a in aliases]
        devices = list(devices)
        for device_id in devices:
            _require_str(device_id, "device_id")
            self._check_device_free(device_id, None)
        for pair in pairs:
            self._check_alias_free(pair, None)
        if len(set(pairs)) != len(pairs) or len(set(devices)) != len(devices):
            raise ControlError("a profile lists the same alias or device twice")
        if attributes is not None and not isinstance(attributes, dict):
            raise ControlError("attributes must be an object")
        at = self._now(at)
        braze_id = f"{self._next:024x}"  # Braze ids are 24 hex digits; a counter keeps them stable.
        self._next += 1
        profile = Profile(braze_id, at, external_id, at if external_id is not None else None,
                          aliases=set(pairs), device_ids=set(devices), attributes=dict(attributes or {}))
        self._profiles[braze_id] = profile
        self._version += 1
        self.dirty.add(braze_id)
        if external_id is not None:
            self._by_external[external_id] = braze_id
        for pair in pairs:
            self._by_alias[pair] = braze_id
        for device_id in devices:
            self._by_device[device_id] = braze_id
        return profile

    def _delete(self, profile: Profile, at: float) -> None:
        if profile.deleted_at is not None:
            return
        profile.deleted_at = at
        self._version += 1
        self.dirty.add(profile.braze_id)
        self._unindex(profile)  # a deleted profile frees its identifiers for reuse
        if self.listener is not None:
            self.listener.profile_deleted(profile.braze_id, at)

    def _check_alias_free(self, pair: Alias, braze_id: str | None) -> None:
        owner = self._by_alias.get(pair)
        if owner is not None and owner != braze_id:
            raise ControlError(f"alias {pair[0]!r}/{pair[1]!r} already belongs to profile {owner}", 409)

    def _check_device_free(self, device_id: str, braze_id: str | None) -> None:
        owner = self._by_device.get(device_id)
        if owner is not None and owner != braze_id:
            raise ControlError(f"device {device_id!r} already belongs to profile {owner}", 409)


class ProfileResolver:
    """Identifier → live profile at one instant, without per-lookup locking (cohort import resolution)."""

    def __init__(self, store: BrazeUserStore, now: float, case_sensitive: bool) -> None:
        self._profiles = store._profiles
        self._now = now
        self._case_sensitive = case_sensitive
        self._indexes: dict[str, dict[Any, str]]
        if case_sensitive:
            self._indexes = {"external": store._by_external, "device": store._by_device, "alias": store._by_alias}
        else:
            folded = store._folded_index()
            self._indexes = {kind: {k: next(iter(v)) for k, v in index.items() if len(v) == 1}
                             for kind, index in folded.items()}

    def _live(self, braze_id: str | None) -> Profile | None:
        if braze_id is None:
            return None
        profile = self._profiles[braze_id]
        return profile if profile.exists_at(self._now) else None

    def external_ids(self, values: Iterable[str]) -> list[str | None]:
        """braze_id of the live profile for each external id, or None; one tight loop per request."""
        index, profiles, now = self._indexes["external"], self._profiles, self._now
        fold = not self._case_sensitive
        out: list[str | None] = []
        for value in values:
            braze_id = index.get(value.casefold() if fold else value)
            if braze_id is not None:
                profile = profiles[braze_id]
                if profile.created_at > now or (profile.deleted_at is not None and profile.deleted_at <= now):
                    braze_id = None
            out.append(braze_id)
        return out

    def external(self, external_id: str) -> Profile | None:
        key = external_id if self._case_sensitive else external_id.casefold()
        return self._live(self._indexes["external"].get(key))

    def device(self, device_id: str) -> Profile | None:
        key = device_id if self._case_sensitive else device_id.casefold()
        return self._live(self._indexes["device"].get(key))

    def alias(self, alias_name: str, alias_label: str) -> Profile | None:
        key = (alias_name, alias_label) if self._case_sensitive else (alias_name.casefold(), alias_label.casefold())
        return self._live(self._indexes["alias"].get(key))


def _require_str(value, what: str) -> None:
    if not isinstance(value, str) or not value:
        raise ControlError(f"{what} must be a non-empty string")


def _alias_pair(alias) -> tuple:
    if isinstance(alias, dict):
        return alias.get("alias_name"), alias.get("alias_label")
    if isinstance(alias, (tuple, list)) and len(alias) == 2:
        return tuple(alias)
    raise ControlError("an alias is {\"alias_name\": ..., \"alias_label\": ...} or a (name, label) pair")


def _alias(name, label) -> Alias:
    _require_str(name, "alias_name")
    _require_str(label, "alias_label")
    return (name, label)
