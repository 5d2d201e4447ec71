"""`GET|POST /track` (mixpanel-ingestion.md §6): untrusted sources, the project named by each event's
token, HTTP 200 for data problems, only the last 5 days ingested, `strict=1` honoured with the `/import`
bodies."""

from __future__ import annotations

from typing import Any, cast

from . import answers
from .decoding import NotJson, flag_on
from .errors import (
    DATA_MISSING_OR_EMPTY,
    DISTINCT_ID_MISSING,
    EVENT_MISSING,
    RULES,
    TOKEN_MISSING,
    TOKEN_UNKNOWN,
    ApiError,
    BatchTooLarge,
    DataMissingOrEmpty,
    PayloadTooLarge,
)
from .failures import Failure, as_sent
from .ingest import IngestContext, IngestRequest, decode_request, event_rules, payload_preview
from .outcome import IngestOutcome
from .projects import Project
from .ratelimit import count_toward_limit, rate_limited
from .storage import RequestMeta, Row
from .validation import IDENTITY_EVENTS, EventRules, Rejection

# Object-level failures reported in strict mode: (field, message) in the failed_records shape.
_OBJECT_FIELDS = {DATA_MISSING_OR_EMPTY: "", EVENT_MISSING: "event", TOKEN_MISSING: "properties.token",
                  TOKEN_UNKNOWN: "properties.token", DISTINCT_ID_MISSING: "properties.distinct_id"}


def _object_error(record: Any, ctx: IngestContext) -> tuple[str | None, Project | None, str | None]:
    """(error, project, quarantine reason) for one object: `event` and `properties.token` non-empty."""
    if isinstance(record, NotJson):
        return DATA_MISSING_OR_EMPTY, None, None
    if type(record) is not dict:
        return EVENT_MISSING, None, None
    event = record.get("event")
    if type(event) is not str or not event.strip():
        return EVENT_MISSING, None, None
    props = record.get("properties")
    if type(props) is not dict:
        return TOKEN_MISSING, None, None
    token = props.get("token")
    if type(token) is not str or not token:
        return TOKEN_MISSING, None, None
    if event in IDENTITY_EVENTS:
        distinct = props.get("distinct_id")
        if (distinct is None or distinct == "") and not (event == "$merge" and props.get("$distinct_ids")):
            return DISTINCT_ID_MISSING, None, None
    project = ctx.registry.by_token.get(token)
    if project is None:
        if ctx.config.track_unknown_token == "reject":
            return TOKEN_UNKNOWN, None, None
        return None, None, "unknown_token"
    return None, project, None


