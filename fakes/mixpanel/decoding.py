"""Request decoding for every ingestion endpoint (mixpanel-ingestion.md §3).

Plain Python over bytes and pairs, no Flask: bounded body reading with streamed decompression (R6–R8),
parameter merging (R1), dialect detection (R3), `data` decoding (R4–R5), strict JSON (R9–R10) and
flags (R11).
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, BinaryIO
from urllib.parse import parse_qsl

import orjson

CHUNK = 65536
GZIP_ENCODINGS = frozenset({"gzip", "x-gzip"})
IDENTITY_ENCODINGS = frozenset({"", "identity"})
# R1: the parameters that may come from the query string or a form body.
MERGED_PARAMS = ("data", "verbose", "ip", "strict", "project_id", "api_key", "callback", "img", "test")
_BOM = b"\xef\xbb\xbf"


class NotJson:
    """Placeholder for one NDJSON line that does not parse (§5.4 V1: only that line fails)."""

    __slots__ = ("line",)

    def __init__(self, line: bytes) -> None:
        self.line = line

    def __repr__(self) -> str:
        return f"NotJson({self.line[:40]!r})"


@dataclass
class RawBody:
    """The request body after reading and decompression, never more than `limit + 1` bytes kept."""

    data: bytes = b""
    wire_bytes: int = 0
    too_large: bool = False
    # "unsupported" (R8) or "bad_gzip"/"bad_deflate" (corrupt stream) or "gzip_refused" (R6 on /engage)
    encoding_problem: str | None = None
    encoding: str = ""


def normalise_media_type(value: str | None) -> str:
    """R2: case-insensitive, whitespace trimmed, parameters ignored."""
    if not value:
        return ""
    return value.split(";", 1)[0].strip().lower()


def _drain(stream: BinaryIO, first: bytes = b"") -> int:
    n = len(first)
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            return n
        n += len(chunk)


def read_bytes(body: bytes, content_encoding: str | None, limit: int, *, decode_gzip: bool = True,
               extra_encodings: Iterable[str] = ()) -> RawBody:
    """`read_body` over bytes already in memory; an unencoded body within the limit is used as is."""
    encoding = (content_encoding or "").strip().lower()
    # A shortcut only: `<` here instead of `<=` is an equivalent change (a body of exactly `limit` bytes
    # then goes through `read_body`, which keeps it whole as well).
    if encoding in IDENTITY_ENCODINGS and len(body) <= limit:
        return RawBody(data=body, wire_bytes=len(body), encoding=encoding)
    return read_body(io.BytesIO(body), content_encoding, limit, decode_gzip=decode_gzip,
                     extra_encodings=extra_encodings)


def read_body(stream: BinaryIO | None, content_encoding: str | None, limit: int, *,
              decode_gzip: bool = True, extra_encodings: Iterable[str] = ()) -> RawBody:
    """Read the whole request body (always: pipelined requests depend on it, §2.3) keeping at most
    `limit + 1` decompressed bytes. A gzip bomb is inflated at most that far (R7)."""
    encoding = (content_encoding or "").strip().lower()
    out = RawBody(encoding=encoding)
    if stream is None:
        return out
    wbits: int | None = None
    if encoding in GZIP_ENCODINGS:
        if decode_gzip:
            wbits = 16 + zlib.MAX_WBITS
        else:
            out.encoding_problem = "gzip_refused"
    elif encoding not in IDENTITY_ENCODINGS:
        if encoding == "deflate" and "deflate" in set(extra_encodings):
            wbits = zlib.MAX_WBITS
        else:
            out.encoding_problem = "unsupported"
    decompressor = zlib.decompressobj(wbits) if wbits is not None else None
    member_wbits = wbits if wbits is not None else zlib.MAX_WBITS  # for a further gzip member
    cap = limit + 1
    parts: list[bytes] = []
    kept = 0
    wire = 0
    stop = False  # nothing more is kept (too large or corrupt), but the stream is still drained
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            break
        wire += len(chunk)
        if stop:
            continue
        if decompressor is None:
            parts.append(chunk[: cap - kept])
            kept += len(parts[-1])
        else:
            buf = chunk
            try:
                while buf:
                    piece = decompressor.decompress(buf, cap - kept)  # cap - kept >= 1 here
                    parts.append(piece)
                    kept += len(piece)
                    if kept > limit:
                        break
                    if decompressor.eof:  # a further gzip member may follow
                        buf = decompressor.unused_data
                        if buf:
                            decompressor = zlib.decompressobj(member_wbits)
                    else:
                        buf = decompressor.unconsumed_tail
            except zlib.error:
                out.encoding_problem = "bad_gzip" if wbits != zlib.MAX_WBITS else "bad_deflate"
                stop = True
        if kept > limit:
            out.too_large = True
            stop = True
    if decompressor is not None and not stop and wire and not decompressor.eof:
        out.encoding_problem = "bad_gzip" if wbits != zlib.MAX_WBITS else "bad_deflate"
    out.wire_bytes = wire
    if not out.too_large and out.encoding_problem is None:
        out.data = b"".join(parts)
    return out


# --- R1 parameters ------------------------------------------------------------------------------


@dataclass
class Params:
    """Merged query + form parameters; `conflicts` lists names given in both with different values."""

    values: dict[str, str] = field(default_factory=dict)
    conflicts: dict[str, tuple[str, str]] = field(default_factory=dict)

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.values.get(name, default)


def parse_form(text: str) -> dict[str, str]:
    """urlencoded pairs; the first value of a repeated name wins (as Flask's `request.form[...]`)."""
    out: dict[str, str] = {}
    for key, value in parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="surrogateescape"):
        out.setdefault(key, value)
    return out


