"""What mapping one Currents record yields: a Mixpanel event, or the reason why there is none."""

from __future__ import annotations

from operator import itemgetter
from typing import Any

# Reasons a record produces no Mixpanel event (counted by MappingReport).
REASON_NO_EXTERNAL_USER_ID = "no_external_user_id"  # E2
REASON_NOT_EXPORTED = "not_exported"  # known type the profile/config does not export (§5, §7.2)
REASON_UNKNOWN_TYPE = "unknown_type"  # type id not in the catalog (tolerated, §1)
REASON_OVERSIZE = "oversize"  # E12
REASON_BAD_PROPERTIES_JSON = "bad_properties_json"  # N5 with strict_properties = true
REASON_INVALID_RECORD = "invalid_record"  # not an object, or no type id at all
REASONS: tuple[str, ...] = (
    REASON_NO_EXTERNAL_USER_ID,
    REASON_NOT_EXPORTED,
    REASON_UNKNOWN_TYPE,
    REASON_OVERSIZE,
    REASON_BAD_PROPERTIES_JSON,
    REASON_INVALID_RECORD,
)

# Warnings recorded on an event that is still emitted.
WARNING_BAD_PROPERTIES_JSON = "bad_properties_json"  # N5
WARNING_MISSING_REQUIRED = "missing_required:"  # P6, followed by the Mixpanel key
WARNING_UNKNOWN_FIELD = "unknown_field:"  # an input field the catalog does not know, followed by its name

NO_WARNINGS: tuple[str, ...] = ()


class MappingResult(tuple):
    """`event` is `{"event": name, "properties": {...}}` when mapped, else None and `reason` says why.

    A 4-tuple `(event, reason, type_id, warnings)` underneath, because creating one must cost next to
    nothing on the hot path; compare and unpack it like a tuple, read it through the named attributes.
    """

    __slots__ = ()

    def __new__(cls, event: dict[str, Any] | None, reason: str | None, type_id: str | None,
                warnings: tuple[str, ...] = NO_WARNINGS) -> MappingResult:
        return tuple.__new__(cls, (event, reason, type_id, warnings))

    event = property(itemgetter(0), doc="the Mixpanel event, or None")
    reason = property(itemgetter(1), doc="why there is no event (REASON_*), or None")
    type_id = property(itemgetter(2), doc="the Currents type id, when the record had one")
    warnings = property(itemgetter(3), doc="validation warnings of an emitted event")

    @property
    def mapped(self) -> bool:
        return self[0] is not None

    def __repr__(self) -> str:
        if self[0] is not None:
            return f"MappingResult(event={self[0]['event']!r}, type_id={self[2]!r}, warnings={self[3]!r})"
        return f"MappingResult(reason={self[1]!r}, type_id={self[2]!r}, warnings={self[3]!r})"
