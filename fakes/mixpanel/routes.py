"""Wire of the fake Mixpanel ingestion API: routes, request decoding into plain data, response encoding.

Every endpoint of the model's `ENDPOINTS` table is served at `/<name>` (mixpanel-ingestion.md §2.2): GET
and POST, with or without a trailing slash (never a redirect), under an optional region prefix `/us`,
`/eu`, `/in`; `/lookup-tables` has its own two routes (§9). Each view turns the Flask request into an
`IngestRequest`, fires faults after the body is read and before auth (§13), hands the request to the
`IngestionModel` and encodes its answer. Rules live in the model.

The raw export `GET /api/2.0/export` (Mixpanel's `data[-eu|-in].mixpanel.com`) has its own blueprint: the
model answers an error or the export's lines, which stream as a generator response (no Content-Length).
"""

from __future__ import annotations

from flask import Blueprint, Response, g, request
from werkzeug.exceptions import HTTPException

from fakes.core import FaultFired, annotate, fire_faults
from fakes.core.body_limit import DECLARED_KEY

from .answers import Answer
from .exporting import EXPORT, JSON_LINES
from .ingest import IngestRequest
from .model import ENDPOINTS, LOOKUP_TABLES, IngestionModel
from .regions import resolve_region

METHODS = ["GET", "POST"]
EXPORT_PATH = "/api/2.0/export"


def encode(answer: Answer) -> Response:
    response = Response(answer.body, answer.status, content_type=answer.content_type)
    for name, value in answer.headers.items():
        response.headers[name] = value
    return response


def http_error_response(exc: HTTPException) -> Response | None:
    """§2.2: other methods on these paths → 405 with an empty body; unknown paths → the core's 404."""
    if exc.code == 405:
        response = Response(b"", 405)
        valid_methods = getattr(exc, "valid_methods", None)  # set by werkzeug's MethodNotAllowed
        if valid_methods:
            response.headers["Allow"] = ", ".join(valid_methods)
        return response
    return None


def _ingest_request(endpoint: str, region: str) -> IngestRequest:
    entry = g.get("harness_entry")
    return IngestRequest(
        endpoint=endpoint,
        method=request.method,
        query=request.args.to_dict(),  # the first value of each name
        headers={name.lower(): value for name, value in request.headers.items()},
        body=request.get_data(),
        remote_addr=request.remote_addr or "",
        region=region,
        secure=request.scheme == "https",
        host=request.host,
        request_id=str(entry["id"]) if entry else "",
        declared_bytes=request.environ.get(DECLARED_KEY),
    )


def ingestion_blueprint(model: IngestionModel) -> Blueprint:
    """The ingestion endpoints and `/lookup-tables` of one fake, answered by `model`."""
    bp = Blueprint("mixpanel_ingest", __name__)

    def region_of(prefix: str | None) -> str:
        return resolve_region(prefix, request.environ.get("SERVER_PORT"), request.host, model.settings.regions_ports)

    def claimed_project(req: IngestRequest) -> int | None:
        return model.claimed_project(req.query.get("project_id", ""), request.headers.get("Authorization"),
                                     request.path)

    def ingest(endpoint: str, prefix: str | None) -> Response:
        region = region_of(prefix)
        max_uri = model.settings.http_max_uri_bytes
        if max_uri is not None and len(request.full_path.encode("utf-8", "surrogateescape")) > max_uri:
            annotate(region=region, deviations=["http.max_uri_bytes: URI too long"])
            return Response(b"", 414)
        req = _ingest_request(endpoint, region)
        try:
            decision = fire_faults(project_id=claimed_project(req), region=region, endpoint=endpoint)
        except FaultFired:
            model.record_fault(endpoint, request.headers.get("User-Agent", ""))
            raise
        outcome = model.handle(req, faulted=decision is not None)
        fields = outcome.journal_fields()
        fields["region"] = region
        if decision is not None:
            fields["fault_ingested"] = decision.ingest
        annotate(**fields)
        return encode(outcome.answer)

    def register(endpoint: str) -> None:
        def view(region: str | None = None) -> Response:
            return ingest(endpoint, region)

        view.__name__ = f"ingest_{endpoint}"
        bp.add_url_rule(f"/{endpoint}", view_func=view, methods=METHODS, strict_slashes=False)
        bp.add_url_rule(f"/<any(us,eu,in):region>/{endpoint}", view_func=view, methods=METHODS,
                        strict_slashes=False)

    for endpoint in ENDPOINTS:
        register(endpoint)

    def lookup(table_id: str | None) -> Response:
        region = region_of(None)
        req = _ingest_request(LOOKUP_TABLES, region)
        fire_faults(project_id=claimed_project(req), region=region, endpoint=LOOKUP_TABLES)
        outcome = model.lookup(req, table_id)
        annotate(region=region, **outcome.journal_fields())
        return encode(outcome.answer)

    @bp.route(f"/{LOOKUP_TABLES}", methods=["GET"], strict_slashes=False)
    def lookup_tables_list() -> Response:
        return lookup(None)

    @bp.route(f"/{LOOKUP_TABLES}/<table_id>", methods=["PUT"], strict_slashes=False)
    def lookup_tables_replace(table_id: str) -> Response:
        return lookup(table_id)

    return bp


def export_blueprint(model: IngestionModel) -> Blueprint:
    """`GET /api/2.0/export` of one fake (trailing slash or not; other methods: the empty 405)."""
    bp = Blueprint("mixpanel_export", __name__)

    @bp.route(EXPORT_PATH, methods=["GET"], strict_slashes=False)
    def raw_export() -> Response:
        region = resolve_region(None, request.environ.get("SERVER_PORT"), request.host, model.settings.regions_ports)
        req = _ingest_request(EXPORT, region)
        req.path = request.full_path.rstrip("?")  # named in the export's error bodies (only here: not on /import)
        claimed = model.claimed_project(req.query.get("project_id", ""), request.headers.get("Authorization"),
                                        request.path)
        fire_faults(project_id=claimed, region=region, endpoint=EXPORT)
        outcome = model.export(req)
        annotate(region=region, **outcome.journal_fields())
        if outcome.lines is None:
            assert outcome.answer is not None, "an export outcome has lines or an answer"
            return encode(outcome.answer)
        response = Response(outcome.lines, 200, content_type=JSON_LINES)
        if outcome.content_encoding:
            response.headers["Content-Encoding"] = outcome.content_encoding
        return response

    return bp
