"""`/engage` and `/groups` (mixpanel-ingestion.md §7, §8): update objects, their validation, and the
`1`/`0` / `{error,status}` answers (HTTP 200 even for invalid data)."""

from __future__ import annotations

import json
from typing import Any

from . import answers
from .config import MixpanelConfig
from .decoding import MAX_SAFE_DEPTH, deeper_than, flag_on
from .errors import (
    DATA_MISSING_OR_EMPTY,
    GROUP_ID_MISSING,
    GROUP_KEY_MISSING,
    OPERATION_MISSING,
    PROFILE_DISTINCT_ID_MISSING,
    PROFILE_TOKEN_MISSING,
    PROFILE_TOO_MANY_PROPERTIES,
    TOKEN_UNKNOWN,
    TOO_MANY_OPERATIONS,
    UPDATE_TOO_DEEP,
    UPDATE_TOO_LARGE,
    BatchTooLarge,
    PayloadTooLarge,
    invalid_operation,
    operation_not_allowed,
)
from .event_values import stringify_id, to_ms
from .failures import Failure, as_sent
from .ingest import IngestContext, IngestRequest, decode_request, payload_preview
from .outcome import IngestOutcome
from .profiles import OPERATIONS, ProfileStore, ProfileUpdate, operation_value_ok

_OPERATION_SET = frozenset(OPERATIONS)


def _present(value: Any) -> bool:
    return value is not None and value != ""


