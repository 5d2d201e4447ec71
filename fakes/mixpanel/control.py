"""Mixpanel-specific control routes under `/_harness` (DESIGN.md §4, mixpanel-ingestion.md §10, §14):
events (dedup/raw/quarantine views, and the records that failed validation with good/bad counts),
profiles, group profiles, projects, lookup tables and stats.

Every route is a thin call into `IngestionModel`; bad input is a `ControlError` (400/404).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from fakes.core import ConfigError, ControlError, current_state, json_body, ok

from .model import ENDPOINTS, IngestionModel
from .profiles import Profile
from .storage import VIEWS


def _int_arg(name: str) -> int | None:
    value = request.args.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise ControlError(f"{name} must be an integer") from None


def _profile_view(found: Profile) -> Response:
    """The profile's properties (`meta=1`: with created_at, last_seen, updates)."""
    return ok(found.describe() if request.args.get("meta") == "1" else found.properties)


FAILED_VIEW = "failed"
_FAILED_ARGS = ("view", "endpoint", "project_id", "limit")


def _only_args(route: str, allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(request.args) - set(allowed))
    if unknown:
        known = ", ".join(allowed) if allowed else "none"
        raise ControlError(f"unknown parameter(s) {', '.join(unknown)} for {route}; known: {known}")


def _failed_records(model: IngestionModel) -> Response:
    """`view=failed`: `{"count", "counts": {"good", "bad", "total"}, "events": [...]}`, oldest first; each
    item holds the record as sent (masked as the journal masks), its endpoint, Mixpanel's message and field.
    Filters `endpoint`, `project_id`; `limit` keeps the newest N. The counts follow the `endpoint` filter."""
    _only_args("view=failed", _FAILED_ARGS)
    endpoint = request.args.get("endpoint") or None
    if endpoint is not None and endpoint not in ENDPOINTS:
        raise ControlError(f"endpoint must be one of {', '.join(ENDPOINTS)}")
    limit = request.args.get("limit")
    if limit is not None and not limit.isdigit():
        raise ControlError("limit must be a non-negative integer")
    rows = model.failed_records(endpoint=endpoint, project_id=_int_arg("project_id"))
    if limit is not None:
        rows = rows[-int(limit):] if int(limit) else []
    state = current_state()
    masker, depth = state.masker, state.config["journal.max_depth"] + 1
    values = masker.current_values()
    items = [masker.mask_value(row.describe(), None, values, max_depth=depth) for row in rows]
    return ok({"count": len(items), "counts": model.validation_counts(endpoint), "events": items})


def mixpanel_control_blueprint(model: IngestionModel) -> Blueprint:
    bp = Blueprint("mixpanel_control", __name__, url_prefix="/_harness")

    @bp.get("/events")
    def events() -> Response:
        """`{"count": N, "events": [{"event", "properties"}]}`; `meta=1` adds each row's metadata.
        `view=failed`: the records that failed validation, with the good / bad / total counts."""
        view = request.args.get("view", "dedup")
        if view == FAILED_VIEW:
            return _failed_records(model)
        if view not in VIEWS:
            raise ControlError(f"view must be one of {', '.join((*VIEWS, FAILED_VIEW))}")
        rows = model.events(
            view,
            event=request.args.get("event"),
            distinct_id=request.args.get("distinct_id"),
            project_id=_int_arg("project_id"),
            endpoint=request.args.get("endpoint"),
            since_ms=_int_arg("since_ms"),
        )
        with_meta = request.args.get("meta") == "1"
        out = []
        for row in rows:
            item = row.public(view)
            if with_meta:
                item["meta"] = row.metadata()
            out.append(item)
        return ok({"count": len(out), "events": out})

    @bp.get("/events/counts")
    def event_counts() -> Response:
        """Records validated so far: `{"good", "bad", "total", "by_endpoint": {endpoint: {...}}}`."""
        _only_args("events/counts", ())
        return ok(model.validation_counts())

    @bp.get("/profiles")
    def profiles() -> Response:
        """Every user profile in one answer (a reader of thousands of profiles makes one request, not one
        each): `{"count": N, "profiles": [{"distinct_id", "properties"}]}`; `meta=1` adds created_at,
        last_seen, updates and metadata."""
        meta = request.args.get("meta") == "1"
        rows = []
        for distinct_id, found in model.user_profiles(_int_arg("project_id")).items():
            rows.append({"distinct_id": distinct_id, **(found.describe() if meta else
                                                        {"properties": found.properties})})
        return ok({"count": len(rows), "profiles": rows})

    @bp.get("/profiles/<path:distinct_id>")
    def profile(distinct_id: str) -> Response:
        """The profile's properties, 404 if none."""
        found = model.profile(distinct_id, _int_arg("project_id"))
        if found is None:
            raise ControlError(f"no profile with distinct_id {distinct_id!r}", 404)
        return _profile_view(found)

    @bp.get("/groups/<group_key>/<path:group_id>")
    def group(group_key: str, group_id: str) -> Response:
        """A group profile's properties (`meta=1`: with its metadata), 404 if none."""
        found = model.profile((group_key, group_id), _int_arg("project_id"), group=True)
        if found is None:
            raise ControlError(f"no group profile {group_key}/{group_id}", 404)
        return _profile_view(found)

    @bp.get("/projects")
    def projects() -> Response:
        """The project registry (§1)."""
        return ok({"projects": model.projects()})

    @bp.put("/projects")
    def put_projects() -> Response:
        """Replace the registry: `{"projects": [...]}` or a bare list."""
        body = json_body()
        entries = body.get("projects") if isinstance(body, dict) else body
        try:
            current_state().update_config({"projects": entries})
        except ConfigError as exc:
            raise ControlError(str(exc)) from None
        return ok({"projects": model.projects()})

    @bp.post("/lookup-tables")
    def create_lookup_table() -> Response:
        """§9 extension: `{"name": ..., "project_id": 1, "id": optional}` → the new table (201)."""
        body: Any = json_body()
        if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not body["name"]:
            raise ControlError('give {"name": "...", "project_id": N} (and optionally "id")')
        pid = body.get("project_id", model.registry.projects[0].project_id)
        if isinstance(pid, bool) or not isinstance(pid, int):
            raise ControlError("project_id must be an integer")
        table_id = body.get("id")
        if table_id is not None and (not isinstance(table_id, str) or not table_id):
            raise ControlError("id must be a non-empty string")
        return ok(model.create_lookup_table(body["name"], pid, body.get("id")).describe(), 201)

    @bp.get("/lookup-tables")
    def list_lookup_tables() -> Response:
        """Every lookup table (§9)."""
        return ok({"lookup_tables": [t.describe() for t in model.lookup_tables.tables()]})

    @bp.get("/lookup-tables/<table_id>")
    def get_lookup_table(table_id: str) -> Response:
        """One lookup table with its rows, 404 if none."""
        table = model.lookup_tables.get(table_id)
        if table is None:
            raise ControlError(f"no lookup table {table_id!r}", 404)
        return ok(table.describe())

    @bp.get("/stats")
    def stats() -> Response:
        """Ingestion counters per endpoint, project, User-Agent and dialect, and the store sizes (§14)."""
        return ok(model.stats_report())

    return bp
