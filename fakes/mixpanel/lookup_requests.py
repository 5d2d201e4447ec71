"""`GET /lookup-tables` and `PUT /lookup-tables/{id}` (mixpanel-ingestion.md §9): auth, limits and the
documented bodies."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from . import answers
from .answers import Answer
from .auth import ImportAuthenticator, parse_authorization
from .decoding import read_body
from .errors import (
    LOOKUP_VALIDATION_FAILED,
    InvalidCredentials,
    LookupTableNotFound,
    PayloadTooLarge,
    RateLimitExceeded,
)
from .ingest import IngestRequest
from .lookup_tables import MAX_BODY_BYTES, validate_csv

if TYPE_CHECKING:
    from .state import MixpanelState


def handle_lookup_tables(state: MixpanelState, req: IngestRequest, table_id: str | None) -> Answer:
    cfg = state.cfg
    raw = read_body(io.BytesIO(req.body), req.header("content-encoding"), MAX_BODY_BYTES, decode_gzip=True)
    authenticator = ImportAuthenticator(state.registry, observed=cfg["auth.error_detail"] == "observed")
    try:
        outcome = authenticator.authenticate(parse_authorization(req.header("authorization")),
                                             req.query.get("project_id"))
        # §4.1: a service account (+ project_id); the PUT also takes the project secret.
        if not (outcome.method == "service_account" or (outcome.method == "secret" and table_id is not None)):
            raise InvalidCredentials()
    except InvalidCredentials as exc:
        return answers.api_error(exc)
    project = outcome.project
    notes = {"project_id": project.project_id}
    if table_id is None:
        results = [t.summary() for t in state.lookup_tables.list(project.project_id)]
        return answers.json_answer(200, {"code": 200, "status": "OK", "results": results}, **notes)
    if raw.too_large:
        return answers.api_error(PayloadTooLarge(MAX_BODY_BYTES), **notes)
    table = state.lookup_tables.get(table_id)
    if table is None or table.project_id != project.project_id:
        missing = LookupTableNotFound(table_id)
        return answers.json_answer(missing.http_status, missing.body(), **notes)
    now_ms = state.clock.now_ms()
    if not state.lookup_tables.put_allowed(project.project_id, now_ms, cfg["ratelimit.lookup_puts_per_day"]):
        return answers.api_error(RateLimitExceeded(), retry_after_s=cfg["ratelimit.retry_after_s"], **notes)
    header, rows, failures = validate_csv(raw.data.decode("utf-8", "replace"))
    if failures or raw.encoding_problem is not None:
        failures = failures or [{"index": 0, "message": "the body could not be decoded"}]
        return answers.json_answer(400, {"code": 400, "error": LOOKUP_VALIDATION_FAILED, "status": "Bad Request",
                                         "failed_records": failures}, **notes)
    state.lookup_tables.replace(table, header, rows, now_ms)
    return answers.json_answer(200, {"code": 200, "status": "OK"}, **notes, rows=len(rows))
