"""Custom event and purchase properties (currents-to-mixpanel.md N3-N6): decode the source `properties` and
add one prefixed Mixpanel key per top-level key.

Plain functions, called by the reference interpreter and by the compiled runners alike.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def decode_properties(raw: Any) -> dict[str, Any] | None:
    """The source `properties`: a JSON-encoded string (storage) or an object (Custom HTTP). None if bad (N5)."""
    if type(raw) is str:
        try:
            raw = orjson.loads(raw)
        except ValueError:
            try:  # orjson refuses a few inputs Python's json accepts (NaN, integers beyond 64 bits)
                raw = json.loads(raw)
            except (ValueError, RecursionError):
                return None
    return raw if type(raw) is dict else None


def _flatten(obj: dict[str, Any], prefix: str, out: dict[str, Any]) -> None:
    for key, value in obj.items():
        if type(value) is dict and value:
            _flatten(value, f"{prefix}{key}.", out)
        else:
            out[prefix + str(key)] = value


def expand_properties(raw: Any, prefix: str, props: dict[str, Any], nested_mode: str) -> bool:
    """N3/N4: add one `prefix + key` entry per top-level key of the source `properties` to `props`.

    Values per `nested_property_mode` (N3): `keep` as they are, `flatten` nested objects into dotted keys,
    `json_string` nested objects and arrays serialised. An absent (None) source adds nothing. Returns False
    when the source cannot be decoded into an object (N5: the caller warns or, strict, drops)."""
    if raw is None:
        return True
    decoded = decode_properties(raw)
    if decoded is None:
        return False
    try:
        if nested_mode == "flatten":
            flat: dict[str, Any] = {}
            _flatten(decoded, "", flat)
            decoded = flat
        elif nested_mode == "json_string":
            decoded = {
                k: (json.dumps(v, ensure_ascii=False) if type(v) is dict or type(v) is list else v)
                for k, v in decoded.items()
            }
    except (RecursionError, ValueError):  # nested beyond what can be flattened or serialised
        return False
    for key, value in decoded.items():
        out_key = prefix + (key if type(key) is str else str(key))
        if out_key not in props:  # N6: a standard or envelope key always wins
            props[out_key] = value
    return True
