"""The reference Currents -> Mixpanel mapping (currents-to-mixpanel.md §2-§7, §11), driven by the catalog.

    from harness.mapping import map_currents_event, MappingConfig, MappingReport

    config = MappingConfig(profile="current", token="harness-token")    # §11 keys; .with_(...) for variants
    result = map_currents_event(record, config)    # record: flat (normalised) or Custom HTTP event
    result.mapped / result.event ({"event": ..., "properties": {...}}) / result.reason / result.warnings
    events = map_currents_events(records, config, report=MappingReport())   # many at once (oracle view)

Reasons (`result.reason` when not mapped): `no_external_user_id`, `not_exported`, `unknown_type`, `oversize`,
`bad_properties_json` (strict mode only), `invalid_record`. Warnings: `bad_properties_json`,
`missing_required:<key>`, `unknown_field:<name>`.

Two implementations of the same rules, held to agree by tests/mapping/test_reference_agrees.py:

* `harness.mapping.reference.map_currents_event_reference` - the plain interpreter: one rule after another,
  citing the spec's rule ids; read it to know what the mapping does (the oracle);
* `map_currents_event` - the compiled fast path: per (type, config) plans of generated straight-line code
  (`harness.mapping.plan`), kept in an explicit `PlanCache` (`DEFAULT_CACHE` unless one is passed as `cache=`).

Modules: `config` (§11 settings), `result` (MappingResult, reasons, warnings), `fields` (§1 shapes, E9, E12),
`properties` (N3-N6), `reference`, `plan`, `cache`, `mapper` (entry point), `report` (counts), `pipeline`
(many records, NDJSON chunks and worker processes for `harness map`).
"""

from harness.mapping.cache import DEFAULT_CACHE, ConfigPlans, PlanCache
from harness.mapping.config import DEFAULT_CONFIG, DEFAULT_MAX_RECORD_BYTES, DEFAULT_TOKEN, MappingConfig
from harness.mapping.fields import NEVER_SENT_FIELDS
from harness.mapping.mapper import map_currents_event, map_currents_events, record_size
from harness.mapping.plan import MappingPlan, compile_plan
from harness.mapping.reference import map_currents_event_reference
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
    "DEFAULT_CACHE", "ConfigPlans", "PlanCache", "map_currents_event_reference",
    "DEFAULT_CONFIG", "DEFAULT_MAX_RECORD_BYTES", "DEFAULT_TOKEN", "MappingConfig", "MappingPlan", "MappingReport",
    "MappingResult", "NEVER_SENT_FIELDS", "REASONS", "REASON_BAD_PROPERTIES_JSON", "REASON_INVALID_RECORD",
    "REASON_NO_EXTERNAL_USER_ID", "REASON_NOT_EXPORTED", "REASON_OVERSIZE", "REASON_UNKNOWN_TYPE",
    "WARNING_BAD_PROPERTIES_JSON", "WARNING_MISSING_REQUIRED", "WARNING_UNKNOWN_FIELD", "compile_plan",
    "map_currents_event", "map_currents_events", "record_size",
]