def merge_params(query: dict[str, str], form: dict[str, str]) -> Params:
    """R1: both sources merged; on conflict the query wins and both values are recorded."""
    params = Params(dict(form))
    for key, value in query.items():
        if key in form and form[key] != value:
            params.conflicts[key] = (value, form[key])
        params.values[key] = value
    return params


def flag_on(value: str | None, on: Iterable[str] = ("1",)) -> bool:
    """R11: `verbose` is on for `decode.verbose_on`; `strict` and `ip` only for `1`."""
    return value is not None and value.strip() in on


# --- R9/R10 strict JSON -------------------------------------------------------------------------


class JsonRejected(ValueError):
    """The text is not acceptable JSON (syntax, NaN/Infinity, absurd nesting)."""


def _reject_constant(name: str) -> Any:
    raise JsonRejected(f"non-standard JSON token {name}")


_decoder = json.JSONDecoder(parse_constant=_reject_constant)
_decode_str = _decoder.decode
_orjson_loads = orjson.loads
_OrjsonError = orjson.JSONDecodeError


def _loads_stdlib(data: bytes | str) -> Any:
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("utf-8", "surrogateescape")
    else:
        text = data
    try:
        return _decode_str(text)
    except (ValueError, RecursionError) as exc:
        raise JsonRejected(str(exc)[:200]) from None


def loads_checked(data: bytes | str) -> tuple[Any, bool]:
    """(value, may hold invalid UTF-8). R9: standard JSON only (no NaN/Infinity), duplicate keys
    last-wins, a UTF-8 BOM stripped. R10: invalid UTF-8 bytes and lone surrogates are kept (surrogate
    escapes), to be flagged per string by V11.

    orjson reads valid input (about twice as fast); anything it refuses (invalid UTF-8, lone surrogates,
    syntax errors, NaN) is re-read by the standard parser, which decides. orjson reads integers beyond
    64 bits as floats, as Mixpanel stores numbers (doubles)."""
    if isinstance(data, bytes):
        if data.startswith(_BOM):
            data = data[3:]
    elif data.startswith("\ufeff"):
        data = data[1:]
    try:
        return _orjson_loads(data), False
    except _OrjsonError:
        return _loads_stdlib(data), True


def loads(data: bytes | str) -> Any:
    return loads_checked(data)[0]


def may_hold_invalid_utf8(data: bytes) -> bool:
    """Cheap whole-body test so V11 walks strings only when a bad one can exist (R10)."""
    if b"\\ud" in data or b"\\uD" in data:
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


# Nesting beyond this is refused wherever it could be stored (profiles) or journalled: Python's own
# recursion (JSON encoder, masking) would fail on it. Far above any real payload.
MAX_SAFE_DEPTH = 64


