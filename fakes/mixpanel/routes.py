"""The wire: Flask routes for `/import`, `/track`, `/engage`, `/groups` (mixpanel-ingestion.md §2.2):
GET and POST, with or without a trailing slash (never a redirect), under an optional region prefix
`/us`, `/eu`, `/in`. Each handler turns the Flask request into an `IngestRequest`, fires faults after the
body is read and before auth (§13), and encodes the model's `Answer`."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, request
from werkzeug.exceptions import HTTPException

from fakes.core import FaultFired, annotate, current_state, fire_faults

from .answers import Answer
from .auth import parse_authorization
from .ingest import IngestRequest
from .lookup_requests import handle_lookup_tables
from .regions import resolve_region
from .state import MixpanelState

INGEST_ENDPOINTS = ("import", "track", "engage", "groups")
METHODS = ["GET", "POST"]
PAYLOAD_PREVIEW = 10  # decoded records kept in the journal entry

bp = Blueprint("mixpanel_ingest", __name__)


def _claimed_project(state: MixpanelState, query: dict[str, str]) -> int | None:
    """The project a request names before auth (for fault `match.project_id`), without decoding the body."""
    pid = query.get("project_id", "")
    if pid.isdigit():
        return int(pid)
    credential = parse_authorization(request.headers.get("Authorization"))
    if credential.scheme == "basic" and not credential.password:
        project = state.registry.by_secret.get(credential.user) or state.registry.by_token.get(credential.user)
        if project is not None:
            return project.project_id
    if len(state.registry.projects) == 1 and request.path.rstrip("/").endswith(("/track", "/engage", "/groups")):
        return state.registry.projects[0].project_id
    return None


def _encode(answer: Answer) -> Response:
    response = Response(answer.body, answer.status, content_type=answer.content_type)
    for name, value in answer.headers.items():
        response.headers[name] = value
    return response


def _handle(endpoint: str, region_prefix: str | None) -> Response:
    state: MixpanelState = current_state()
    query = request.args.to_dict()  # the first value of each name
    region = resolve_region(region_prefix, request.environ.get("SERVER_PORT"), request.host,
                            state.cfg["regions.ports"])
    entry = g.get("harness_entry")
    max_uri = state.cfg["http.max_uri_bytes"]
    if max_uri is not None and len(request.full_path.encode("utf-8", "surrogateescape")) > max_uri:
        annotate(region=region, deviations=["http.max_uri_bytes: URI too long"])
        return Response(b"", 414)
    try:
        decision = fire_faults(project_id=_claimed_project(state, query), region=region, endpoint=endpoint)
    except FaultFired:
        state.stats.record(endpoint=endpoint, project_id=None, user_agent=request.headers.get("User-Agent", ""),
                           dialect="unknown", status=0, fault=True)
        raise
    req = IngestRequest(
        endpoint=endpoint,
        method=request.method,
        query=query,
        headers={name.lower(): value for name, value in request.headers.items()},
        body=request.get_data(),
        remote_addr=request.remote_addr or "",
        region=region,
        secure=request.scheme == "https",
        host=request.host,
        request_id=str(entry["id"]) if entry else "",
    )
    with state.lock:
        answer = state.handle(req)
    notes: dict[str, Any] = dict(answer.notes)
    notes["region"] = region
    if decision is not None:
        notes["fault_ingested"] = decision.ingest
        state.stats.record(endpoint=endpoint, project_id=None, user_agent=req.user_agent, dialect="fault",
                           status=0, fault=True)
    annotate(**notes)
    return _encode(answer)


def _register(endpoint: str) -> None:
    def view(region: str | None = None) -> Response:
        return _handle(endpoint, region)

    view.__name__ = f"ingest_{endpoint}"
    bp.add_url_rule(f"/{endpoint}", view_func=view, methods=METHODS, strict_slashes=False)
    bp.add_url_rule(f"/<any(us,eu,in):region>/{endpoint}", view_func=view, methods=METHODS, strict_slashes=False)


for _endpoint in INGEST_ENDPOINTS:
    _register(_endpoint)


def _lookup(table_id: str | None) -> Response:
    state: MixpanelState = current_state()
    query = request.args.to_dict()
    region = resolve_region(None, request.environ.get("SERVER_PORT"), request.host, state.cfg["regions.ports"])
    fire_faults(project_id=_claimed_project(state, query), region=region, endpoint="lookup-tables")
    entry = g.get("harness_entry")
    req = IngestRequest(endpoint="lookup-tables", method=request.method, query=query,
                        headers={name.lower(): value for name, value in request.headers.items()},
                        body=request.get_data(), remote_addr=request.remote_addr or "", region=region,
                        secure=request.scheme == "https", host=request.host,
                        request_id=str(entry["id"]) if entry else "")
    with state.lock:
        answer = handle_lookup_tables(state, req, table_id)
    annotate(region=region, **answer.notes)
    return _encode(answer)


@bp.route("/lookup-tables", methods=["GET"], strict_slashes=False)
def lookup_tables_list() -> Response:
    return _lookup(None)


@bp.route("/lookup-tables/<table_id>", methods=["PUT"], strict_slashes=False)
def lookup_tables_replace(table_id: str) -> Response:
    return _lookup(table_id)


def http_errors(exc: HTTPException) -> Response | None:
    """§2.2: other methods on these paths → 405 with an empty body; unknown paths → the core's 404."""
    if exc.code == 405:
        response = Response(b"", 405)
        if getattr(exc, "valid_methods", None):
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response
    return None
