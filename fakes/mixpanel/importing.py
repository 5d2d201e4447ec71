"""`POST|GET /import` (mixpanel-ingestion.md §5): auth, limits, validation, partial success, the strict and
non-strict bodies. Processing order (§5.3): auth → size → rate limit → parse → batch count → per-event
validation → ingest → respond."""

from __future__ import annotations

from typing import cast

from . import answers
from .answers import Answer
from .auth import ImportAuthenticator, parse_authorization
from .config import MixpanelConfig
from .decoding import flag_on
from .errors import (
    IDENTITY_EVENTS_NOT_ALLOWED,
    RULES,
    ApiError,
    BatchTooLarge,
    DataMissingOrEmpty,
    InvalidCredentials,
    PayloadTooLarge,
    UnsupportedContentEncoding,
)
from .failures import Failure, as_sent
from .ingest import IngestContext, IngestRequest, decode_request, event_rules, payload_preview
from .outcome import IngestOutcome
from .ratelimit import count_toward_limit, rate_limited
from .storage import RequestMeta, Row
from .validation import IDENTITY_EVENTS, Rejection


def _error(cfg: MixpanelConfig, error: ApiError) -> Answer:
    retry = cfg.ratelimit_retry_after_s if error.http_status == 429 else None
    return answers.api_error(error, retry_after_s=retry)


