"""Braze-specific control routes under ``/_harness`` (DESIGN.md §4, braze-cohort-sync.md §9).

Short forms act on the default workspace; ``/_harness/braze/...`` is the workspace-scoped surface.
Every route is a thin call into ``CohortImportModel``; bad input is a ``ControlError`` (400/404/409).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, cast

from flask import Blueprint, Response, request

from fakes.core.app import current_state
from fakes.core.control import CONTROL_PREFIX, json_body, ok

from .errors import ControlError
from .model import CohortImportModel
from .state import BrazeState
from .validation import parse_iso8601


def _model() -> CohortImportModel:
    # The Braze app is only ever built over a BrazeState (app.create_app).
    return cast(BrazeState, current_state()).model


def parse_at(value: Any, what: str = "at") -> float | None:
    """A simulated time given as epoch seconds (number or numeric string) or ISO-8601 text."""
    if value is None or value == "":
        return None
    parsed: float | None = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        parsed = float(value)
    elif isinstance(value, str):
        try:
            parsed = float(value)
        except ValueError:
            parsed = parse_iso8601(value)
    if parsed is not None and math.isfinite(parsed):
        return parsed
    raise ControlError(f"{what} must be epoch seconds or an ISO-8601 date-time, got {value!r}")


def _flag(name: str, default: bool) -> bool:
    value = request.args.get(name)
    if value is None:
        return default
    if value.lower() in ("1", "true", "yes"):
        return True
    if value.lower() in ("0", "false", "no"):
        return False
    raise ControlError(f"{name} must be true or false")


def _text(body: dict, key: str, *, required: bool = False) -> str | None:
    """`body[key]` as a non-empty string (None when absent and not required), else a 400 naming the key."""
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise ControlError(f"{key} must be a non-empty string")
    return value


def _object_body(required: bool = True) -> dict:
    body = json_body(required=required, default={})
    if not isinstance(body, dict):
        raise ControlError("the body must be a JSON object")
    return body


def _users_from(body: Any) -> list:
    if isinstance(body, dict) and "users" in body:
        return body["users"]
    return body if isinstance(body, list) else [body]


# --- shared handlers (short and workspace-scoped forms) ----------------------------------------------
def _seed_users(ws: str | None) -> Response:
    """Seed users: `{"users": [{"external_id", "aliases", "device_ids"}]}` (no external_id: anonymous)."""
    model = _model()
    body = json_body()
    with model.lock:
        profiles = model.users(ws).add_many(_users_from(body))
        return ok({"users": [p.to_json() for p in profiles]}, 201)


def _list_cohorts(ws: str | None) -> Response:
    """The cohorts with their member counts (`?at=` a simulated time, `partner`, `held`)."""
    model = _model()
    rows = model.list_cohorts(ws, partner=request.args.get("partner") or None,
                              at=parse_at(request.args.get("at")), include_held=_flag("held", True))
    return ok({"cohorts": rows})


def _members(ws: str | None, cohort_id: str) -> Response:
    """A cohort's members (`?at=` a simulated time)."""
    model = _model()
    rows = model.members(cohort_id, ws, partner=request.args.get("partner") or None,
                         at=parse_at(request.args.get("at")))
    return ok({"cohort_id": cohort_id, "count": len(rows), "members": rows})


def _evaluate(ws: str | None) -> Response:
    """Evaluate a segment filter: `{"filter": {"mixpanel_cohorts": {"includes": "<id>"}}}`."""
    body = _object_body()
    if "filter" not in body:
        raise ControlError("the body needs a filter, e.g. {\"filter\": {\"mixpanel_cohorts\": {\"includes\": \"1\"}}}")
    return ok(_model().evaluate_segment(body["filter"], ws, at=parse_at(body.get("at"))))


def _generate_key(ws: str | None) -> Response:
    """Generate a data import key (`{"key": ...}` to choose it)."""
    body = _object_body(required=False)
    model = _model()
    secret = _text(body, "key")
    workspace = _text(body, "workspace") or ws
    partner = _text(body, "partner")
    with model.lock:
        secret = model.generate_key(workspace, partner, secret=secret)
        key = model.keys.get(secret)
        assert key is not None  # generate_key has just added it, under the same lock
        return ok(key.to_json(mask=False), 201)


def _invalidate_key(secret: str) -> Response:
    """Invalidate a data import key."""
    return ok(_model().invalidate_key(secret).to_json(mask=False))


def _default_workspace(handler: Callable[..., Response]) -> Callable[..., Response]:
    """The short form of a workspace-scoped handler, on the default workspace (its doc for GET /_harness)."""
    def view(**kwargs: Any) -> Response:
        return handler(None, **kwargs)
    view.__doc__ = handler.__doc__
    return view


