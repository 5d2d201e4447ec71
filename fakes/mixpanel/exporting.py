"""`GET /api/2.0/export` (on `data[-eu|-in].mixpanel.com`): Mixpanel's raw event export, over the raw store.

Upstream (Mixpanel's API reference, D): Basic auth with the project secret, or a service account plus
`project_id`; `from_date` and `to_date` required, `YYYY-MM-DD`, both inclusive, read in UTC (projects made
after 2023; the fake's projects have no time zone); `event` a JSON array of names; `where` a segmentation
expression; `limit` at most 100000; `time_in_ms` for millisecond times; `Accept-Encoding: gzip` compresses
an answer past 1400 bytes. The answer is JSON lines, one `{"event", "properties"}` per stored event, never
deduplicated (mixpanel-ingestion.md §10): duplicates come back.

The fake: rows of the raw store (receipt order, the project's own, dropped rows left out) with `time`,
`distinct_id` and `$insert_id` as stored, the consumed `token` removed, and the properties Mixpanel adds on
ingestion (`mp_processing_time_ms` always; `$import`, `$mp_api_endpoint`, `$mp_api_timestamp_ms` with
`export.add_ingest_properties`). Lines are produced lazily, in chunks, so a big store is never held as text.
`where` is refused with a 400 naming it. Order: auth (401) → parameters (400) → rate limit (429) → answer.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from itertools import islice
from typing import Any

import orjson

from . import answers
from .auth import ImportAuthenticator, parse_authorization
from .errors import (
    EXPORT_DATE_INVALID,
    EXPORT_DATES_REVERSED,
    EXPORT_EVENT_INVALID,
    EXPORT_LIMIT_INVALID,
    EXPORT_PARAMETER_REQUIRED,
    EXPORT_WHERE_UNSUPPORTED,
    ExportRequestError,
    InvalidCredentials,
)
from .ingest import IngestContext, IngestRequest
from .outcome import ExportOutcome
from .storage import Row

EXPORT = "export"  # the endpoint's name in journals, stats and fault rules (`match.endpoint`)
JSON_LINES = "text/plain"  # D: the reference gives text/plain for the JSON lines
CHUNK_BYTES = 1 << 16  # lines are sent in chunks of about this size
GZIP_MIN_BYTES = 1400  # D: a smaller answer is not compressed
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}").fullmatch
_DAY_MS = 86_400_000
_TRUE = ("1", "true")


@dataclass(frozen=True)
class ExportQuery:
    """The parameters of one export: a window in ms (`to_ms` exclusive), names, a limit, the time unit."""

    from_date: str
    to_date: str
    from_ms: int
    to_ms: int
    events: frozenset[str] | None
    limit: int | None
    time_in_ms: bool


def _day_start_ms(name: str, query: Mapping[str, str], request: str) -> int:
    value = query.get(name)
    if value is None or not value.strip():
        raise ExportRequestError(EXPORT_PARAMETER_REQUIRED, request, name=name)
    try:
        if not _DATE(value):
            raise ValueError(value)
        day = date.fromisoformat(value)
    except ValueError:
        raise ExportRequestError(EXPORT_DATE_INVALID, request, name=name, value=value) from None
    return int(datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp()) * 1000


def _events(query: Mapping[str, str], request: str) -> frozenset[str] | None:
    text = query.get("event")
    if text is None or not text.strip():
        return None
    try:
        names = json.loads(text)
    except ValueError:
        names = None
    if type(names) is not list or not all(type(name) is str for name in names):
        raise ExportRequestError(EXPORT_EVENT_INVALID, request)
    return frozenset(names) if names else None  # D: an empty list means every event


def _limit(query: Mapping[str, str], request: str, maximum: int) -> int | None:
    text = query.get("limit")
    if text is None or not text.strip():
        return None
    value = text.strip()
    if not value.isdigit() or not 1 <= int(value) <= maximum:
        raise ExportRequestError(EXPORT_LIMIT_INVALID, request, maximum=maximum, value=text)
    return int(value)


def parse_export_query(query: Mapping[str, str], request: str, *, max_limit: int) -> ExportQuery:
    """The parameters, or `ExportRequestError` (400) naming the first bad one."""
    from_ms = _day_start_ms("from_date", query, request)
    to_ms = _day_start_ms("to_date", query, request) + _DAY_MS  # inclusive: the whole of to_date
    if to_ms <= from_ms:
        raise ExportRequestError(EXPORT_DATES_REVERSED, request, from_date=query["from_date"],
                                 to_date=query["to_date"])
    events = _events(query, request)
    limit = _limit(query, request, max_limit)
    if (query.get("where") or "").strip():
        raise ExportRequestError(EXPORT_WHERE_UNSUPPORTED, request)
    return ExportQuery(query["from_date"], query["to_date"], from_ms, to_ms, events, limit,
                       (query.get("time_in_ms") or "").strip().lower() in _TRUE)


def exported_event(row: Row, *, time_in_ms: bool, ingest_properties: bool) -> dict[str, Any]:
    """One stored row as the raw export shows it."""
    properties = dict(row.properties)
    properties.pop("token", None)  # read to pick the project, not kept as a property
    properties["time"] = row.time_ms if time_in_ms else row.time_ms // 1000
    properties["distinct_id"] = row.distinct_id
    properties["$insert_id"] = row.insert_id
    meta = row.meta
    received_ms = meta.received_ms if meta is not None else 0
    if ingest_properties and meta is not None:
        if meta.endpoint == "import":
            properties["$import"] = True
        if meta.host:
            properties["$mp_api_endpoint"] = _host_name(meta.host)
        properties["$mp_api_timestamp_ms"] = received_ms
    properties["mp_processing_time_ms"] = received_ms
    return {"event": row.event, "properties": properties}


def _host_name(host: str) -> str:
    """The Host header without its port (`api.mixpanel.com:443` → `api.mixpanel.com`, `[::1]:80` → `[::1]`)."""
    if host.startswith("["):
        return host.partition("]")[0] + "]"
    return host.partition(":")[0]


def _line(event: dict[str, Any]) -> bytes:
    try:
        return orjson.dumps(event) + b"\n"
    except orjson.JSONEncodeError:  # lone surrogates (V11) or integers past 64 bits: the escaping encoder
        return answers.dumps(event) + b"\n"


def export_lines(rows: list[bytes], length: int, decode: Callable[[bytes], Row], project_id: int, q: ExportQuery,
                 *, ingest_properties: bool) -> Iterator[bytes]:
    """The first `length` (encoded) rows that match, as chunks of JSON lines (lazily: a chunk at a time)."""
    events, limit = q.events, q.limit
    from_ms, to_ms, time_in_ms = q.from_ms, q.to_ms, q.time_in_ms
    chunk: list[bytes] = []
    size = sent = 0
    for blob in islice(rows, length):
        row = decode(blob)
        if row.project_id != project_id or row.dropped is not None or not from_ms <= row.time_ms < to_ms:
            continue
        if events is not None and row.event not in events:
            continue
        line = _line(exported_event(row, time_in_ms=time_in_ms, ingest_properties=ingest_properties))
        chunk.append(line)
        size += len(line)
        sent += 1
        if size >= CHUNK_BYTES:
            yield b"".join(chunk)
            chunk, size = [], 0
        if limit is not None and sent >= limit:
            break
    if chunk:
        yield b"".join(chunk)


def _accepts_gzip(header: str | None) -> bool:
    for item in (header or "").lower().split(","):
        coding, _, params = item.strip().partition(";")
        if coding.strip() == "gzip" and params.replace(" ", "") not in ("q=0", "q=0.0"):
            return True
    return False


def gzip_when_large(lines: Iterator[bytes]) -> tuple[Iterator[bytes], bool]:
    """(chunks, compressed): gzip-compressed as they come once the answer passes GZIP_MIN_BYTES, else plain."""
    head: list[bytes] = []
    size = 0
    for chunk in lines:
        head.append(chunk)
        size += len(chunk)
        if size > GZIP_MIN_BYTES:
            break
    if size <= GZIP_MIN_BYTES:
        return iter(head), False

    def compressed() -> Iterator[bytes]:
        encoder = zlib.compressobj(6, zlib.DEFLATED, 31)  # wbits 31: a gzip stream
        for chunk in head:
            if out := encoder.compress(chunk):
                yield out
        for chunk in lines:
            if out := encoder.compress(chunk):
                yield out
        yield encoder.flush()

    return compressed(), True


def handle_export(ctx: IngestContext, req: IngestRequest) -> ExportOutcome:
    cfg = ctx.config
    request = req.path
    out = ExportOutcome()
    authenticator = ImportAuthenticator(ctx.registry, observed=cfg.auth_error_detail == "observed")
    try:
        if cfg.auth_reject_plain_http and not req.secure:
            raise InvalidCredentials()
        auth = authenticator.authenticate(parse_authorization(req.header("authorization")), req.query.get("project_id"))
        if auth.method == "token":
            raise InvalidCredentials()  # the token is public: it authenticates ingestion, never a read
        if cfg.regions_enforce and not auth.project.served_in(req.region):
            raise InvalidCredentials()  # §2.1: the project does not exist in this region
    except InvalidCredentials as exc:
        out.answer = answers.api_error(exc)
        return out
    project = auth.project
    out.project_id, out.auth = project.project_id, auth.method
    try:
        q = parse_export_query(req.query, request, max_limit=cfg.export_max_limit)
        limited = ctx.export_limits.refuse(cfg, project.project_id, ctx.clock.now_ms(), request)
        if limited is not None:
            raise limited
    except ExportRequestError as exc:
        out.answer = answers.json_answer(exc.http_status, exc.body())
        return out
    out.window = [q.from_date, q.to_date]
    out.events = sorted(q.events) if q.events is not None else None
    out.limit = q.limit
    rows, length = ctx.store.raw_as_it_stands()
    lines = export_lines(rows, length, ctx.store.decode, project.project_id, q,
                         ingest_properties=cfg.export_add_ingest_properties)
    if _accepts_gzip(req.header("accept-encoding")):
        lines, compressed = gzip_when_large(lines)
        out.content_encoding = "gzip" if compressed else None
    out.lines = lines
    return out
