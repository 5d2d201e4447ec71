"""Saving and restoring the fake Braze's world as JSON (``harness serve --state-dir``).

Partners, workspaces, Data Import Keys, profiles and cohorts with their full membership history and
counters. Rate-limit windows and in-flight locks are transient and not saved.
"""

from __future__ import annotations

from typing import Any

from .clusters import cluster_by_instance
from .cohorts import PartnerCohort
from .keys import DataImportKey
from .membership import Interval
from .users import Profile

FORMAT = 1


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
    """Replace the model's world with ``data`` (from ``dump_world``)."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError("not a saved fake Braze world (unknown format)")
    with model.lock:
        model.reset()
        model.partners._by_slug.clear()
        model.keys._keys.clear()
        model.workspaces.clear()
        for partner in data["partners"]:
            model.register_partner(partner["slug"], partner["keys"])
        for ws in data["workspaces"]:
            _load_workspace(model, ws)
        for key in data["keys"]:
            model.keys._keys[key["key"]] = DataImportKey(key["key"], key["workspace"], key["partner"], key["active"],
                                                         key["created_at"], key["invalidated_at"])
        model.keys._random.setstate(_rng_tuple(data["key_rng"]))
        model.default_workspace_id = data["default_workspace"]


def _dump_workspace(workspace) -> dict[str, Any]:
    users = workspace.users
    return {
        "id": workspace.id,
        "cluster": workspace.cluster.instance,
        "enabled": dict(workspace.enabled),
        "next_braze_id": users._next,
        "profiles": [p.to_json() for p in users.profiles(include_deleted=True)],
        "cohorts": [{
            "partner": c.partner, "cohort_id": c.cohort_id, "first_seen_at": c.first_seen_at,
            "declared_at": c.declared_at, "created_at": c.created_at, "created_at_epoch": c.created_at_epoch,
            "names": [[at, name] for at, name in c.names], "counters": dict(c.counters),
            "history": {bid: [[i.start, i.end] for i in intervals] for bid, intervals in c.membership.history.items()},
        } for c in workspace.cohorts.all()],
    }


def _load_workspace(model, data: dict[str, Any]) -> None:
    cluster = cluster_by_instance(data["cluster"])
    if cluster is None:
        raise ValueError(f"workspace {data.get('id')!r}: unknown Braze instance {data['cluster']!r}")
    workspace = model.create_workspace(data["id"], cluster.instance)
    workspace.enabled.update(data["enabled"])
    users = workspace.users
    for p in data["profiles"]:
        profile = Profile(p["braze_id"], p["created_at"], p["external_id"], p["identified_at"], p["deleted_at"],
                          aliases={(a["alias_name"], a["alias_label"]) for a in p["aliases"]},
                          device_ids=set(p["device_ids"]), attributes=dict(p["attributes"]))
        users._profiles[profile.braze_id] = profile
        if profile.deleted_at is None:
            if profile.external_id is not None:
                users._by_external[profile.external_id] = profile.braze_id
            for pair in profile.aliases:
                users._by_alias[pair] = profile.braze_id
            for device_id in profile.device_ids:
                users._by_device[device_id] = profile.braze_id
    users._next = data["next_braze_id"]
    users._version += 1
    for c in data["cohorts"]:
        cohort = PartnerCohort(c["partner"], c["cohort_id"], c["first_seen_at"], c["declared_at"], c["created_at"],
                               c["created_at_epoch"], [(at, name) for at, name in c["names"]])
        cohort.counters.update(c["counters"])
        for bid, intervals in c["history"].items():
            cohort.membership.history[bid] = [Interval(start, end) for start, end in intervals]
            if intervals and intervals[-1][1] is None:
                cohort.membership.current.add(bid)
        workspace.cohorts._cohorts[(cohort.partner, cohort.cohort_id)] = cohort


def _rng_state(state: tuple) -> list:
    version, internal, gauss = state
    return [version, list(internal), gauss]


def _rng_tuple(state: list) -> tuple:
    version, internal, gauss = state
    return (version, tuple(internal), gauss)
