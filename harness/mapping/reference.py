"""The reference interpreter of the Currents -> Mixpanel mapping: currents-to-mixpanel.md as plain code.

One record at a time, one rule after another in the spec's order, reading the catalog on every call: no
compilation, no cache, no generated code. It returns exactly what the compiled fast path
(`harness.mapping.map_currents_event`) returns - the same event with its keys in the same order, the same
reason, the same warnings - and tests/mapping/test_reference_agrees.py holds both to that. Read this module
to know what the mapping does; call `map_currents_event` when speed matters.

    from harness.mapping.reference import map_currents_event_reference
    result = map_currents_event_reference(record, MappingConfig(token="t"))    # same arguments, same result

The §11 settings and the step that reads each: `profile` (§0, every step), `undocumented_types` (§5 summary),
`drift_fields` (P5), `line_rcs_event_names` / `trim_event_names` (N7), `legacy_iam_casing` (§7.3),
`empty_external_id_is_missing` (E2), `max_record_bytes` (E12), `legacy_partner_id` / `legacy_insert_id`
(§7.2), `token` (E5), `null_policy` (P2), the three prefixes and `prefix_separator` (N2-N4),
`nested_property_mode` (N3), `strict_properties` (N5), `export_set` (§5 summary).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.catalog import (
    EXPANSION_CUSTOM,
    EXPANSION_PURCHASE,
    EXPORT_SET_GLOSSARY,
    PARTNER_ID,
    PROFILE_CURRENT,
    PROFILE_LEGACY,
    STATUS_UNDOCUMENTED,
    EventType,
    load_catalog,
)
from harness.currents_io.normalise import TYPE_KEY, normalise_custom_http
from harness.mapping.config import DEFAULT_CONFIG, MappingConfig
from harness.mapping.fields import NEVER_SENT_FIELDS, in_custom_http_layout, record_size, union_fields, unwrap_union
from harness.mapping.properties import expand_properties
from harness.mapping.result import (
    REASON_BAD_PROPERTIES_JSON,
    REASON_INVALID_RECORD,
    REASON_NO_EXTERNAL_USER_ID,
    REASON_NOT_EXPORTED,
    REASON_OVERSIZE,
    REASON_UNKNOWN_TYPE,
    WARNING_BAD_PROPERTIES_JSON,
    WARNING_MISSING_REQUIRED,
    WARNING_UNKNOWN_FIELD,
    MappingResult,
)

__all__ = ["map_currents_event_reference"]


@dataclass(frozen=True)
class ExportRule:
    """What the spec decides for one type under one config before any record is read."""

    event_name: str | None  # the fixed Mixpanel event name (N1, N7, §7.3); None when built from `name_field`
    name_field: str | None  # custom events: the source field the name is built from (N2)
    pairs: tuple[tuple[str, str], ...]  # (source field, Mixpanel key), catalog order (P1, E7, E8, P5)
    required: frozenset[tuple[str, str]]  # pairs whose absence is warned about (P6)
    expansion_prefix: str | None  # "[Custom event property] " / "[Purchase property] " (N3, N4); None = none


def export_rule(event_type: EventType, config: MappingConfig) -> ExportRule | None:
    """§5 / §7: whether `config` exports the type, and under which name and keys. None = not exported."""
    mapping = event_type.mapping(config.profile)  # §0: `current` (§2-§6) or `legacy` (§7) contract
    # §5 summary: `export_set = partner_page` exports only what Braze's Mixpanel partner page lists, whatever
    # else the profile or `undocumented_types` would export; the glossary (default) restricts nothing more.
    if config.export_set != EXPORT_SET_GLOSSARY and not event_type.in_export_set(config.export_set):
        return None
    if mapping.exported:
        # P1: the closed key set of the type, renames included (E7 `$device`/`$os`, E8 `card_id`; §7.2 legacy
        # keeps the source names): the catalog's property rules. P5: `drift_fields = drop` leaves out ‡ keys.
        rules = [r for r in mapping.properties if not (r.drift and config.drift_fields == "drop")]
        pairs = tuple((r.source, r.key) for r in rules)
        required = frozenset((r.source, r.key) for r in rules if r.required)  # P6
        name = mapping.event_name  # N1: the fixed name of §5 (§7.3 under `legacy`)
        # N7: `line_rcs_event_names = prefixed` gives LINE and RCS events their channel prefix.
        if (config.profile == PROFILE_CURRENT and mapping.prefixed_event_name
                and config.line_rcs_event_names == "prefixed"):
            name = mapping.prefixed_event_name
        # §7.3: `legacy_iam_casing = title` spells the legacy in-app message names in title case.
        if (config.profile == PROFILE_LEGACY and mapping.title_case_event_name
                and config.legacy_iam_casing == "title"):
            name = mapping.title_case_event_name
    elif (config.profile == PROFILE_CURRENT and mapping.status == STATUS_UNDOCUMENTED
          and event_type.opt_in_event_name and config.undocumented_types == "export"):
        # §5 summary: `undocumented_types = export` names a type without a Mixpanel tab by analogy and sends
        # every field except the E9 ones under its own name; nothing is required.
        name = event_type.opt_in_event_name
        pairs = tuple((f.name, f.name) for f in event_type.fields if f.name not in NEVER_SENT_FIELDS)
        required = frozenset()
    else:
        return None  # §5: not exported (storage only, retired, undocumented); §7.2: not on the legacy page
    # N7: `trim_event_names = true` strips surrounding spaces from fixed names (RCS "Abort ").
    if config.trim_event_names and name is not None:
        name = name.strip()
    # N3 / N4: the prefix of the expanded custom event or purchase properties, with the separator (N2-N4).
    if mapping.expansion == EXPANSION_CUSTOM:
        expansion_prefix: str | None = config.custom_event_property_prefix + config.prefix_separator
    elif mapping.expansion == EXPANSION_PURCHASE:
        expansion_prefix = config.purchase_property_prefix + config.prefix_separator
    else:
        expansion_prefix = None
    name_field = mapping.event_name_field
    return ExportRule(
        event_name=None if name_field else name,
        name_field=name_field,
        pairs=pairs,
        required=required,
        expansion_prefix=expansion_prefix,
    )


def map_currents_event_reference(
    record: Any,
    config: MappingConfig = DEFAULT_CONFIG,
    *,
    type_id: str | None = None,
    size: int | None = None,
    storage_json: bool = False,
) -> MappingResult:
    """Map one Currents record under `config`; arguments and result as `harness.mapping.map_currents_event`."""
    # §1: the input is one object that names its Currents type (its own `event_type`, or `type_id`).
    if type(record) is not dict:
        return _no_event(REASON_INVALID_RECORD, None)
    own_type = record.get(TYPE_KEY)
    if type_id is None:
        type_id = own_type
    if type(type_id) is not str:
        return _no_event(REASON_INVALID_RECORD, None)
    event_type = load_catalog().get(type_id)
    if event_type is None:  # §1: a type the catalog does not know is tolerated and counted, not mapped
        return _no_event(REASON_UNKNOWN_TYPE, type_id)

    # §5 / §7.2: types the profile does not export yield nothing, whatever the record holds.
    rule = export_rule(event_type, config)
    if rule is None:
        return _no_event(REASON_NOT_EXPORTED, type_id)

    # §1 normalisation. A Custom HTTP event (identity under `user`) is flattened: `user.*` and `properties.*`
    # lifted, `custom_properties` / `purchase_properties` become the field `properties`. E12 below measures
    # the event as received when every key sits where §1 puts it for its own type, else the flattened record
    # (this is what the compiled runners measure).
    if type(record.get("user")) is dict:
        fields = normalise_custom_http(record)
        as_received = own_type == type_id and in_custom_http_layout(record, event_type)
        measured = record if as_received else fields
        wrapped: frozenset[str] = frozenset()
    else:
        fields = measured = record
        # §1 storage JSON: a nullable field may still hold a union wrapper such as {"string": "x"}.
        wrapped = union_fields(event_type) if storage_json else frozenset()

    def value_of(name: str) -> Any:
        value = fields.get(name)
        if name in wrapped and type(value) is dict:
            value = unwrap_union(value)
        return value

    # E1 / E2: the identity is `external_user_id`; missing or null (and "" unless
    # `empty_external_id_is_missing = false`) means no event. No other id stands in.
    distinct_id = value_of("external_user_id")
    if distinct_id is None or (config.empty_external_id_is_missing and distinct_id == ""):
        return _no_event(REASON_NO_EXTERNAL_USER_ID, type_id)

    # E12: a record whose serialised size exceeds `max_record_bytes` is dropped (the caller may know the size).
    if size is None:
        size = record_size(measured)
    if size > config.max_record_bytes:
        return _no_event(REASON_OVERSIZE, type_id)

    warnings: list[str] = []
    props: dict[str, Any] = {}
    legacy = config.profile == PROFILE_LEGACY
    # E6: `$partner_id` is "braze" (§7.2 legacy: only with `legacy_partner_id = true`).
    if config.legacy_partner_id if legacy else True:
        props["$partner_id"] = PARTNER_ID
    # E1: `distinct_id` is the external user id, unchanged.
    props["distinct_id"] = distinct_id
    # E3: `$insert_id` is the record's `id` (§7.2 legacy: unless `legacy_insert_id = false`); P6 when absent.
    if config.legacy_insert_id if legacy else True:
        insert_id = value_of("id")
        if insert_id is not None:
            props["$insert_id"] = insert_id
        else:
            warnings.append(WARNING_MISSING_REQUIRED + "$insert_id")
    # E4: `time` copied unchanged (seconds, never converted); P6 when absent.
    sent_at = value_of("time")
    if sent_at is not None:
        props["time"] = sent_at
    else:
        warnings.append(WARNING_MISSING_REQUIRED + "time")
    # E5: the configured project token.
    props["token"] = config.token

    # P1-P4: each documented key from its source field, value unchanged (P3 types, P4 enumerations; E11 PII
    # as-is). E9 fields have no key, so they never appear. P2: an absent/null value is omitted
    # (`null_policy = omit`) or sent as null (`emit_null`). P6: a required key without a value is warned about.
    emit_null = config.null_policy == "emit_null"
    for source, key in rule.pairs:
        value = value_of(source)
        if value is not None or emit_null:
            props[key] = value
        if value is None and (source, key) in rule.required:
            warnings.append(WARNING_MISSING_REQUIRED + key)

    # N3 / N4: custom event and purchase properties, one prefixed key per top-level key (`nested_property_mode`);
    # N6: never over a standard key. N5: undecodable `properties` -> warning, or no event when strict.
    prefix = rule.expansion_prefix
    if prefix is not None and not expand_properties(value_of("properties"), prefix, props, config.nested_property_mode):
        if config.strict_properties:
            return _no_event(REASON_BAD_PROPERTIES_JSON, type_id)
        warnings.append(WARNING_BAD_PROPERTIES_JSON)

    # N1: the fixed name; N2: a custom event is `custom_event_prefix + prefix_separator + name`, the name
    # verbatim (P6 warning when it is missing).
    if rule.name_field is None:
        name = rule.event_name
    else:
        name_prefix = config.custom_event_prefix + config.prefix_separator
        raw_name = value_of(rule.name_field)
        if raw_name is None:
            name = name_prefix
            warnings.append(WARNING_MISSING_REQUIRED + rule.name_field)
        else:
            name = name_prefix + (raw_name if type(raw_name) is str else str(raw_name))

    # P1: every other input field is dropped; fields the catalog does not know for the type are reported.
    known = set(event_type.field_names) | {TYPE_KEY}
    warnings.extend(WARNING_UNKNOWN_FIELD + str(key) for key in fields if key not in known)

    # E10: one event, nothing else (no profile updates, no identity events).
    return MappingResult({"event": name, "properties": props}, None, type_id, tuple(warnings))


def _no_event(reason: str, type_id: str | None) -> MappingResult:
    return MappingResult(None, reason, type_id)
