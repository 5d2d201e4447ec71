"""The reference Currents -> Mixpanel mapping (currents-to-mixpanel.md §2-§7, §11), driven by the catalog.

    from harness.mapping import map_currents_event, MappingConfig, MappingReport

    config = MappingConfig(profile="current", token="harness-token")    # §11 keys; .with_(...) for variants
    result = map_currents_event(record, config)    # record: flat (normalised) or Custom HTTP event
    result.mapped / result.event ({"event": ..., "properties": {...}}) / result.reason / result.warnings
    events = map_currents_events(records, config, report=MappingReport())   # many at once (oracle view)

Reasons (`result.reason` when not mapped): `no_external_user_id`, `not_exported`, `unknown_type`, `oversize`,
`bad_properties_json` (strict mode only), `invalid_record`. Warnings: `bad_properties_json`,
`missing_required:<key>`, `unknown_field:<name>`.

Plans are compiled once per (type, config) and cached on the config object (`harness.mapping.plan`).
"""

from harness.mapping.config import DEFAULT_CONFIG, DEFAULT_MAX_RECORD_BYTES, DEFAULT_TOKEN, MappingConfig
from harness.mapping.mapper import map_currents_event, map_currents_events, record_size
from harness.mapping.plan import NEVER_SENT_FIELDS, MappingPlan, compile_plan
from harness.mapping.report import MappingReport
from harness.mapping.result import (
    REASON_BAD_PROPERTIES_JSON,
    REASON_INVALID_RECORD,
    REASON_NO_EXTERNAL_USER_ID,
    REASON_NOT_EXPORTED,
    REASON_OVERSIZE,
    REASON_UNKNOWN_TYPE,
    REASONS,
    WARNING_BAD_PROPERTIES_JSON,
    WARNING_MISSING_REQUIRED,
    WARNING_UNKNOWN_FIELD,
    MappingResult,
)

__all__ = [
    "DEFAULT_CONFIG", "DEFAULT_MAX_RECORD_BYTES", "DEFAULT_TOKEN", "MappingConfig", "MappingPlan", "MappingReport",
    "MappingResult", "NEVER_SENT_FIELDS", "REASONS", "REASON_BAD_PROPERTIES_JSON", "REASON_INVALID_RECORD",
    "REASON_NO_EXTERNAL_USER_ID", "REASON_NOT_EXPORTED", "REASON_OVERSIZE", "REASON_UNKNOWN_TYPE",
    "WARNING_BAD_PROPERTIES_JSON", "WARNING_MISSING_REQUIRED", "WARNING_UNKNOWN_FIELD", "compile_plan",
    "map_currents_event", "map_currents_events", "record_size",
]