def handle_track(ctx: IngestContext, req: IngestRequest) -> IngestOutcome:
    cfg = ctx.config
    limit = cfg.import_max_body_bytes
    decoded = decode_request(req, cfg, limit=limit, accept_gzip=True)
    params = decoded.params
    now_ms = ctx.clock.now_ms()
    strict = cfg.track_honour_strict and flag_on(params.get("strict"))
    verbose = flag_on(params.get("verbose"), cfg.decode_verbose_on)
    img = flag_on(params.get("img"))
    callback = params.get("callback")
    out = IngestOutcome(decoded.dialect, decoded.deviations, payload_preview(decoded), strict=strict, verbose=verbose)

    def status(ok: bool, error: str | None = None) -> IngestOutcome:
        return out.answered(answers.simple_status(ok, error, verbose=verbose, img=img, callback=callback))

    def whole_request_error(error: ApiError) -> IngestOutcome:
        retry = cfg.ratelimit_retry_after_s if error.http_status == 429 else None
        return out.answered(answers.api_error(error, retry_after_s=retry))

    if decoded.raw.too_large:
        return whole_request_error(PayloadTooLarge(limit))
    records = decoded.data.records
    if decoded.raw.encoding_problem == "unsupported":
        return status(False, DATA_MISSING_OR_EMPTY)

    # The project of each object (§6: events of one batch may name different projects).
    checked = [_object_error(record, ctx) for record in records or ()]
    project_ids = sorted({p.project_id for _, p, _ in checked if p is not None})
    n_bytes = len(decoded.raw.data)
    n_records = len(checked)
    limited = rate_limited(ctx.limiter, cfg, "track", project_ids, now_ms, n_bytes=n_bytes, n_events=n_records)
    if limited is not None:
        return whole_request_error(limited)
    out.project_ids = project_ids

    if not records:
        count_toward_limit(ctx.limiter, cfg, "track", project_ids, now_ms, n_bytes=n_bytes, n_events=0,
                           invalid=True)
        if strict:
            return whole_request_error(DataMissingOrEmpty())
        return status(False, DATA_MISSING_OR_EMPTY)
    max_records = cfg.track_max_batch_records
    if n_records > max_records:
        count_toward_limit(ctx.limiter, cfg, "track", project_ids, now_ms, n_bytes=n_bytes, n_events=n_records,
                           invalid=True)
        if strict:
            return whole_request_error(BatchTooLarge(max_records))
        return status(False, BatchTooLarge(max_records).error)

    request_ip = req.remote_addr if flag_on(params.get("ip")) else None
    rules_by_project: dict[int | None, EventRules] = {}
    accepted: list[Row] = []
    failures: list[dict[str, Any]] = []
    kept: list[Failure] = []  # every failure (strict or not) with the record as sent, for view=failed
    first_error: str | None = None
    well_formed = 0
    dropped = 0
    for index, (record, (error, project, quarantine)) in enumerate(zip(records, checked, strict=True)):
        if error is not None:
            first_error = first_error or error
            insert_id = record.get("properties", {}).get("$insert_id") if type(record) is dict and \
                type(record.get("properties")) is dict else None
            insert_id = insert_id if type(insert_id) is str else ""
            if strict:
                failures.append({"index": index, "insert_id": insert_id, "field": _OBJECT_FIELDS[error],
                                 "message": error})
            kept.append(Failure(index, error, _OBJECT_FIELDS[error], insert_id, None, as_sent(record)))
            continue
        well_formed += 1
        key = project.project_id if project is not None else None
        rules = rules_by_project.get(key)
        if rules is None:
            rules = rules_by_project[key] = event_rules(
                ctx, project, strict=strict, endpoint="track", now_ms=now_ms,
                maybe_bad_utf8=decoded.data.maybe_bad_utf8, body_bytes=n_bytes, request_ip=request_ip,
                host=req.host)
        result = rules.check(record)
        if type(result) is not Row:
            rejection = cast(Rejection, result)
            failure = RULES[rejection.rule_id].failure(index, rejection.insert_id, rejection.key)
            if strict:
                failures.append(failure)
            else:
                dropped += 1
            kept.append(Failure(index, failure["message"], failure["field"], rejection.insert_id, rejection.rule_id,
                                as_sent(record, oversize=rejection.rule_id == "V12size"), key))
            continue
        result.project_id = key
        if quarantine is not None:
            result.quarantine = quarantine
        elif cfg.regions_enforce and project is not None and not project.served_in(req.region):
            result.quarantine = "wrong_region"
        elif project is not None and project.simplified and result.event in IDENTITY_EVENTS:
            result.dropped = "identity_event_in_simplified"
        accepted.append(result)

    meta = RequestMeta(req.request_id, "track", req.region, now_ms, decoded.dialect, req.user_agent, req.host)
    ctx.store.ingest(accepted, meta)
    ctx.failed.record(endpoint="track", good=len(accepted), failures=kept, request_id=req.request_id,
                      region=req.region, received_ms=now_ms)
    out.records_accepted, out.records_dropped = len(accepted), dropped + n_records - well_formed
    out.records_failed = len(failures)
    count_toward_limit(ctx.limiter, cfg, "track", project_ids, now_ms, n_bytes=n_bytes, n_events=n_records,
                       invalid=bool(failures) or well_formed == 0)
    if strict:
        if failures:
            return out.answered(answers.strict_invalid(failures, len(accepted)))
        return out.answered(answers.strict_ok(len(accepted)))
    return status(well_formed > 0, first_error)