def deeper_than(value: Any, limit: int) -> bool:
    """True when `value` nests containers more than `limit` levels deep (iterative: safe at any depth)."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        children: Iterable[Any]
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth >= limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def shallow_copy(value: Any, depth: int = 8) -> Any:
    """A copy for display with containers below `depth` levels replaced by a marker (for the journal)."""
    if isinstance(value, dict):
        if depth <= 0:
            return "…(nested deeper)"
        return {k: shallow_copy(v, depth - 1) for k, v in value.items()}
    if isinstance(value, list):
        if depth <= 0:
            return "…(nested deeper)"
        return [shallow_copy(v, depth - 1) for v in value]
    return value


# --- R3/R4/R5 dialects --------------------------------------------------------------------------

DIALECT_FORM = "form"
DIALECT_ARRAY = "json-array"
DIALECT_OBJECT = "json-object"
DIALECT_NDJSON = "ndjson"
DIALECT_QUERY = "query"
DIALECT_NONE = "none"


@dataclass
class DecodedData:
    """The records of one request. `records is None` means nothing usable (V1 whole-request)."""

    records: list[Any] | None
    dialect: str
    data_encoding: str = ""  # "json" | "base64" for form/query `data`
    maybe_bad_utf8: bool = False
    problem: str | None = None


def decode_base64(value: str, strict: bool = False) -> bytes | None:
    """R4: a space is a `+` (Node posts unencoded base64); URL-safe letters and missing padding are
    accepted unless `decode.strict_base64`."""
    text = value.replace(" ", "+").strip()
    if strict:
        if len(text) % 4:
            return None
    else:
        text = text.replace("-", "+").replace("_", "/")
        text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def _as_records(value: Any) -> list[Any] | None:
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return [value]
    return None


def decode_data_value(value: str, strict_base64: bool = False) -> DecodedData:
    """R4/R5: the `data` parameter holds raw JSON (first non-blank `{`/`[`) or base64 JSON."""
    stripped = value.lstrip()
    if stripped[:1] in ("{", "["):
        raw = stripped.encode("utf-8", "surrogateescape")
        encoding = "json"
    else:
        decoded = decode_base64(value, strict_base64)
        if decoded is None:
            return DecodedData(None, "", "base64", problem="invalid base64")
        raw = decoded
        encoding = "base64"
    try:
        parsed, maybe_bad = loads_checked(raw)
    except JsonRejected as exc:
        return DecodedData(None, "", encoding, problem=f"invalid JSON: {exc}")
    records = _as_records(parsed)
    if records is None:
        return DecodedData(None, "", encoding, problem="data is neither an object nor an array")
    return DecodedData(records, "", encoding, maybe_bad_utf8=maybe_bad)


def _ndjson(body: bytes) -> tuple[list[Any], bool]:
    records: list[Any] = []
    maybe_bad = False
    for line in body.split(b"\n"):
        if not line.strip():
            continue
        try:
            value, bad = loads_checked(line)
            records.append(value)
            maybe_bad = maybe_bad or bad
        except JsonRejected:
            records.append(NotJson(line))
            maybe_bad = True
    return records, maybe_bad


def decode_records(body: bytes, media_type: str, query: dict[str, str], form: dict[str, str] | None,
                   strict_base64: bool = False) -> DecodedData:
    """R3: form → JSON array → JSON object or NDJSON → query `data`. `form` is the parsed form body
    (the caller parses it once, for R1 too)."""
    stripped = body.lstrip()
    if form is not None:
        value = query.get("data", form.get("data"))  # R1: the query wins
        if value is None:
            return DecodedData(None, DIALECT_FORM, problem="no data parameter")
        decoded = decode_data_value(value, strict_base64)
        decoded.dialect = DIALECT_FORM
        return decoded
    if not stripped:
        value = query.get("data")
        if value is None:
            return DecodedData(None, DIALECT_NONE, problem="empty body")
        decoded = decode_data_value(value, strict_base64)
        decoded.dialect = DIALECT_QUERY
        return decoded
    first = stripped[:1]
    if first == b"[":
        try:
            parsed, maybe_bad = loads_checked(body)
        except JsonRejected as exc:
            return DecodedData(None, DIALECT_ARRAY, problem=f"invalid JSON: {exc}")
        if not isinstance(parsed, list):
            return DecodedData(None, DIALECT_ARRAY, problem="not an array")
        return DecodedData(parsed, DIALECT_ARRAY, maybe_bad_utf8=maybe_bad)
    if first == b"{":
        try:
            parsed, maybe_bad = loads_checked(body)
        except JsonRejected:
            records, maybe_bad = _ndjson(body)
            return DecodedData(records, DIALECT_NDJSON, maybe_bad_utf8=maybe_bad)
        return DecodedData([parsed], DIALECT_OBJECT, maybe_bad_utf8=maybe_bad)
    return DecodedData(None, DIALECT_NONE, problem="body is neither form, JSON nor NDJSON")


def is_form_body(body: bytes, media_type: str) -> bool:
    """R3 (a): the form media type, or a body that starts with `data=`."""
    return media_type == "application/x-www-form-urlencoded" or body.lstrip()[:5] == b"data="
