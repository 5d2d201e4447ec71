"""How the event store keeps a row: one compact JSON array (bytes), decoded into a `Row` only when read.

A decoded `Row` with its dicts takes about 4.7 times the event's JSON; the encoded form is about the JSON
itself plus a small header, and it is also what `--state-dir` writes and reads back, byte for byte.

    [seq, project_id, meta, event, distinct_id, time_ms, insert_id, generated, dropped, quarantine,
     properties, raw_properties]

`distinct_id` / `insert_id` are null when they equal `properties["distinct_id"]` / `["$insert_id"]`, and
`raw_properties` is null when it is the same object as `properties` (nothing was normalised).
`check_encoded` validates a row read from a file, field by field, with a message naming what is wrong.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from .row import RequestMeta, Row

_DUMPS = orjson.dumps
_LOADS = orjson.loads
FIELDS = 12


def encode_row(row: Row, meta_index: int) -> bytes:
    props = row.properties
    distinct = None if props.get("distinct_id") == row.distinct_id else row.distinct_id
    insert = None if props.get("$insert_id") == row.insert_id else row.insert_id
    raw = None if row.raw_properties is props else row.raw_properties
    item = [row.seq, row.project_id, meta_index, row.event, distinct, row.time_ms, insert,
            1 if row.insert_id_generated else 0, row.dropped, row.quarantine, props, raw]
    try:
        # orjson hands back its whole write buffer (4 KB for a small row); a copy keeps only the row
        return memoryview(_DUMPS(item)).tobytes()
    except (TypeError, orjson.JSONEncodeError):  # lone surrogates or big integers: the standard library copes
        return json.dumps(item, separators=(",", ":")).encode("ascii")


def decode_row(blob: bytes, metas: list[RequestMeta]) -> Row:
    (seq, project_id, meta_index, event, distinct, time_ms, insert, generated, dropped, quarantine, props,
     raw) = _loads(blob)
    row = Row(project_id, event, props["distinct_id"] if distinct is None else distinct, time_ms,
              props["$insert_id"] if insert is None else insert, bool(generated), props,
              props if raw is None else raw, dropped, quarantine)
    row.seq = seq
    row.meta = metas[meta_index] if 0 <= meta_index < len(metas) else None
    return row


def _loads(blob: bytes) -> Any:
    try:
        return _LOADS(blob)
    except orjson.JSONDecodeError:
        return json.loads(blob)  # what the standard library wrote (lone surrogates)


def row_key(item: list[Any]) -> tuple[Any, ...]:
    """The §10 dedup key (project, event, distinct_id, time ms, `$insert_id`) of a decoded row."""
    props = item[10]
    return (item[1], item[3], props["distinct_id"] if item[4] is None else item[4], item[5],
            props["$insert_id"] if item[6] is None else item[6])


def key_of(blob: bytes) -> tuple[Any, ...]:
    return row_key(_loads(blob))


def check_encoded(blob: bytes, n_metas: int) -> list[Any]:
    """The decoded row, or ValueError saying which field is wrong."""
    try:
        item = _loads(blob)
    except (ValueError, RecursionError):
        raise ValueError("not a JSON row") from None
    if type(item) is not list or len(item) != FIELDS:
        raise ValueError(f"not a row of {FIELDS} fields")
    seq, project_id, meta, event, distinct, time_ms, insert, generated, dropped, quarantine, props, raw = item
    where = f"row {seq!r}"
    if type(seq) is not int or seq < 1:
        raise ValueError(f"{where}: seq must be a positive integer")
    if project_id is not None and type(project_id) is not int:
        raise ValueError(f"{where}: project_id must be an integer or null")
    if type(meta) is not int or not 0 <= meta < n_metas:
        raise ValueError(f"{where}: meta must name one of the {n_metas} request records")
    if type(event) is not str:
        raise ValueError(f"{where}: event must be a string")
    if type(props) is not dict:
        raise ValueError(f"{where}: properties must be an object")
    if raw is not None and type(raw) is not dict:
        raise ValueError(f"{where}: raw_properties must be an object or null")
    if type(distinct if distinct is not None else props.get("distinct_id")) is not str:
        raise ValueError(f"{where}: distinct_id must be a string")
    if type(insert if insert is not None else props.get("$insert_id")) is not str:
        raise ValueError(f"{where}: insert_id must be a string")
    if type(time_ms) is not int:
        raise ValueError(f"{where}: time_ms must be an integer")
    if generated not in (0, 1) or type(generated) is not int:
        raise ValueError(f"{where}: generated must be 0 or 1")
    if dropped is not None and type(dropped) is not str:
        raise ValueError(f"{where}: dropped must be a string or null")
    if quarantine is not None and type(quarantine) is not str:
        raise ValueError(f"{where}: quarantine must be a string or null")
    return item


def check_rows(rows: list[bytes], first_seq: int, n_metas: int) -> list[list[Any]]:
    """Decode and check consecutive rows at once (a restart's hot loop); ValueError names the first bad one."""
    try:
        items = _LOADS(b"[" + b",".join(rows) + b"]")
    except orjson.JSONDecodeError:
        items = None
    if type(items) is not list or len(items) != len(rows):  # a bad row, or one of the stdlib's (surrogates)
        items = [check_encoded(blob, n_metas) for blob in rows]
    seq = first_seq
    for index, item in enumerate(items):
        if type(item) is list and len(item) == FIELDS:
            s, pid, meta, event, distinct, time_ms, insert, gen, dropped, quarantine, props, raw = item
            if (s == seq and type(s) is int and (pid is None or type(pid) is int) and type(meta) is int
                    and 0 <= meta < n_metas and type(event) is str and type(props) is dict
                    and (raw is None or type(raw) is dict) and type(time_ms) is int and type(gen) is int
                    and (gen == 0 or gen == 1) and (dropped is None or type(dropped) is str)
                    and (quarantine is None or type(quarantine) is str)
                    and type(distinct if distinct is not None else props.get("distinct_id")) is str
                    and type(insert if insert is not None else props.get("$insert_id")) is str):
                seq += 1
                continue
        item = check_encoded(rows[index], n_metas)  # raises, naming the field
        raise ValueError(f"row {item[0]}: out of order (expected seq {seq})")
    return items


def meta_fields(meta: RequestMeta) -> list[Any]:
    return [meta.request_id, meta.endpoint, meta.region, meta.received_ms, meta.dialect, meta.user_agent, meta.host]


def meta_from_fields(fields: Any, where: str) -> RequestMeta:
    if type(fields) is not list or len(fields) != 7:
        raise ValueError(f"{where}: a request record must have 7 fields")
    request_id, endpoint, region, received_ms, dialect, user_agent, host = fields
    if not all(type(v) is str for v in (request_id, endpoint, region, dialect, user_agent, host)):
        raise ValueError(f"{where}: request_id, endpoint, region, dialect, user_agent and host must be strings")
    if type(received_ms) is not int:
        raise ValueError(f"{where}: received_ms must be an integer")
    return RequestMeta(request_id, endpoint, region, received_ms, dialect, user_agent, host)
