"""What every ingestion endpoint handler shares: the request as the model sees it, the context a handler
works in (the configuration snapshot and the model's parts), body decoding (§3) and the per-request rule
tables (§5.4)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fakes.core import SimulatedClock

from .config import MixpanelConfig
from .decoding import (
    DecodedData,
    NotJson,
    Params,
    RawBody,
    decode_records,
    is_form_body,
    merge_params,
    normalise_media_type,
    parse_form,
    read_bytes,
    shallow_copy,
)
from .failures import FailedRecords
from .lookup_tables import LookupTableStore
from .profiles import ProfileStore
from .projects import Project, ProjectRegistry
from .ratelimit import ExportRateLimits, RateLimiter
from .storage import EventStore
from .validation import EventRules


@dataclass
class IngestRequest:
    """One request to an ingestion endpoint, as plain data (the wire builds it from Flask's request)."""

    endpoint: str  # a name of the model's ENDPOINTS table, or "lookup-tables"
    method: str = "POST"
    query: dict[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-cased names
    body: bytes = b""
    remote_addr: str = "127.0.0.1"
    region: str = "us"
    secure: bool = False
    host: str = "api.mixpanel.com"
    request_id: str = ""
    path: str = ""  # the path and query as sent (the raw export names it in its error bodies)
    declared_bytes: int | None = None  # a body over the limit, refused unread by the server (fakes.core.body_limit)

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    @property
    def user_agent(self) -> str:
        return self.headers.get("user-agent", "")


@dataclass(frozen=True)
class IngestContext:
    """What an endpoint handler works with: one configuration snapshot and the model's parts.

    Built by the model once per configuration change; the stores are the model's own (cleared in place)."""

    config: MixpanelConfig
    registry: ProjectRegistry
    bad_ids: frozenset[str]  # §5.5 placeholder ids, lower-cased
    clock: SimulatedClock
    store: EventStore
    profiles: ProfileStore
    group_profiles: ProfileStore
    quarantine_updates: list[dict[str, Any]]  # /engage, /groups updates naming an unknown token or region
    limiter: RateLimiter
    lookup_tables: LookupTableStore
    new_insert_id: Callable[[], str]  # §5.7
    export_limits: ExportRateLimits = field(default_factory=ExportRateLimits)  # the raw export's query limits
    failed: FailedRecords = field(default_factory=FailedRecords)  # records that failed validation, good/bad counts


@dataclass
class DecodedRequest:
    raw: RawBody
    params: Params
    data: DecodedData
    deviations: list[str] = field(default_factory=list)

    @property
    def dialect(self) -> str:
        return self.data.dialect


def decode_request(req: IngestRequest, cfg: MixpanelConfig, *, limit: int, accept_gzip: bool) -> DecodedRequest:
    """§3: bounded read and decompression, then parameters (R1) and records (R3–R5)."""
    if req.declared_bytes is not None:  # §5.2: over the limit, refused before it was read
        raw = RawBody(wire_bytes=req.declared_bytes, too_large=True,
                      encoding=(req.header("content-encoding") or "").strip().lower())
    else:
        raw = read_bytes(req.body, req.header("content-encoding"), limit,
                         decode_gzip=accept_gzip, extra_encodings=cfg.decode_extra_encodings)
    if raw.too_large or raw.encoding_problem is not None:
        params = merge_params(req.query, {})
        return DecodedRequest(raw, params, DecodedData(None, "none", problem=raw.encoding_problem or "too large"))
    media_type = normalise_media_type(req.header("content-type"))
    form = None
    if is_form_body(raw.data, media_type):
        form = parse_form(raw.data.decode("utf-8", "surrogateescape"))
    params = merge_params(req.query, form or {})
    data = decode_records(raw.data, media_type, req.query, form, cfg.decode_strict_base64)
    deviations = [f"R1: {name} given in query ({q!r}) and body ({b!r}); the query value wins"
                  for name, (q, b) in params.conflicts.items()]
    return DecodedRequest(raw, params, data, deviations)


PAYLOAD_PREVIEW = 10  # records
PAYLOAD_PREVIEW_CHARS = 16384  # the journal keeps 1000 entries: a few huge records must not pin megabytes


def payload_preview(decoded: DecodedRequest) -> list[Any]:
    """The first decoded records for the request journal, capped in count and size (§14 "capped"); a
    record that would pass the size cap is shown as a truncated JSON text."""
    out: list[Any] = []
    budget = PAYLOAD_PREVIEW_CHARS
    for record in (decoded.data.records or [])[:PAYLOAD_PREVIEW]:
        if isinstance(record, NotJson):
            record = {"not_json": record.line[:200].decode("utf-8", "replace")}
        record = shallow_copy(record)
        text = json.dumps(record, separators=(",", ":"))
        if len(text) > budget:
            out.append({"truncated_json": text[: max(budget, 200)]})
            break
        budget -= len(text)
        out.append(record)
    return out


def event_rules(ctx: IngestContext, project: Project | None, *, strict: bool, endpoint: str, now_ms: int,
                maybe_bad_utf8: bool, body_bytes: int, request_ip: str | None, host: str) -> EventRules:
    """The §5.4 tables for one request. Strict `/track` uses the `/import` rules plus the 5-day rule."""
    cfg = ctx.config
    if endpoint == "track" and not strict:
        mode = "track"
        skip = frozenset({"V7", "V8", "V9", "V10"})
    else:
        mode = "import"
        skip = frozenset() if strict else frozenset(cfg.import_nonstrict_skip)
    max_event = cfg.import_max_event_bytes
    ingest_props = None
    if cfg.store_add_ingest_properties:
        ingest_props = {"$mp_api_endpoint": host, "$mp_api_timestamp_ms": now_ms, "mp_processing_time_ms": now_ms}
        if endpoint == "import":
            ingest_props["$import"] = True
    track_age = None
    if endpoint == "track":
        track_age = int(cfg.track_max_age_days * 86_400_000)
    return EventRules(
        now_ms=now_ms,
        strict=strict,
        mode=mode,
        simplified=project.simplified if project is not None else True,
        skip=skip,
        bad_ids=ctx.bad_ids,
        ms_threshold=cfg.time_ms_threshold,
        future_grace_ms=int(cfg.time_future_grace_s * 1000),
        max_event_bytes=max_event,
        max_properties=cfg.import_max_properties,
        max_object_keys=cfg.import_max_object_keys,
        max_depth=cfg.import_max_depth,
        max_array_len=cfg.import_max_array_len,
        max_string_len=cfg.import_max_string_len,
        truncate_bytes=cfg.import_truncate_unit == "bytes",
        # No event's text can pass the limit when the whole body does not.
        check_size=body_bytes > max_event,
        check_utf8=maybe_bad_utf8,
        track_max_age_ms=track_age,
        track_keep_old=cfg.track_old_events == "keep",
        enforce_8kb=cfg.import_enforce_8kb,
        geo_stub=cfg.geoip_stub,
        request_ip=request_ip,
        ingest_properties=ingest_props,
        new_insert_id=ctx.new_insert_id,
    )
