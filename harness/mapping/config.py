"""The mapping settings of currents-to-mixpanel.md §11 (the keys that concern the mapping itself).

Every [HD] behaviour of the spec is a field here with the spec's default. Generator-only keys
(`canvas_dispatch_mode`, `push_open_before_send_rate`) belong to the generator, not to this object.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from harness.catalog import EXPORT_SETS, PROFILES

DEFAULT_TOKEN = "harness-token"  # DESIGN.md §4 default Mixpanel project token
DEFAULT_MAX_RECORD_BYTES = 900 * 1024  # E12
DEFAULT_FLOAT_TOLERANCE = 1e-6  # §1: relative tolerance for float comparisons in tests

_CHOICES: dict[str, tuple[str, ...]] = {
    "profile": PROFILES,
    "nested_property_mode": ("keep", "flatten", "json_string"),
    "null_policy": ("omit", "emit_null"),
    "drift_fields": ("forward", "drop"),
    "undocumented_types": ("skip", "export"),
    "export_set": EXPORT_SETS,
    "line_rcs_event_names": ("printed", "prefixed"),
    "legacy_iam_casing": ("as_printed", "title"),
}


@dataclass(frozen=True)
class MappingConfig:
    """Settings of the reference mapping; immutable and hashable. Build variants with `.with_(key=value)`.

    Plain settings only: what is compiled for a config lives in a `harness.mapping.cache.PlanCache`."""

    profile: str = "current"  # §5 / §7
    token: str = DEFAULT_TOKEN  # E5 (the spec requires one; the harness defaults to its fake's token)
    custom_event_prefix: str = "[Braze Custom Event]"  # N2
    custom_event_property_prefix: str = "[Custom event property]"  # N3
    purchase_property_prefix: str = "[Purchase property]"  # N4
    prefix_separator: str = " "  # N2-N4 [HD]
    nested_property_mode: str = "keep"  # N3 [HD]
    strict_properties: bool = False  # N5 [HD]
    null_policy: str = "omit"  # P2 [HD]
    drift_fields: str = "forward"  # P5 [HD]
    undocumented_types: str = "skip"  # §5 summary [HD]
    export_set: str = "glossary"  # §5 summary [HD]: `partner_page` exports only the partner page's 55 types
    line_rcs_event_names: str = "printed"  # N7 [HD]
    trim_event_names: bool = False  # N7 [HD]
    empty_external_id_is_missing: bool = True  # E2 [HD]
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES  # E12 [HD]
    legacy_insert_id: bool = True  # §7.2 [HD]
    legacy_partner_id: bool = False  # §7.2 [HD]
    legacy_iam_casing: str = "as_printed"  # §7.3 [HD]
    float_tolerance: float = DEFAULT_FLOAT_TOLERANCE  # §1 (tests) [HD]

    def __post_init__(self) -> None:
        for name, choices in _CHOICES.items():
            value = getattr(self, name)
            if value not in choices:
                raise ValueError(f"{name} must be one of {', '.join(choices)} (got {value!r})")
        for name in ("token", "custom_event_prefix", "custom_event_property_prefix", "purchase_property_prefix",
                     "prefix_separator"):
            if not isinstance(getattr(self, name), str):
                raise ValueError(f"{name} must be a string (got {getattr(self, name)!r})")
        for name in ("strict_properties", "trim_event_names", "empty_external_id_is_missing", "legacy_insert_id",
                     "legacy_partner_id"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be true or false (got {getattr(self, name)!r})")
        max_bytes = self.max_record_bytes
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes <= 0:
            raise ValueError(f"max_record_bytes must be a positive integer (got {self.max_record_bytes!r})")
        tolerance = self.float_tolerance
        if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or tolerance < 0:
            raise ValueError(f"float_tolerance must be a non-negative number (got {self.float_tolerance!r})")

    def with_(self, **changes: Any) -> MappingConfig:
        """A copy with some settings changed (validated)."""
        return replace(self, **changes)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> MappingConfig:
        """Build from a dict such as a scenario's `mapping:` block; unknown keys are an error."""
        known = {f.name for f in fields(cls) if f.init}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown mapping setting(s): {', '.join(unknown)}")
        return cls(**dict(values))

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.init}


DEFAULT_CONFIG = MappingConfig()