def handle_import(ctx: IngestContext, req: IngestRequest) -> IngestOutcome:
    cfg = ctx.config
    limit = cfg.import_max_body_bytes
    decoded = decode_request(req, cfg, limit=limit, accept_gzip=True)
    params = decoded.params
    out = IngestOutcome(decoded.dialect, decoded.deviations, payload_preview(decoded))
    deviations = out.deviations
    now_ms = ctx.clock.now_ms()

    # 1. auth (§4)
    authenticator = ImportAuthenticator(
        ctx.registry,
        observed=cfg.auth_error_detail == "observed",
        secret_retired=cfg.auth_secret_retired_enforce and now_ms >= cfg.auth_secret_retired_at * 1000,
    )
    try:
        if cfg.auth_reject_plain_http and not req.secure:
            raise InvalidCredentials()
        outcome = authenticator.authenticate(parse_authorization(req.header("authorization")),
                                             params.get("project_id"))
        if cfg.regions_enforce and not outcome.project.served_in(req.region):
            raise InvalidCredentials()  # §2.1: the project does not exist in this region
    except InvalidCredentials as exc:
        return out.answered(_error(cfg, exc))
    project = outcome.project
    out.project_id, out.auth = project.project_id, outcome.method

    # 2. size and encoding (§5.2, R8)
    if decoded.raw.too_large:
        return out.answered(_error(cfg, PayloadTooLarge(limit)))
    if decoded.raw.encoding_problem == "unsupported":
        deviations.append("R8: unsupported Content-Encoding answered 400 (harness wording)")
        return out.answered(_error(cfg, UnsupportedContentEncoding()))

    records = decoded.data.records
    n_bytes = len(decoded.raw.data)
    n_records = len(records) if records else 0

    # 3. rate limit (§11)
    limited = rate_limited(ctx.limiter, cfg, "import", [project.project_id], now_ms, n_bytes=n_bytes,
                           n_events=n_records)
    if limited is not None:
        return out.answered(_error(cfg, limited))

    strict = flag_on(params.get("strict"))
    verbose = flag_on(params.get("verbose"), cfg.decode_verbose_on)
    out.strict, out.verbose, out.ip, out.test = strict, verbose, flag_on(params.get("ip")), flag_on(params.get("test"))
    if params.get("strict") is None:
        deviations.append("§5.1: strict absent is read as 0 (two official SDKs rely on it)")

    def count(invalid: bool) -> None:
        count_toward_limit(ctx.limiter, cfg, "import", [project.project_id], now_ms, n_bytes=n_bytes,
                           n_events=n_records, invalid=invalid)

    # 4. parse (V1)
    if not records:
        count(True)
        out.note_problem(decoded.data.problem or "no records")
        if strict:
            return out.answered(_error(cfg, DataMissingOrEmpty()))
        return out.answered(answers.nonstrict_nothing(verbose))

    # 5. batch count (§5.2)
    max_records = cfg.import_max_batch_records
    if n_records > max_records:
        count(True)
        too_many = BatchTooLarge(max_records)
        if strict:
            deviations.append("Q2: more than the batch limit answered 400, nothing ingested (harness wording)")
            return out.answered(_error(cfg, too_many))
        # §5.9: non-strict answers are HTTP 200 (unless 401/413/429) with an integer status.
        deviations.append("Q2/§5.9: non-strict, more than the batch limit: status 0, nothing ingested")
        if not verbose:
            return out.answered(answers.plain(False))
        return out.answered(answers.json_answer(200, {"error": too_many.error, "status": 0}))

    # 6. per-event validation (§5.4)
    request_ip = req.remote_addr if flag_on(params.get("ip")) else None
    rules = event_rules(ctx, project, strict=strict, endpoint="import", now_ms=now_ms,
                        maybe_bad_utf8=decoded.data.maybe_bad_utf8, body_bytes=n_bytes,
                        request_ip=request_ip, host=req.host)
    check = rules.check
    accepted: list[Row] = []
    failures: list[tuple[int, Rejection]] = []
    kept: list[Failure] = []  # each failure with the record as sent, for view=failed
    identity_indexes: list[int] = []
    simplified = project.simplified
    pid = project.project_id
    any_content = False  # some record is a non-empty object (§5.9 "2024" style), known before they are released
    for index, record in enumerate(records):
        # Release each record once checked: a stored Row keeps only its properties, so the batch's record
        # objects die here instead of surviving into the older garbage-collector generations.
        records[index] = None
        result = check(record)
        if type(result) is Row:
            any_content = True
            if simplified and result.event in IDENTITY_EVENTS:
                identity_indexes.append(index)
                insert_id = "" if result.insert_id_generated else result.insert_id
                kept.append(Failure(index, IDENTITY_EVENTS_NOT_ALLOWED, "", insert_id, "V13", record, pid))
                continue
            result.project_id = pid
            accepted.append(result)
        else:
            if not any_content and type(record) is dict and record:
                any_content = True
            rejection = cast(Rejection, result)  # not a Row: a Rejection
            failures.append((index, rejection))
            reported = RULES[rejection.rule_id].failure(index, rejection.insert_id, rejection.key)
            kept.append(Failure(index, reported["message"], reported["field"], rejection.insert_id,
                                rejection.rule_id, as_sent(record, oversize=rejection.rule_id == "V12size"), pid))
    record = None

    # V13: simplified projects refuse identity events (strict: the whole batch; non-strict: those events)
    if identity_indexes and strict:
        count(True)
        ctx.failed.record(endpoint="import", good=0, failures=kept, request_id=req.request_id, region=req.region,
                          received_ms=now_ms)
        out.records_failed = n_records
        return out.answered(answers.strict_invalid([IDENTITY_EVENTS_NOT_ALLOWED] * len(identity_indexes), 0))

    # 7. ingest
    meta = RequestMeta(req.request_id, "import", req.region, now_ms, decoded.dialect, req.user_agent, req.host)
    ctx.store.ingest(accepted, meta)
    ctx.failed.record(endpoint="import", good=len(accepted), failures=kept, request_id=req.request_id,
                      region=req.region, received_ms=now_ms)
    imported = len(accepted)
    dropped = len(failures) + len(identity_indexes)
    out.records_accepted, out.records_dropped = imported, 0 if strict else dropped
    out.records_failed = len(failures) if strict else 0

    # 8. respond
    if strict:
        count(bool(failures))
        if not failures:
            return out.answered(answers.strict_ok(imported))
        cap = cfg.import_max_failed_records
        shown = failures if cap is None else failures[: int(cap)]
        failed_records = [RULES[r.rule_id].failure(i, r.insert_id, r.key) for i, r in shown]
        return out.answered(answers.strict_invalid(failed_records, imported))
    count(imported == 0)
    if imported and dropped:
        deviations.append("Q3: a partly valid non-strict batch answers status 1 (harness default)")
    if imported:
        return out.answered(answers.nonstrict_imported(imported, verbose))
    if not any_content and cfg.import_nonstrict_style == "2024":
        return out.answered(answers.nonstrict_nothing(verbose))
    return out.answered(answers.nonstrict_none_valid(verbose))
