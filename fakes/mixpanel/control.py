"""Control API extensions of the fake Mixpanel (DESIGN.md §4, mixpanel-ingestion.md §10, §14):
events (dedup/raw/quarantine views), profiles, group profiles, projects and stats."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from fakes.core import ConfigError, ControlError, current_state, json_body, ok

from .profiles import ProfileStore
from .state import MixpanelState
from .storage import VIEWS

bp = Blueprint("mixpanel_control", __name__, url_prefix="/_harness")


def _int_arg(name: str) -> int | None:
    value = request.args.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise ControlError(f"{name} must be an integer") from None


@bp.get("/events")
def events() -> Response:
    """`{"count": N, "events": [{"event", "properties"}]}`; `meta=1` adds each row's metadata."""
    state: MixpanelState = current_state()
    view = request.args.get("view", "dedup")
    if view not in VIEWS:
        raise ControlError(f"view must be one of {', '.join(VIEWS)}")
    rows = state.store.query(
        view,
        event=request.args.get("event"),
        distinct_id=request.args.get("distinct_id"),
        project_id=_int_arg("project_id"),
        endpoint=request.args.get("endpoint"),
        since_ms=_int_arg("since_ms"),
        compaction=state.cfg["dedup.mode"] == "compaction",
    )
    with_meta = request.args.get("meta") == "1"
    out = []
    for row in rows:
        item = row.public(view)
        if with_meta:
            item["meta"] = row.metadata()
        out.append(item)
    return ok({"count": len(out), "events": out})


def _find(store: ProfileStore, state: MixpanelState, identity: Any) -> Any:
    """A profile by identity: in `project_id` if given, else in the first project that has it."""
    pid = _int_arg("project_id")
    candidates = [pid] if pid is not None else [p.project_id for p in state.registry.projects]
    for candidate in candidates:
        profile = store.get((candidate, identity))
        if profile is not None:
            return profile
    return None


@bp.get("/profiles/<path:distinct_id>")
def profile(distinct_id: str) -> Response:
    """The profile's properties, 404 if none (`meta=1`: with created_at, last_seen, updates)."""
    state: MixpanelState = current_state()
    found = _find(state.profiles, state, distinct_id)
    if found is None:
        raise ControlError(f"no profile with distinct_id {distinct_id!r}", 404)
    return ok(found.describe() if request.args.get("meta") == "1" else found.properties)


@bp.get("/groups/<group_key>/<path:group_id>")
def group(group_key: str, group_id: str) -> Response:
    state: MixpanelState = current_state()
    found = _find(state.group_profiles, state, (group_key, group_id))
    if found is None:
        raise ControlError(f"no group profile {group_key}/{group_id}", 404)
    return ok(found.describe() if request.args.get("meta") == "1" else found.properties)


@bp.get("/projects")
def projects() -> Response:
    state: MixpanelState = current_state()
    return ok({"projects": state.registry.describe()})


@bp.put("/projects")
def put_projects() -> Response:
    """Replace the registry: `{"projects": [...]}` or a bare list."""
    state: MixpanelState = current_state()
    body = json_body()
    entries = body.get("projects") if isinstance(body, dict) else body
    try:
        state.update_config({"projects": entries})
    except ConfigError as exc:
        raise ControlError(str(exc)) from None
    return ok({"projects": state.registry.describe()})


@bp.post("/lookup-tables")
def create_lookup_table() -> Response:
    """§9 extension: `{"name": ..., "project_id": 1, "id": optional}` → the new table (201)."""
    state: MixpanelState = current_state()
    body = json_body()
    if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not body["name"]:
        raise ControlError('give {"name": "...", "project_id": N} (and optionally "id")')
    pid = body.get("project_id", state.registry.projects[0].project_id)
    if pid not in state.registry.by_id:
        raise ControlError(f"unknown project_id {pid!r}")
    table_id = body.get("id")
    if table_id is not None and (not isinstance(table_id, str) or not table_id or "/" in table_id):
        raise ControlError("id must be a non-empty string without '/'")
    return ok(state.lookup_tables.create(pid, body["name"], table_id).describe(), 201)


@bp.get("/lookup-tables")
def list_lookup_tables() -> Response:
    state: MixpanelState = current_state()
    return ok({"lookup_tables": [t.describe() for t in state.lookup_tables.list()]})


@bp.get("/lookup-tables/<table_id>")
def get_lookup_table(table_id: str) -> Response:
    state: MixpanelState = current_state()
    table = state.lookup_tables.get(table_id)
    if table is None:
        raise ControlError(f"no lookup table {table_id!r}", 404)
    return ok(table.describe())


@bp.get("/stats")
def stats() -> Response:
    state: MixpanelState = current_state()
    report = state.stats.report()
    report["store"] = state.store.counts()
    report["profiles"] = len(state.profiles)
    report["group_profiles"] = len(state.group_profiles)
    return ok(report)
