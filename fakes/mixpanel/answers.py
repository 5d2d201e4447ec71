"""Response encoding (mixpanel-ingestion.md §5.8, §5.9, §6–9): the exact bodies, compact JSON with keys
in the documented order, and the one-byte `1`/`0` plain answers. No Flask: an `Answer` is plain data the
wire turns into a response."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from .errors import (
    DATA_MISSING_OR_EMPTY,
    STRICT_VALIDATION_FAILED,
    ApiError,
    LookupValidationFailed,
    StrictValidationFailed,
)

JSON = "application/json"
PLAIN = "text/plain"
JAVASCRIPT = "text/javascript"
GIF = "image/gif"
# §6 img=1: a 1×1 transparent GIF.
TRANSPARENT_GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
_CALLBACK_NAME = re.compile(r"[A-Za-z_$][\w$.]{0,127}").fullmatch


def dumps(body: Any) -> bytes:
    """Compact JSON. ASCII-escaped so lone surrogates (V11 keys) stay encodable."""
    return json.dumps(body, separators=(",", ":")).encode("ascii")


@dataclass
class Answer:
    status: int
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)


def json_answer(status: int, body: Any) -> Answer:
    return Answer(status, dumps(body), JSON)


def api_error(error: ApiError, *, retry_after_s: float | None = None) -> Answer:
    """§4.3 / §5.2 / §5.8 / §9 whole-request errors. `Retry-After` only on a 429 when configured (§11)."""
    answer = json_answer(error.http_status, error.body())
    if retry_after_s is not None and error.http_status == 429:
        whole = float(retry_after_s).is_integer()
        answer.headers["Retry-After"] = str(int(retry_after_s)) if whole else str(retry_after_s)
    return answer


# --- /import strict (§5.8) -----------------------------------------------------------------------


def strict_ok(imported: int) -> Answer:
    return json_answer(200, {"code": 200, "num_records_imported": imported, "status": "OK"})


def strict_invalid(failed_records: list[Any], imported: int) -> Answer:
    error = StrictValidationFailed()
    return json_answer(error.http_status, error.answer_body(failed_records, imported))


# --- /import non-strict (§5.9) -------------------------------------------------------------------


def plain(ok: bool) -> Answer:
    """Exactly one byte, no newline (the Node SDK compares the body with "1")."""
    return Answer(200, b"1" if ok else b"0", PLAIN)


def nonstrict_imported(imported: int, verbose: bool) -> Answer:
    if not verbose:
        return plain(True)
    return json_answer(200, {"code": 200, "error": None, "num_records_imported": imported, "status": 1})


def nonstrict_nothing(verbose: bool) -> Answer:
    """No non-empty object in the data (2024 short form)."""
    if not verbose:
        return plain(False)
    return json_answer(200, {"error": DATA_MISSING_OR_EMPTY, "status": 0})


def nonstrict_none_valid(verbose: bool) -> Answer:
    """≥1 non-empty object, none valid (2023 hybrid)."""
    if not verbose:
        return plain(False)
    return json_answer(200, {"code": 200, "error": STRICT_VALIDATION_FAILED, "num_records_imported": 0, "status": 0})


# --- /track, /engage, /groups (§6–8) ---------------------------------------------------------------


def simple_status(ok: bool, error: str | None, *, verbose: bool, img: bool = False, callback: str | None = None,
                  num_good_events: int | None = None) -> Answer:
    """`1`/`0`, or verbose `{"error":null,"status":1}` / `{"error":"…","status":0}`; `img=1` a GIF,
    `callback=fn` JSONP around the body."""
    if img:
        return Answer(200, TRANSPARENT_GIF, GIF)
    if verbose:
        body: dict[str, Any] = {"error": None if ok else (error or DATA_MISSING_OR_EMPTY), "status": 1 if ok else 0}
        if num_good_events is not None:
            body["num_good_events"] = num_good_events
        payload = dumps(body)
        content_type = JSON
    else:
        payload = b"1" if ok else b"0"
        content_type = PLAIN
    if callback and _CALLBACK_NAME(callback):
        return Answer(200, callback.encode("ascii") + b"(" + payload + b")", JAVASCRIPT)
    return Answer(200, payload, content_type)


# --- /lookup-tables (§9) ---------------------------------------------------------------------------


def lookup_tables_listed(results: list[dict[str, Any]]) -> Answer:
    return json_answer(200, {"code": 200, "status": "OK", "results": results})


def lookup_table_replaced() -> Answer:
    return json_answer(200, {"code": 200, "status": "OK"})


def lookup_table_invalid(failed_records: list[dict[str, Any]]) -> Answer:
    error = LookupValidationFailed()
    return json_answer(error.http_status, error.answer_body(failed_records))
