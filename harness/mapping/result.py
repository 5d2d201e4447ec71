"""What mapping one Currents record yields: a Mixpanel event, or the reason why there is none."""

from __future__ import annotations

from typing import Any, NamedTuple

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


class MappingResult(NamedTuple):
    """`event` is `{"event": name, "properties": {...}}` when mapped, else None and `reason` says why.

    A NamedTuple because creating one must cost next to nothing on the hot path (the compiled runners build
    it with `tuple.__new__`); read it by name, never by position.
    """

    event: dict[str, Any] | None  # the Mixpanel event, or None
    reason: str | None  # why there is no event (REASON_*), or None
    type_id: str | None  # the Currents type id, when the record had one
    warnings: tuple[str, ...] = NO_WARNINGS  # validation warnings of an emitted event

    @property
    def mapped(self) -> bool:
        return self.event is not None

    def __repr__(self) -> str:
        if self.event is not None:
            # `.event` is the whole Mixpanel event (a dict); its properties are many, so they are counted
            properties = self.event.get("properties")
            shown = f"{{...{len(properties)} properties}}" if isinstance(properties, dict) else repr(properties)
            event = f"{{'event': {self.event.get('event')!r}, 'properties': {shown}}}"
            return f"MappingResult(event={event}, type_id={self.type_id!r}, warnings={self.warnings!r})"
        return f"MappingResult(reason={self.reason!r}, type_id={self.type_id!r}, warnings={self.warnings!r})"
