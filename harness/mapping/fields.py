"""Braze-side fields as the mapping reads them off one input record (currents-to-mixpanel.md §1, E9, E12).

Shared by the reference interpreter and the compiled runners: which fields are never sent, which may hold
an Avro-JSON union wrapper, where the Custom HTTP shape puts each field, and a record's serialised size.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from harness.catalog import EventType

# E9: source fields never sent under any name (id/external_user_id/time feed the envelope instead).
NEVER_SENT_FIELDS = frozenset({
    "id", "external_user_id", "time", "user_id", "timezone", "canvas_step_message_variation_id",
    "canvas_step_message_variation_api_id", "app_group_api_id", "canvas_api_id", "canvas_variation_api_id",
    "canvas_step_api_id", "gender", "country", "language", "sdk_version", "carrier", "resolution",
})

# §1: the top-level keys of a Custom HTTP event; everything else sits under `user` or `properties`.
CUSTOM_HTTP_TOP_KEYS = frozenset({"event_type", "id", "time", "user", "properties"})

UNMEASURABLE_SIZE = 1 << 62  # a record too deeply nested to serialise: treated as oversize (E12)


def record_size(record: dict[str, Any]) -> int:
    """E12: serialised (compact JSON, UTF-8) size of a record in bytes. orjson makes this ~1 us."""
    try:
        return len(orjson.dumps(record))
    except (TypeError, orjson.JSONEncodeError):  # values orjson cannot hold (huge ints, deep nesting, ...)
        try:
            return len(json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8"))
        except (RecursionError, ValueError):
            return UNMEASURABLE_SIZE


def union_fields(event_type: EventType) -> frozenset[str]:
    """§1 storage JSON: the fields that may hold a union wrapper such as `{"string": "x"}` (nullable ones
    and string arrays)."""
    return frozenset(f.name for f in event_type.fields if f.nullable or f.type == "array<string>")


def unwrap_union(value: dict[str, Any]) -> Any:
    """`{"string": "x"}` -> "x"; `{"array": [{"string": "a"}, None]}` -> ["a", None]; other objects unchanged."""
    if len(value) != 1:
        return value
    for inner in value.values():
        if type(inner) is list:
            return [unwrap_union(v) if type(v) is dict else v for v in inner]
        return inner


def custom_http_layout(event_type: EventType) -> tuple[frozenset[str], frozenset[str]]:
    """§1: the keys the Custom HTTP shape of this type holds under `user` and under `properties`."""
    user = frozenset(f.custom_http_path[1] for f in event_type.fields if f.custom_http_path[0] == "user")
    properties = frozenset(
        f.custom_http_path[1] for f in event_type.fields
        if len(f.custom_http_path) == 2 and f.custom_http_path[0] == "properties"
    )
    return user, properties


def in_custom_http_layout(event: dict[str, Any], event_type: EventType) -> bool:
    """True when every key of a Custom HTTP event sits where §1 puts it for this type (no unknown keys, no
    key in the wrong section, `properties` an object)."""
    user_keys, property_keys = custom_http_layout(event_type)
    properties = event.get("properties")
    return (
        type(properties) is dict
        and CUSTOM_HTTP_TOP_KEYS.issuperset(event)
        and user_keys.issuperset(event["user"])
        and property_keys.issuperset(properties)
    )
