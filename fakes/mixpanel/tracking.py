"""`GET|POST /track` (mixpanel-ingestion.md §6): untrusted sources, the project named by each event's
token, HTTP 200 for data problems, only the last 5 days ingested, `strict=1` honoured with the `/import`
bodies."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import answers
from .answers import Answer
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
from .ingest import IngestRequest, count_toward_limit, decode_request, event_rules, payload_preview, rate_limited
from .projects import Project
from .storage import RequestMeta, Row
from .validation import IDENTITY_EVENTS, EventRules, Rejection

if TYPE_CHECKING:
    from .state import MixpanelState

# Object-level failures reported in strict mode: (field, message) in the failed_records shape.
_OBJECT_FIELDS = {DATA_MISSING_OR_EMPTY: "", EVENT_MISSING: "event", TOKEN_MISSING: "properties.token", TOKEN_UNKNOWN: "properties.token",
                  DISTINCT_ID_MISSING: "properties.distinct_id"}


def _object_error(record: Any, state: MixpanelState) -> tuple[str | None, Project | None, str | None]:
    """(error, project, quarantine reason) for one object: `event` and `properties.token` non-empty."""
    if isinstance(record, NotJson):
        return DATA_MISSING_OR_EMPTY, None, None
    if type(record) is not dict:
        return EVENT_MISSING, None, None
    event = record.get("event")
    if type(event) is not str or not event.strip():
        return EVENT_MISSING, None, None
    props = record.get("properties")
    token = props.get("token") if type(props) is dict else None
    if type(token) is not str or not token:
        return TOKEN_MISSING, None, None
    if event in IDENTITY_EVENTS:
        distinct = props.get("distinct_id")
        if (distinct is None or distinct == "") and not (event == "$merge" and props.get("$distinct_ids")):
            return DISTINCT_ID_MISSING, None, None
    project = state.registry.by_token.get(token)
    if project is None:
        if state.cfg["track.unknown_token"] == "reject":
            return TOKEN_UNKNOWN, None, None
        return None, None, "unknown_token"
    return None, project, None


def handle_track(state: MixpanelState, req: IngestRequest) -> Answer:
    cfg = state.cfg
    limit = cfg["import.max_body_bytes"]
    decoded = decode_request(req, cfg, limit=limit, accept_gzip=True)
    params = decoded.params
    now_ms = state.clock.now_ms()
    strict = cfg["track.honour_strict"] and flag_on(params.get("strict"))
    verbose = flag_on(params.get("verbose"), cfg["decode.verbose_on"])
    img = flag_on(params.get("img"))
    callback = params.get("callback")
    notes: dict[str, Any] = {"dialect": decoded.dialect, "deviations": decoded.deviations,
                             "payload": payload_preview(decoded), "strict": strict,
                             "verbose": verbose}

    def status(ok: bool, error: str | None = None) -> Answer:
        answer = answers.simple_status(ok, error, verbose=verbose, img=img, callback=callback)
        answer.notes.update(notes)
        return answer

    def whole_request_error(error: ApiError) -> Answer:
        retry = cfg["ratelimit.retry_after_s"] if error.http_status == 429 else None
        return answers.api_error(error, retry_after_s=retry, **notes)

    if decoded.raw.too_large:
        return whole_request_error(PayloadTooLarge(limit))
    records = decoded.data.records
    if decoded.raw.encoding_problem == "unsupported":
        return status(False, DATA_MISSING_OR_EMPTY)

    # The project of each object (§6: events of one batch may name different projects).
    checked = [_object_error(record, state) for record in records or ()]
    project_ids = sorted({p.project_id for _, p, _ in checked if p is not None})
    n_bytes = len(decoded.raw.data)
    n_records = len(checked)
    limited = rate_limited(state, "track", project_ids, now_ms, n_bytes=n_bytes, n_events=n_records)
    if limited is not None:
        return whole_request_error(limited)
    notes["project_ids"] = project_ids

    if not records:
        count_toward_limit(state, "track", project_ids, now_ms, n_bytes=n_bytes, n_events=0, invalid=True)
        if strict:
            return whole_request_error(DataMissingOrEmpty())
        return status(False, DATA_MISSING_OR_EMPTY)
    max_records = cfg["track.max_batch_records"]
    if n_records > max_records:
        count_toward_limit(state, "track", project_ids, now_ms, n_bytes=n_bytes, n_events=n_records, invalid=True)
        if strict:
            return whole_request_error(BatchTooLarge(max_records))
        return status(False, BatchTooLarge(max_records).error)

    request_ip = req.remote_addr if flag_on(params.get("ip")) else None
    rules_by_project: dict[int | None, EventRules] = {}
    accepted: list[Row] = []
    failures: list[dict[str, Any]] = []
    first_error: str | None = None
    well_formed = 0
    dropped = 0
    for index, (record, (error, project, quarantine)) in enumerate(zip(records, checked)):
        if error is not None:
            first_error = first_error or error
            if strict:
                insert_id = record.get("properties", {}).get("$insert_id") if type(record) is dict and \
                    type(record.get("properties")) is dict else None
                failures.append({"index": index, "insert_id": insert_id if type(insert_id) is str else "",
                                 "field": _OBJECT_FIELDS[error], "message": error})
            continue
        well_formed += 1
        key = project.project_id if project is not None else None
        rules = rules_by_project.get(key)
        if rules is None:
            rules = rules_by_project[key] = event_rules(
                state, project, strict=strict, endpoint="track", now_ms=now_ms,
                maybe_bad_utf8=decoded.data.maybe_bad_utf8, body_bytes=n_bytes, request_ip=request_ip,
                host=req.host)
        result = rules.check(record)
        if type(result) is not Row:
            if strict:
                rejection: Rejection = result
                failures.append(RULES[rejection.rule_id].failure(index, rejection.insert_id, rejection.key))
            else:
                dropped += 1
            continue
        result.project_id = key
        if quarantine is not None:
            result.quarantine = quarantine
        elif cfg["regions.enforce"] and project is not None and not project.served_in(req.region):
            result.quarantine = "wrong_region"
        elif project is not None and project.simplified and result.event in IDENTITY_EVENTS:
            result.dropped = "identity_event_in_simplified"
        accepted.append(result)

    meta = RequestMeta(req.request_id, "track", req.region, now_ms, decoded.dialect, req.user_agent, req.host)
    state.store.ingest(accepted, meta)
    notes.update(records_accepted=len(accepted), records_dropped=dropped + n_records - well_formed,
                 records_failed=len(failures))
    count_toward_limit(state, "track", project_ids, now_ms, n_bytes=n_bytes, n_events=n_records,
                       invalid=bool(failures) or well_formed == 0)
    if strict:
        answer = answers.strict_invalid(failures, len(accepted)) if failures else answers.strict_ok(len(accepted))
        answer.notes.update(notes)
        return answer
    return status(well_formed > 0, first_error)
