"""Saving and restoring the fake Braze's world (``harness serve --state-dir``).

Partners, workspaces, Data Import Keys, profiles and cohorts with their full membership history and
counters. Rate-limit windows and in-flight locks are transient and not saved.

``BrazeChanges`` gives the record parts of the durable log: ``meta`` (partners, keys and their generator,
workspaces, cohorts without their members: small, written whole when it changed), ``users`` (the profiles
changed, per workspace) and ``members`` (the membership history of each member whose history changed).
``dump_world`` / ``load_world`` read and write the single JSON snapshot of earlier versions. Every saved row is
checked when read back; a bad one is a ValueError naming it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from fakes.core.errors import ControlError

from .cohorts import PartnerCohort
from .keys import DataImportKey
from .membership import Interval
from .users import Profile

FORMAT = 1
_NUMBER = (int, float)


class BrazeChanges:
    def __init__(self, model) -> None:
        self.model = model
        self._meta_text: str | None = None
        self._rng_text: str | None = None

    def take(self) -> tuple[dict[str, Any], list[bytes]] | None:
        model = self.model
        head: dict[str, Any] = {}
        meta = _meta(model)
        rng = meta.pop("key_rng")  # 625 numbers that change only when a key is generated: written apart
        text = json.dumps(meta, separators=(",", ":"))
        if text != self._meta_text:
            head["meta"], self._meta_text = meta, text
        rng_text = json.dumps(rng, separators=(",", ":"))
        if rng_text != self._rng_text:
            head["key_rng"], self._rng_text = rng, rng_text
        users: dict[str, list[dict]] = {}
        members: list[list[Any]] = []
        for workspace in model.workspaces.values():
            store = workspace.users
            if store.dirty:
                users[workspace.id] = [store.get(bid).to_json() for bid in sorted(store.dirty)]
                store.dirty = set()
            for cohort in workspace.cohorts.all():
                membership = cohort.membership
                if membership.dirty:
                    histories = {bid: _intervals_json(membership.history.get(bid, [])) for bid in membership.dirty}
                    members.append([workspace.id, cohort.partner, cohort.cohort_id, histories])
                    membership.dirty = set()
        if users:
            head["users"] = users
        if members:
            head["members"] = members
        return (head, []) if head else None

    def capture(self) -> Iterator[tuple[dict[str, Any], list[bytes]]]:
        model = self.model
        head = {
            "meta": _meta(model),
            "users": {w.id: [p.to_json() for p in w.users.profiles(include_deleted=True)]
                      for w in model.workspaces.values()},
            "members": [[w.id, c.partner, c.cohort_id,
                         {bid: _intervals_json(iv) for bid, iv in c.membership.history.items()}]
                        for w in model.workspaces.values() for c in w.cohorts.all()],
        }
        return iter([(head, [])])

    def replay(self, head: Mapping[str, Any], blobs: bytes) -> None:
        unknown = set(head) - {"meta", "key_rng", "users", "members"}
        if unknown:
            raise ValueError(f"unknown data part(s) {', '.join(sorted(unknown))}")
        model = self.model
        if "meta" in head:
            _load_meta(model, head["meta"])
        if "key_rng" in head:
            _load_rng(model, head["key_rng"])
        users = head.get("users", {})
        if not isinstance(users, dict):
            raise ValueError("users: not an object")
        for ws_id, profiles in users.items():
            store = _workspace(model, ws_id, "users").users
            if not isinstance(profiles, list):
                raise ValueError(f"users[{ws_id!r}]: not a list")
            for index, item in enumerate(profiles):
                store.put_saved(_profile(item, f"users[{ws_id!r}][{index}]"))
            store.dirty = set()
        members = head.get("members", [])
        if not isinstance(members, list):
            raise ValueError("members: not a list")
        for index, item in enumerate(members):
            where = f"members[{index}]"
            if not isinstance(item, list) or len(item) != 4 or not isinstance(item[3], dict):
                raise ValueError(f"{where}: must be [workspace, partner, cohort_id, {{braze_id: intervals}}]")
            ws_id, partner, cohort_id, histories = item
            cohort = _workspace(model, ws_id, where).cohorts.get(partner, cohort_id) \
                if isinstance(partner, str) and isinstance(cohort_id, str) else None
            if cohort is None:
                raise ValueError(f"{where}: unknown cohort {cohort_id!r} of partner {partner!r}")
            _set_histories(cohort, histories, where)
        meta = _meta(model)
        self._rng_text = json.dumps(meta.pop("key_rng"), separators=(",", ":"))
        self._meta_text = json.dumps(meta, separators=(",", ":"))


# --- meta -------------------------------------------------------------------------------------------
def _meta(model) -> dict[str, Any]:
    return {
        "default_workspace": model.default_workspace_id,
        "partners": [p.to_json(mask=False) for p in model.partners.all()],
        "keys": [k.to_json(mask=False) for k in model.keys.all()],
        "key_rng": _rng_state(model.keys._random.getstate()),
        "workspaces": [{
            "id": w.id, "cluster": w.cluster.instance, "enabled": dict(w.enabled), "next_braze_id": w.users._next,
            "cohorts": [_cohort_meta(c) for c in w.cohorts.all()],
        } for w in model.workspaces.values()],
    }


def _cohort_meta(c: PartnerCohort) -> dict[str, Any]:
    return {"partner": c.partner, "cohort_id": c.cohort_id, "first_seen_at": c.first_seen_at,
            "declared_at": c.declared_at, "created_at": c.created_at, "created_at_epoch": c.created_at_epoch,
            "names": [[at, name] for at, name in c.names], "counters": dict(c.counters)}


def _load_meta(model, meta: Any) -> None:
    if not isinstance(meta, dict):
        raise ValueError("meta: not an object")
    for name, kind in (("partners", list), ("keys", list), ("workspaces", list), ("default_workspace", str)):
        if not isinstance(meta.get(name), kind):
            raise ValueError(f"meta.{name}: must be a {kind.__name__}")
    model.partners._by_slug.clear()
    for index, partner in enumerate(meta["partners"]):
        if not isinstance(partner, dict):
            raise ValueError(f"meta.partners[{index}]: not an object")
        try:
            model.register_partner(partner.get("slug"), partner.get("keys"))
        except ControlError as exc:
            raise ValueError(f"meta.partners[{index}]: {exc}") from None
    keep = set()
    for index, ws in enumerate(meta["workspaces"]):
        where = f"meta.workspaces[{index}]"
        if not isinstance(ws, dict) or not isinstance(ws.get("id"), str) or not isinstance(ws.get("cohorts"), list):
            raise ValueError(f"{where}: must be an object with an id and cohorts")
        workspace = model.workspaces.get(ws["id"])
        if workspace is None:
            try:
                workspace = model.create_workspace(ws["id"], ws.get("cluster"))
            except ControlError as exc:
                raise ValueError(f"{where}: {exc}") from None
        elif workspace.cluster.instance != ws.get("cluster"):
            raise ValueError(f"{where}: cluster {ws.get('cluster')!r} differs from the workspace's")
        enabled = ws.get("enabled")
        if not isinstance(enabled, dict) or not all(isinstance(v, bool) for v in enabled.values()):
            raise ValueError(f"{where}.enabled: must map partner slugs to true/false")
        if type(ws.get("next_braze_id")) is not int or ws["next_braze_id"] < 1:
            raise ValueError(f"{where}.next_braze_id: must be a positive integer")
        workspace.enabled.clear()
        workspace.enabled.update(enabled)
        workspace.users._next = ws["next_braze_id"]
        for c_index, item in enumerate(ws["cohorts"]):
            _load_cohort_meta(workspace, item, f"{where}.cohorts[{c_index}]")
        keep.add(ws["id"])
    for ws_id in [w for w in model.workspaces if w not in keep]:
        del model.workspaces[ws_id]
    keys = {}
    for index, item in enumerate(meta["keys"]):
        key = _key(item, f"meta.keys[{index}]")
        keys[key.secret] = key
    model.keys._keys.clear()
    model.keys._keys.update(keys)
    if "key_rng" in meta:
        _load_rng(model, meta["key_rng"])
    if meta["default_workspace"] not in model.workspaces:
        raise ValueError(f"meta.default_workspace: unknown workspace {meta['default_workspace']!r}")
    model.default_workspace_id = meta["default_workspace"]


def _load_rng(model, state: Any) -> None:
    try:
        model.keys._random.setstate(_rng_tuple(state))
    except (TypeError, ValueError):
        raise ValueError("key_rng: not a saved random generator state") from None


def _load_cohort_meta(workspace, item: Any, where: str) -> PartnerCohort:
    if not isinstance(item, dict):
        raise ValueError(f"{where}: not an object")
    for name, kinds, nullable in (("partner", str, False), ("cohort_id", str, False), ("first_seen_at", _NUMBER, False),
                                  ("declared_at", _NUMBER, True), ("created_at", str, True),
                                  ("created_at_epoch", _NUMBER, True)):
        value = item.get(name)
        if not (value is None and nullable) and (not isinstance(value, kinds) or isinstance(value, bool)):
            raise ValueError(f"{where}.{name}: wrong type ({type(value).__name__})")
    names, counters = item.get("names"), item.get("counters")
    if not isinstance(names, list) or not all(isinstance(n, list) and len(n) == 2 and isinstance(n[0], _NUMBER)
                                              and isinstance(n[1], str) for n in names):
        raise ValueError(f"{where}.names: must be [[at, name], ...]")
    if not isinstance(counters, dict) or not all(type(v) is int for v in counters.values()):
        raise ValueError(f"{where}.counters: must map names to integers")
    cohort = workspace.cohorts.get_or_create(item["partner"], item["cohort_id"], item["first_seen_at"])
    cohort.first_seen_at, cohort.declared_at = item["first_seen_at"], item["declared_at"]
    cohort.created_at, cohort.created_at_epoch = item["created_at"], item["created_at_epoch"]
    cohort.names = [(at, name) for at, name in names]
    cohort.counters.clear()
    cohort.counters.update(counters)
    return cohort


def _key(item: Any, where: str) -> DataImportKey:
    if not isinstance(item, dict):
        raise ValueError(f"{where}: not an object")
    ok = (isinstance(item.get("key"), str) and item["key"] and isinstance(item.get("workspace"), str)
          and isinstance(item.get("partner"), str) and isinstance(item.get("active"), bool)
          and _is_number(item.get("created_at"))
          and (item.get("invalidated_at") is None or _is_number(item["invalidated_at"])))
    if not ok:
        raise ValueError(f"{where}: must have key, workspace, partner (strings), active (true/false), "
                         "created_at and invalidated_at (numbers)")
    return DataImportKey(item["key"], item["workspace"], item["partner"], item["active"], item["created_at"],
                         item.get("invalidated_at"))


# --- rows ---------------------------------------------------------------------------------------------
def _workspace(model, ws_id: Any, where: str):
    workspace = model.workspaces.get(ws_id) if isinstance(ws_id, str) else None
    if workspace is None:
        raise ValueError(f"{where}: unknown workspace {ws_id!r}")
    return workspace


def _profile(p: Any, where: str) -> Profile:
    if not isinstance(p, dict):
        raise ValueError(f"{where}: not an object")
    if not isinstance(p.get("braze_id"), str) or not p["braze_id"]:
        raise ValueError(f"{where}.braze_id: must be a non-empty string")
    if not _is_number(p.get("created_at")):
        raise ValueError(f"{where}.created_at: must be a number")
    for name in ("identified_at", "deleted_at"):
        if p.get(name) is not None and not _is_number(p[name]):
            raise ValueError(f"{where}.{name}: must be a number or null")
    if p.get("external_id") is not None and not isinstance(p["external_id"], str):
        raise ValueError(f"{where}.external_id: must be a string or null")
    aliases, devices, attributes = p.get("aliases"), p.get("device_ids"), p.get("attributes")
    if not isinstance(aliases, list) or not all(isinstance(a, dict) and isinstance(a.get("alias_name"), str)
                                                and isinstance(a.get("alias_label"), str) for a in aliases):
        raise ValueError(f"{where}.aliases: must be [{{alias_name, alias_label}}, ...]")
    if not isinstance(devices, list) or not all(isinstance(d, str) for d in devices):
        raise ValueError(f"{where}.device_ids: must be a list of strings")
    if not isinstance(attributes, dict):
        raise ValueError(f"{where}.attributes: must be an object")
    return Profile(p["braze_id"], p["created_at"], p.get("external_id"), p.get("identified_at"), p.get("deleted_at"),
                   aliases={(a["alias_name"], a["alias_label"]) for a in aliases}, device_ids=set(devices),
                   attributes=dict(attributes))


def _intervals_json(intervals: list[Interval]) -> list[list[Any]]:
    return [[i.start, i.end] for i in intervals]


def _set_histories(cohort: PartnerCohort, histories: dict, where: str) -> None:
    membership = cohort.membership
    for bid, intervals in histories.items():
        at = f"{where}[{bid!r}]"
        if not isinstance(intervals, list) or not all(
                isinstance(i, list) and len(i) == 2 and _is_number(i[0]) and (i[1] is None or _is_number(i[1]))
                for i in intervals):
            raise ValueError(f"{at}: must be [[added_at, removed_at or null], ...]")
        if any(i[1] is None for i in intervals[:-1]):
            raise ValueError(f"{at}: only the last interval may be open")
        if intervals:
            membership.history[bid] = [Interval(start, end) for start, end in intervals]
        else:
            membership.history.pop(bid, None)
        if intervals and intervals[-1][1] is None:
            membership.current.add(bid)
        else:
            membership.current.discard(bid)
    membership.dirty = set()


def _is_number(value: Any) -> bool:
    return isinstance(value, _NUMBER) and not isinstance(value, bool)


# --- the JSON snapshot of earlier versions ---------------------------------------------------------------
def dump_world(model) -> dict[str, Any]:
    with model.lock:
        return {
            "format": FORMAT,
            "default_workspace": model.default_workspace_id,
            "partners": [p.to_json(mask=False) for p in model.partners.all()],
            "keys": [k.to_json(mask=False) for k in model.keys.all()],
            "key_rng": _rng_state(model.keys._random.getstate()),
            "workspaces": [_dump_workspace(w) for w in model.workspaces.values()],
        }


def load_world(model, data: dict[str, Any]) -> None:
    """Replace the model's world with ``data`` (from ``dump_world``), checking every row."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError("not a saved fake Braze world (unknown format)")
    workspaces = data.get("workspaces")
    if not isinstance(workspaces, list) or not all(isinstance(w, dict) for w in workspaces):
        raise ValueError("workspaces: must be a list of objects")
    meta = {k: data.get(k) for k in ("default_workspace", "partners", "keys", "key_rng")}
    meta["workspaces"] = [{k: w.get(k) for k in ("id", "cluster", "enabled", "next_braze_id", "cohorts")}
                          for w in workspaces]
    with model.lock:
        model.reset()
        _load_meta(model, meta)
        for w_index, ws in enumerate(workspaces):
            store = model.workspaces[ws["id"]].users
            profiles = ws.get("profiles")
            if not isinstance(profiles, list):
                raise ValueError(f"workspaces[{w_index}].profiles: not a list")
            for index, item in enumerate(profiles):
                store.put_saved(_profile(item, f"workspaces[{w_index}].profiles[{index}]"))
            for c_index, c in enumerate(ws["cohorts"]):
                history = c.get("history")
                if not isinstance(history, dict):
                    raise ValueError(f"workspaces[{w_index}].cohorts[{c_index}].history: not an object")
                cohort = model.workspaces[ws["id"]].cohorts.get(c["partner"], c["cohort_id"])
                _set_histories(cohort, history, f"workspaces[{w_index}].cohorts[{c_index}].history")


def _dump_workspace(workspace) -> dict[str, Any]:
    users = workspace.users
    return {
        "id": workspace.id,
        "cluster": workspace.cluster.instance,
        "enabled": dict(workspace.enabled),
        "next_braze_id": users._next,
        "profiles": [p.to_json() for p in users.profiles(include_deleted=True)],
        "cohorts": [{**_cohort_meta(c),
                     "history": {bid: _intervals_json(intervals) for bid, intervals in c.membership.history.items()},
                     } for c in workspace.cohorts.all()],
    }


def _rng_state(state: tuple) -> list:
    version, internal, gauss = state
    return [version, list(internal), gauss]


def _rng_tuple(state: Any) -> tuple:
    version, internal, gauss = state
    return (version, tuple(internal), gauss)