def braze_control_blueprint() -> Blueprint:
    bp = Blueprint("braze_control", __name__, url_prefix=CONTROL_PREFIX)

    # DESIGN.md §4 short forms (default workspace).
    bp.add_url_rule("/users", "seed_users", _default_workspace(_seed_users), methods=["POST"])
    bp.add_url_rule("/cohorts", "cohorts", _default_workspace(_list_cohorts), methods=["GET"])
    bp.add_url_rule("/cohorts/<cohort_id>/members", "members", _default_workspace(_members), methods=["GET"])
    bp.add_url_rule("/segments/evaluate", "evaluate", _default_workspace(_evaluate), methods=["POST"])
    bp.add_url_rule("/keys", "generate_key", _default_workspace(_generate_key), methods=["POST"])
    bp.add_url_rule("/keys/<secret>", "invalidate_key", _invalidate_key, methods=["DELETE"])

    # §9 workspace-scoped surface.
    @bp.get("/braze/partners")
    def partners() -> Response:
        """The registered partners and their keys."""
        return ok({"partners": [p.to_json() for p in _model().partners.all()]})

    @bp.post("/braze/partners")
    def register_partner() -> Response:
        """Register a partner: `{"slug", "keys"}`."""
        body = _object_body()
        partner = _model().register_partner(body.get("slug"), body.get("keys"))
        return ok(partner.to_json(), 201)

    @bp.get("/braze/workspaces")
    def workspaces() -> Response:
        """The workspaces and the default one."""
        model = _model()
        with model.lock:
            return ok({"workspaces": [w.to_json() for w in model.workspaces.values()],
                       "default": model.default_workspace_id})

    @bp.post("/braze/workspaces")
    def create_workspace() -> Response:
        """Create a workspace: `{"id", "cluster"}`."""
        body = _object_body()
        workspace = _model().create_workspace(body.get("id", body.get("workspace")), body.get("cluster", "US-01"))
        return ok(workspace.to_json(), 201)

    @bp.get("/braze/workspaces/<ws>")
    def workspace(ws: str) -> Response:
        """One workspace."""
        return ok(_model().workspace(ws).to_json())

    @bp.get("/braze/workspaces/<ws>/keys")
    def keys(ws: str) -> Response:
        """The data import keys of a workspace."""
        model = _model()
        with model.lock:
            model.workspace(ws)
            return ok({"keys": [k.to_json() for k in model.keys.all() if k.workspace == ws]})

    bp.add_url_rule("/braze/workspaces/<ws>/keys", "ws_generate_key", _generate_key, methods=["POST"])

    @bp.delete("/braze/workspaces/<ws>/keys/<secret>")
    def ws_invalidate_key(ws: str, secret: str) -> Response:
        """Invalidate a data import key of a workspace."""
        model = _model()
        with model.lock:
            key = model.keys.get(secret)
            if key is None or key.workspace != model.workspace(ws).id:
                raise ControlError("unknown data import key", status=404)
            return _invalidate_key(secret)

    @bp.put("/braze/workspaces/<ws>/partners/<slug>")
    def set_partner_enabled(ws: str, slug: str) -> Response:
        """Enable or disable a partner in a workspace: `{"enabled": true}`."""
        body = _object_body()
        _model().set_partner_enabled(ws, slug, body.get("enabled"))
        return ok({"workspace": ws, "partner": slug, "enabled": body["enabled"]})

    @bp.get("/braze/workspaces/<ws>/users")
    def users(ws: str) -> Response:
        """The users of a workspace (`?deleted=1` includes deleted ones)."""
        model = _model()
        with model.lock:
            profiles = model.users(ws).profiles(include_deleted=_flag("deleted", False))
            return ok({"count": len(profiles), "users": [p.to_json() for p in profiles]})

    bp.add_url_rule("/braze/workspaces/<ws>/users", "ws_seed_users", _seed_users, methods=["POST"])

    @bp.post("/braze/workspaces/<ws>/users/<braze_id>/identify")
    def identify(ws: str, braze_id: str) -> Response:
        """Identify an anonymous user: `{"external_id", "at"}`."""
        body = _object_body()
        profile = _model().users(ws).identify(body.get("external_id"), braze_id=braze_id,
                                               at=parse_at(body.get("at")))
        return ok(profile.to_json())

    @bp.post("/braze/workspaces/<ws>/users/<braze_id>/aliases")
    def add_alias(ws: str, braze_id: str) -> Response:
        """Add a user alias: `{"alias_name", "alias_label"}`."""
        body = _object_body()
        return ok(_model().users(ws).add_alias(braze_id, body.get("alias_name"), body.get("alias_label")).to_json())

    @bp.post("/braze/workspaces/<ws>/users/<braze_id>/devices")
    def add_device(ws: str, braze_id: str) -> Response:
        """Add a device: `{"device_id"}`."""
        body = _object_body()
        return ok(_model().users(ws).add_device(braze_id, body.get("device_id")).to_json())

    @bp.delete("/braze/workspaces/<ws>/users/<braze_id>")
    def delete_user(ws: str, braze_id: str) -> Response:
        """Delete a user (`{"at"}` optional)."""
        body = _object_body(required=False)
        return ok(_model().users(ws).delete(braze_id, at=parse_at(body.get("at"))).to_json())

    bp.add_url_rule("/braze/workspaces/<ws>/cohorts", "ws_cohorts", _list_cohorts, methods=["GET"])
    bp.add_url_rule("/braze/workspaces/<ws>/cohorts/<cohort_id>/members", "ws_members", _members, methods=["GET"])
    bp.add_url_rule("/braze/workspaces/<ws>/segments/evaluate", "ws_evaluate", _evaluate, methods=["POST"])

    @bp.get("/braze/workspaces/<ws>/filters/<name>/options")
    def filter_options(ws: str, name: str) -> Response:
        """The options a `<partner>_cohorts` segment filter offers (`?at=`)."""
        if not name.endswith("_cohorts"):
            raise ControlError(f"unknown filter {name!r}; cohort filters are named <partner>_cohorts", 404)
        slug = name[: -len("_cohorts")]
        model = _model()
        model.partners.require(slug)
        return ok({"filter": name, "options": model.filter_options(ws, slug, at=parse_at(request.args.get("at")))})

    return bp
