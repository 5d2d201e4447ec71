"""What of a Mixpanel event is compared, and how: the dedup key, the properties that count, the diff.

The key is the one Mixpanel deduplicates on (mixpanel-ingestion.md §10; currents-to-mixpanel.md §10):
(`event`, `distinct_id`, `time`, `$insert_id`), with `time` normalised to milliseconds as Mixpanel does
(mixpanel-ingestion.md §5.6). The key properties are compared through the key, so they are left out of
the property comparison; so are the properties Mixpanel adds or consumes on ingestion (below).
"""

from __future__ import annotations

import math
from typing import Any

KEY_PROPERTIES = ("distinct_id", "time", "$insert_id")

# Added by Mixpanel on ingestion and seen in raw exports, never sent by the connector (issue 11;
# mixpanel-ingestion.md §5.11: `$import`, `$mp_api_endpoint`, `$mp_api_timestamp_ms`, `mp_processing_time_ms`).
ADDED_ON_INGESTION_PREFIXES = ("mp_", "$mp_")
ADDED_ON_INGESTION = frozenset({"$import"})
# Read by Mixpanel to pick the project and not kept as a property (E5's `token`): an export may or may not
# carry it, so it is compared on neither side.
CONSUMED_ON_INGESTION = frozenset({"token"})

_SKIPPED = frozenset(KEY_PROPERTIES) | ADDED_ON_INGESTION | CONSUMED_ON_INGESTION
MS_THRESHOLD = 100_000_000_000  # |t| >= 1e11 is milliseconds, else seconds (mixpanel-ingestion.md §5.6)


def is_compared(key: str) -> bool:
    """Whether a property takes part in the property comparison."""
    return key not in _SKIPPED and not key.startswith(ADDED_ON_INGESTION_PREFIXES)


def compared_properties(properties: dict[str, Any]) -> dict[str, Any]:
    """The properties that are compared, in a new dict (the key and ingestion properties left out).
    Once per event on both sides, so the test is inlined rather than a call of `is_compared` per key."""
    skipped = _SKIPPED
    prefixes = ADDED_ON_INGESTION_PREFIXES
    return {key: value for key, value in properties.items() if key not in skipped and not key.startswith(prefixes)}


def time_ms(value: Any) -> int | None:
    """A Mixpanel `time` (seconds or milliseconds, int or float) as integer milliseconds; None if not a time."""
    if type(value) is int:
        return value if abs(value) >= MS_THRESHOLD else value * 1000
    if type(value) is float and math.isfinite(value):
        return round(value) if abs(value) >= MS_THRESHOLD else round(value * 1000)
    return None


def values_equal(expected: Any, found: Any, tolerance: float) -> bool:
    """JSON values equal, floats within a relative `tolerance` (currents-to-mixpanel.md §1: Avro floats are
    single precision), recursively through arrays and objects; `True` never equals `1`."""
    if type(expected) is float or type(found) is float:
        if type(expected) not in (int, float) or type(found) not in (int, float):
            return False
        if expected == found:
            return True
        return math.isclose(expected, found, rel_tol=tolerance, abs_tol=0.0)
    if type(expected) is not type(found):
        return False
    if type(expected) is list:
        return len(expected) == len(found) and all(
            values_equal(e, f, tolerance) for e, f in zip(expected, found, strict=True))
    if type(expected) is dict:
        return expected.keys() == found.keys() and all(
            values_equal(expected[k], found[k], tolerance) for k in expected)
    return bool(expected == found)


ABSENT = {"absent": True}  # how a property missing on one side is shown in a difference


def property_differences(expected: dict[str, Any], found: dict[str, Any],
                         tolerance: float) -> dict[str, dict[str, Any]]:
    """Per differing compared property: `{"expected": ..., "found": ...}`; a side without the property shows
    as `{"absent": true}`. Empty when the two agree."""
    differences: dict[str, dict[str, Any]] = {}
    for key, value in expected.items():
        if not is_compared(key):
            continue
        if key not in found:
            differences[key] = {"expected": value, "found": ABSENT}
        elif not values_equal(value, found[key], tolerance):
            differences[key] = {"expected": value, "found": found[key]}
    for key, value in found.items():
        if key not in expected and is_compared(key):
            differences[key] = {"expected": ABSENT, "found": value}
    return dict(sorted(differences.items()))


def variant_differences(expected: list[dict[str, Any]], found: list[dict[str, Any]],
                        tolerance: float) -> dict[str, dict[str, Any]]:
    """The property variants of one dedup key on both sides, compared as sets: empty when every variant on
    each side has an equal one on the other, else the differences of the first unmatched variant against
    its closest counterpart (several copies of one key are rare; this is not a hot path)."""
    for ours, theirs in ((expected, found), (found, expected)):
        for variant in ours:
            if any(not property_differences(variant, other, tolerance) for other in theirs):
                continue
            if not theirs:
                return {}
            closest = min(theirs, key=lambda other: len(property_differences(variant, other, tolerance)))
            if ours is expected:
                return property_differences(variant, closest, tolerance)
            return property_differences(closest, variant, tolerance)
    return {}
