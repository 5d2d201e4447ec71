"""The mapping settings of currents-to-mixpanel.md §11 (the keys that concern the mapping itself).

Every [HD] behaviour of the spec is a field here with the spec's default. Generator-only keys
(`canvas_dispatch_mode`, `push_open_before_send_rate`) belong to the generator, not to this object.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from harness.catalog import PROFILES

DEFAULT_TOKEN = "harness-token"  # DESIGN.md §4 default Mixpanel project token
DEFAULT_MAX_RECORD_BYTES = 900 * 1024  # E12
DEFAULT_FLOAT_TOLERANCE = 1e-6  # §1: relative tolerance for float comparisons in tests

_CHOICES: dict[str, tuple[str, ...]] = {
    "profile": PROFILES,
    "nested_property_mode": ("keep", "flatten", "json_string"),
    "null_policy": ("omit", "emit_null"),
    "drift_fields": ("forward", "drop"),
    "undocumented_types": ("skip", "export"),
    "line_rcs_event_names": ("printed", "prefixed"),
    "legacy_iam_casing": ("as_printed", "title"),
}


@dataclass(frozen=True)
class MappingConfig:
    """Settings of the reference mapping; immutable and hashable. Build variants with `.with_(key=value)`."""

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
    line_rcs_event_names: str = "printed"  # N7 [HD]
    trim_event_names: bool = False  # N7 [HD]
    empty_external_id_is_missing: bool = True  # E2 [HD]
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES  # E12 [HD]
    legacy_insert_id: bool = True  # §7.2 [HD]
    legacy_partner_id: bool = False  # §7.2 [HD]
    legacy_iam_casing: str = "as_printed"  # §7.3 [HD]
    float_tolerance: float = DEFAULT_FLOAT_TOLERANCE  # §1 (tests) [HD]
    # Compiled per-type plans, filled lazily by harness.mapping.plan; not part of equality or hashing.
    _plans: dict = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)
    # type id -> compiled flat runner: the hot path of `map_currents_event` (one dict lookup).
    _flat_runners: dict = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)
    # The same for storage-JSON records (unions maybe still wrapped) and Custom HTTP events.
    _storage_runners: dict = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)
    _http_runners: dict = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)

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
        if isinstance(self.max_record_bytes, bool) or not isinstance(self.max_record_bytes, int) or self.max_record_bytes <= 0:
            raise ValueError(f"max_record_bytes must be a positive integer (got {self.max_record_bytes!r})")
        if isinstance(self.float_tolerance, bool) or not isinstance(self.float_tolerance, (int, float)) or self.float_tolerance < 0:
            raise ValueError(f"float_tolerance must be a non-negative number (got {self.float_tolerance!r})")

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the settings only; compiled plans are rebuilt where the copy is used."""
        return self.as_dict()

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)
        object.__setattr__(self, "_plans", {})
        object.__setattr__(self, "_flat_runners", {})
        object.__setattr__(self, "_storage_runners", {})
        object.__setattr__(self, "_http_runners", {})

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
