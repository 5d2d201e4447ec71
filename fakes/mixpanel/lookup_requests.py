"""`GET /lookup-tables` and `PUT /lookup-tables/{id}` (mixpanel-ingestion.md §9): auth, limits and the
documented bodies."""

from __future__ import annotations

import io

from . import answers
from .auth import ImportAuthenticator, parse_authorization
from .decoding import read_body
from .errors import (
    LOOKUP_BODY_UNDECODABLE,
    InvalidCredentials,
    LookupTableNotFound,
    PayloadTooLarge,
    RateLimitExceeded,
)
from .ingest import IngestContext, IngestRequest
from .lookup_tables import MAX_BODY_BYTES, validate_csv
from .outcome import LookupOutcome


def handle_lookup_tables(ctx: IngestContext, req: IngestRequest, table_id: str | None) -> LookupOutcome:
    cfg = ctx.config
    raw = read_body(io.BytesIO(req.body), req.header("content-encoding"), MAX_BODY_BYTES, decode_gzip=True)
    raw.too_large = raw.too_large or req.declared_bytes is not None  # refused unread by the server
    authenticator = ImportAuthenticator(ctx.registry, observed=cfg.auth_error_detail == "observed")
    try:
        outcome = authenticator.authenticate(parse_authorization(req.header("authorization")),
                                             req.query.get("project_id"))
        # §4.1: a service account (+ project_id); the PUT also takes the project secret.
        if not (outcome.method == "service_account" or (outcome.method == "secret" and table_id is not None)):
            raise InvalidCredentials()
    except InvalidCredentials as exc:
        return LookupOutcome(answers.api_error(exc))
    project = outcome.project
    pid = project.project_id
    if table_id is None:
        results = [t.summary() for t in ctx.lookup_tables.tables(pid)]
        return LookupOutcome(answers.lookup_tables_listed(results), pid)
    if raw.too_large:
        return LookupOutcome(answers.api_error(PayloadTooLarge(MAX_BODY_BYTES)), pid)
    table = ctx.lookup_tables.get(table_id)
    if table is None or table.project_id != pid:
        return LookupOutcome(answers.api_error(LookupTableNotFound(table_id)), pid)
    now_ms = ctx.clock.now_ms()
    if not ctx.lookup_tables.put_allowed(pid, now_ms, cfg.ratelimit_lookup_puts_per_day):
        return LookupOutcome(answers.api_error(RateLimitExceeded(), retry_after_s=cfg.ratelimit_retry_after_s), pid)
    header, rows, failures = validate_csv(raw.data.decode("utf-8", "replace"))
    if failures or raw.encoding_problem is not None:
        failures = failures or [{"index": 0, "message": LOOKUP_BODY_UNDECODABLE}]
        return LookupOutcome(answers.lookup_table_invalid(failures), pid)
    ctx.lookup_tables.replace(table, header, rows, now_ms)
    return LookupOutcome(answers.lookup_table_replaced(), pid, rows=len(rows))
