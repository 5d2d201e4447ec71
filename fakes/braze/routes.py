"""Wire of the Braze partner cohort import: routes, body decoding, response encoding (§4.2-§4.4, §4.10).

Only the two documented endpoints exist on the Braze surface; everything else under any host is
404 / 405 with Braze's ``{"message": ...}`` body. Rules live in ``CohortImportModel``.
"""

from __future__ import annotations

import json
from typing import Any, cast

from flask import Blueprint, Response, request
from werkzeug.exceptions import HTTPException

from fakes.core.app import annotate, current_state, fire_faults
from fakes.core.body_limit import DECLARED_KEY

from .clusters import BY_INSTANCE, resolve_cluster, unknown_cluster_header
from .errors import BrazeError, MethodNotAllowed, NotFound, PayloadTooLarge
from .model import CHANGE_MEMBERSHIP, DECLARE, ImportOutcome, RequestContext
from .state import STAGE_BEFORE_AUTH, STAGE_BEFORE_VALIDATION, BrazeState


def braze_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    response = Response(json.dumps(body, separators=(",", ":")), status, content_type="application/json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def error_response(error: BrazeError) -> Response:
    return braze_response(error.status, error.body())


def http_error_response(exc: HTTPException) -> Response | None:
    """404 / 405 on the Braze surface (§4.2); other HTTP errors keep the core's rendering."""
    if exc.code == 404:
        return error_response(NotFound())
    if exc.code == 405:
        response = error_response(MethodNotAllowed())
        allowed = getattr(exc, "valid_methods", None)  # set by werkzeug's MethodNotAllowed
        if allowed:
            response.headers["Allow"] = ", ".join(allowed)
        return response
    return None


def decode_body(raw: bytes, mimetype: str, require_json_content_type: bool) -> Any:
    """§4.3: JSON whatever the Content-Type (unless configured); anything unparsable reads as {}."""
    if require_json_content_type and mimetype != "application/json":
        return {}
    if not raw.strip():
        return {}
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError):  # broken JSON, non-UTF-8 bytes, absurd nesting or numbers
        return {}


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def cohort_import_blueprint() -> Blueprint:
    bp = Blueprint("braze_cohort_import", __name__)

    # No automatic OPTIONS: every method but POST is 405 on the Braze surface (§4.2).
    @bp.post("/partners/<slug>/cohorts", provide_automatic_options=False)
    def declare(slug: str) -> Response:
        return _handle(DECLARE, slug)

    @bp.post("/partners/<slug>/cohorts/users", provide_automatic_options=False)
    def change_membership(slug: str) -> Response:
        return _handle(CHANGE_MEMBERSHIP, slug)

    return bp


def _handle(endpoint: str, slug: str) -> Response:
    model = cast(BrazeState, current_state()).model
    cfg = model.settings()
    cluster_header = request.headers.get(cfg.cluster_header)
    if unknown_cluster_header(request.host, cluster_header):
        # A harness header (§4.1): a typo would otherwise silently use the default cluster.
        annotate(endpoint=endpoint, partner=slug, error="unknown_cluster")
        return braze_response(400, {"message": f"{cfg.cluster_header}: unknown Braze cluster {cluster_header!r}; "
                                               f"known clusters: {', '.join(BY_INSTANCE)}"})
    cluster = resolve_cluster(request.host, cluster_header, cfg.default_cluster)
    annotate(endpoint=endpoint, partner=slug, cluster=cluster.instance)
    if model.partners.get(slug) is None:  # every registered partner's slug is routable, nothing else
        return error_response(NotFound())
    raw = request.get_data(cache=True)
    if len(raw) > cfg.max_body_bytes or DECLARED_KEY in request.environ:  # the latter: refused unread
        annotate(error=PayloadTooLarge.__name__)
        return error_response(PayloadTooLarge())
    fire_faults(stage=STAGE_BEFORE_AUTH, endpoint=endpoint, partner=slug, cluster=cluster.instance)
    body = decode_body(raw, request.mimetype, cfg.require_json_content_type)
    outcome = model.handle(endpoint, slug, body, host=request.host, cluster_header=cluster_header,
                           before_validation=_fire_step5_faults, cfg=cfg)
    annotate(**outcome.journal_fields())
    return braze_response(outcome.status, outcome.body, outcome.headers)


def _fire_step5_faults(ctx: RequestContext) -> ImportOutcome | None:
    """§4.4 step 5: shared-core fault rules, after auth, rate limit and the cohort lock."""
    annotate(workspace=ctx.workspace, cohort_id=ctx.cohort_id if isinstance(ctx.cohort_id, str) else None)
    fire_faults(stage=STAGE_BEFORE_VALIDATION, endpoint=ctx.endpoint, partner=ctx.partner,
                workspace=ctx.workspace, cluster=ctx.cluster,
                cohort_id=ctx.cohort_id if isinstance(ctx.cohort_id, str) else None)
    return None
