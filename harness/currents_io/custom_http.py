"""Any Currents record in the Custom HTTP shape (currents-to-mixpanel.md §1): what Braze's Custom HTTP
Current posts and what a system under test receives (DESIGN.md §3).

The inverse of `normalise_custom_http`: each field goes where the catalog says it sits in the Custom HTTP
shape (`SourceField.custom_http_path`), nulls are omitted as Braze omits them, and fields the catalog does
not know for the type travel under `properties`. A record already in that shape is returned as it is.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from harness.catalog import load_catalog
from harness.currents_io.normalise import TYPE_KEY, is_custom_http_event, normalise_record

_TOP_LEVEL = ("id", "time")
# Storage keeps these objects as JSON strings; the Custom HTTP shape carries them as objects (§1).
_PROPERTY_OBJECTS = frozenset({"custom_properties", "purchase_properties"})


@cache
def _layout(type_id: str) -> tuple[tuple[tuple[str, tuple[str, ...]], ...], frozenset[str]]:
    """(field name, Custom HTTP path) in catalog order, and every field name the type has in any shape."""
    event_type = load_catalog().get(type_id)
    if event_type is None:
        return (), frozenset()
    # A type Braze exports only to storage has no Custom HTTP sample: all its fields, where the rule puts them.
    fields = event_type.custom_http_fields or event_type.fields
    return tuple((f.name, f.custom_http_path) for f in fields), frozenset(f.name for f in event_type.fields)


def to_custom_http(record: Any, type_id: str | None = None) -> Any:
    """The Custom HTTP event of `record` (any shape the readers give). Non-objects are returned unchanged.

    Fields of the type that exist only in the storage shape are left out, as Braze's Custom HTTP Current
    does not send them; fields the catalog does not know travel under `properties`."""
    if type(record) is not dict or is_custom_http_event(record):
        return record
    flat = normalise_record(record, type_id)
    own_type = flat.get(TYPE_KEY)
    layout, known = _layout(own_type) if isinstance(own_type, str) else ((), frozenset())
    event: dict[str, Any] = {TYPE_KEY: own_type}
    user: dict[str, Any] = {}
    properties: dict[str, Any] = {}
    placed = [(path, flat.get(name)) for name, path in layout]
    placed += [((name,) if name in _TOP_LEVEL else ("properties", name), value) for name, value in flat.items()
               if name != TYPE_KEY and name not in known]
    for path, value in placed:
        if value is None:
            continue
        if len(path) == 1:
            event[path[0]] = value
        elif path[0] == "user":
            user[path[1]] = value
        else:
            if path[1] in _PROPERTY_OBJECTS and isinstance(value, str):
                value = _json_object_or_text(value)
            properties[path[1]] = value
    event["user"] = user
    event["properties"] = properties
    return event


def _json_object_or_text(text: str) -> Any:
    try:
        value = json.loads(text)
    except ValueError:
        return text  # left as sent: the mapping reports malformed property JSON (N5)
    return value if isinstance(value, dict) else text