class UpdateKind:
    """What differs between user profiles (/engage) and group profiles (/groups)."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.groups = endpoint == "groups"

    def store(self, ctx: IngestContext) -> ProfileStore:
        return ctx.group_profiles if self.groups else ctx.profiles

    def identity(self, update: dict[str, Any]) -> tuple[str | None, Any]:
        """(error, identity) of one update object."""
        if self.groups:
            key, gid = update.get("$group_key"), update.get("$group_id")
            if not _present(key):
                return GROUP_KEY_MISSING, None
            if not _present(gid):
                return GROUP_ID_MISSING, None
            return None, (stringify_id(key), stringify_id(gid))
        distinct = update.get("$distinct_id")
        if not _present(distinct):
            return PROFILE_DISTINCT_ID_MISSING, None
        return None, stringify_id(distinct)

    def forbidden(self, op: str, cfg: MixpanelConfig) -> bool:
        """§8: `$add`/`$append` make a group update invalid unless allowed."""
        if not self.groups:
            return False
        return (op == "$add" and not cfg.groups_allow_add) or (op == "$append" and not cfg.groups_allow_append)


def _validate(kind: UpdateKind, ctx: IngestContext, update: Any, now_ms: int, region: str,
              check_size: bool) -> tuple[str | None, ProfileUpdate | None, str | None]:
    """(error, update to apply, quarantine reason)."""
    cfg = ctx.config
    if type(update) is not dict:
        return DATA_MISSING_OR_EMPTY, None, None
    token = update.get("$token")
    if type(token) is not str or not token:
        return PROFILE_TOKEN_MISSING, None, None
    error, identity = kind.identity(update)
    if error is not None:
        return error, None, None
    operations = [(key, value) for key, value in update.items() if key in _OPERATION_SET]
    if not operations:
        return OPERATION_MISSING, None, None
    if len(operations) > 1 and cfg.engage_multi_op == "reject":
        return TOO_MANY_OPERATIONS, None, None
    for op, value in operations:
        if kind.forbidden(op, cfg):
            return operation_not_allowed(op), None, None
        if not operation_value_ok(op, value):
            return invalid_operation(op), None, None
    if any(deeper_than(value, MAX_SAFE_DEPTH) for _, value in operations):
        return UPDATE_TOO_DEEP, None, None
    if check_size and len(json.dumps(update, ensure_ascii=False)) > cfg.import_max_event_bytes:
        return UPDATE_TOO_LARGE, None, None
    project = ctx.registry.by_token.get(token)
    quarantine = None
    if project is None:
        if cfg.track_unknown_token == "reject":
            return TOKEN_UNKNOWN, None, None
        quarantine = "unknown_token"
    elif cfg.regions_enforce and not project.served_in(region):
        quarantine = "wrong_region"
    raw_time = update.get("$time")
    if isinstance(raw_time, (int, float)) and not isinstance(raw_time, bool) and raw_time == raw_time \
            and abs(raw_time) != float("inf"):
        time_ms = to_ms(raw_time, cfg.time_ms_threshold)
    else:
        time_ms = now_ms  # §7.1: non-numeric `$time` → receipt time
    ignore_time = update.get("$ignore_time") in (True, "true", 1, "1")
    metadata = {k: update[k] for k in ("$latitude", "$longitude") if k in update}
    geo: dict[str, Any] = {}
    ip = update.get("$ip")
    if type(ip) is str and ip in cfg.geoip_stub:
        geo = dict(cfg.geoip_stub[ip])
    key = (project.project_id if project is not None else None, identity)
    return None, ProfileUpdate(key, operations, time_ms, ignore_time, metadata, geo), quarantine


def handle_profile_updates(ctx: IngestContext, req: IngestRequest) -> IngestOutcome:
    kind = UpdateKind(req.endpoint)
    cfg = ctx.config
    limit = cfg.import_max_body_bytes
    decoded = decode_request(req, cfg, limit=limit, accept_gzip=cfg.engage_accept_gzip)
    params = decoded.params
    verbose = flag_on(params.get("verbose"), cfg.decode_verbose_on)
    num_good = cfg.engage_num_good_events
    out = IngestOutcome(decoded.dialect, decoded.deviations, payload_preview(decoded), verbose=verbose)

    def status(ok: bool, error: str | None, good: int | None = None) -> IngestOutcome:
        return out.answered(answers.simple_status(ok, error, verbose=verbose, img=flag_on(params.get("img")),
                                                  callback=params.get("callback"),
                                                  num_good_events=good if num_good else None))

    if decoded.raw.too_large:
        out.deviations.append("413 on /engage or /groups: the /import body limit and answer (U)")
        return out.answered(answers.api_error(PayloadTooLarge(limit)))
    records = decoded.data.records
    if decoded.raw.encoding_problem is not None or not records:
        out.note_problem(decoded.raw.encoding_problem or decoded.data.problem)
        return status(False, DATA_MISSING_OR_EMPTY, 0)
    max_records = cfg.groups_max_batch_records if kind.groups else cfg.engage_max_batch_records
    if len(records) > max_records:
        return status(False, BatchTooLarge(max_records).error, 0)

    now_ms = ctx.clock.now_ms()
    check_size = len(decoded.raw.data) > cfg.import_max_event_bytes
    store = kind.store(ctx)
    by_time = cfg.engage_order == "time"
    good = 0
    first_error: str | None = None
    applied_projects: set[int] = set()
    kept: list[Failure] = []  # updates that failed, with Mixpanel's status-0 error, for view=failed
    for index, update in enumerate(records):
        error, valid, quarantine = _validate(kind, ctx, update, now_ms, req.region, check_size)
        if error is None and valid is not None:
            if quarantine is not None:
                ctx.quarantine_updates.append({"endpoint": kind.endpoint, "reason": quarantine, "update": update})
                good += 1
                continue
            if store.apply(valid, by_time=by_time):
                good += 1
                if valid.project_id is not None:
                    applied_projects.add(valid.project_id)
                continue
            error = PROFILE_TOO_MANY_PROPERTIES
        first_error = first_error or error
        token = update.get("$token") if type(update) is dict else None
        project = ctx.registry.by_token.get(token) if type(token) is str else None
        kept.append(Failure(index, error or DATA_MISSING_OR_EMPTY,
                            record=as_sent(update, oversize=error == UPDATE_TOO_LARGE),
                            project_id=project.project_id if project is not None else None))
    ctx.failed.record(endpoint=kind.endpoint, good=good, failures=kept, request_id=req.request_id,
                      region=req.region, received_ms=now_ms)
    out.records_accepted, out.records_dropped = good, len(records) - good
    out.updated_project_ids = sorted(applied_projects)
    return status(good > 0, first_error, good)
