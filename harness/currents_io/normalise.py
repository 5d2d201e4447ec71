"""Normalise one Currents record to the flat dictionary the mapping reads (currents-to-mixpanel.md §1).

The flat form: every Braze field at the top level under its own name, plus `event_type` holding the type id.
* Custom HTTP: `id`/`time`/`event_type` stay, `user.*` and `properties.*` are lifted, and
  `properties.custom_properties` / `properties.purchase_properties` become the field `properties` (an object).
* Storage JSON: single-key union wrappers such as `{"string": "x"}` are unwrapped (also inside arrays).
* Avro: fastavro already yields plain values; only the type id has to be added.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from harness.catalog import load_catalog

TYPE_KEY = "event_type"

# Branch names fastavro's JSON encoder and Avro's JSON encoding use for union values.
AVRO_UNION_BRANCHES = frozenset({"string", "int", "long", "float", "double", "boolean", "bytes", "array", "map",
                                 "null"})
_PROPERTY_OBJECTS = ("custom_properties", "purchase_properties")


def is_custom_http_event(record: Any) -> bool:
    """A Custom HTTP event carries its identity in a `user` object (§1)."""
    return type(record) is dict and type(record.get("user")) is dict


def normalise_custom_http(event: dict[str, Any]) -> dict[str, Any]:
    """Flatten one Custom HTTP event. Keys other than `user`/`properties` are kept (unknown ones included)."""
    flat = {k: v for k, v in event.items() if k != "user" and k != "properties"}
    user = event.get("user")
    if type(user) is dict:
        flat.update(user)
    props = event.get("properties")
    if type(props) is dict:
        for key, value in props.items():
            if key in _PROPERTY_OBJECTS:
                flat["properties"] = value
            else:
                flat[key] = value
    elif props is not None:
        flat["properties"] = props
    return flat


def _unwrap(value: Any) -> Any:
    if type(value) is dict and len(value) == 1:
        ((branch, inner),) = value.items()
        if branch in AVRO_UNION_BRANCHES or "." in branch:  # named types use their full name
            value = inner
    if type(value) is list:
        return [_unwrap(v) for v in value]
    return value


@cache
def _union_fields(type_id: str) -> frozenset[str] | None:
    event_type = load_catalog().get(type_id)
    if event_type is None:
        return None
    return frozenset(f.name for f in event_type.storage_fields if f.nullable or f.type == "array<string>")


def unwrap_storage_json(record: dict[str, Any], type_id: str | None = None) -> dict[str, Any]:
    """Unwrap Avro-JSON unions. For a known type only its union fields are unwrapped (a JSON object held by
    a plain field is left alone); for an unknown type every single-key wrapper object is unwrapped.
    A record without any object or array value is returned as is (no copy)."""
    value_types = set(map(type, record.values()))
    if dict not in value_types and list not in value_types:
        return record
    union_fields = _union_fields(type_id) if type_id else None
    if union_fields is None:
        return {key: _unwrap(value) for key, value in record.items()}
    out = {}
    for key, value in record.items():
        if key in union_fields:
            if type(value) is dict and len(value) == 1:
                (value,) = value.values()  # the one branch's value
            if type(value) is list:
                value = [_unwrap(v) for v in value]
        out[key] = value
    return out


def normalise_storage_record(record: dict[str, Any], type_id: str | None) -> dict[str, Any]:
    """A storage-JSON record (wrapped unions, no type inside) -> flat form with `event_type`."""
    own_type = record.get(TYPE_KEY)
    type_id = own_type if own_type is not None else type_id  # the record's own type wins over a hint
    flat = unwrap_storage_json(record, type_id if isinstance(type_id, str) else None)
    if type_id is not None and own_type != type_id:
        if flat is record:
            flat = dict(record)
        flat[TYPE_KEY] = type_id
    return flat


def normalise_record(record: Any, type_id: str | None = None) -> Any:
    """Any shape -> flat form. Custom HTTP is recognised by its `user` object; anything else is treated as a
    storage/flat record whose type is its own `event_type`, else `type_id` (a hint, e.g. from a file name).
    Non-objects are returned unchanged (the mapping reports them as invalid)."""
    if type(record) is not dict:
        return record
    if is_custom_http_event(record):
        flat = normalise_custom_http(record)
        if type_id and TYPE_KEY not in flat:
            flat[TYPE_KEY] = type_id
        return flat
    return normalise_storage_record(record, type_id)
