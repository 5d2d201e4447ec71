"""Build the `Catalog` from the data files in `harness/catalog/data/` (all derived from the spec).

Data files (CSV, UTF-8, one declared place for the outside world):

* `currents-catalog.csv` - verbatim copy of the spec's companion file: one row per (type, Braze field), with
  type, nullability, the `current` Mixpanel key and notes (PII, †/‡ shape and drift marks).
* `event_types.csv` - one row per type: glossary group, `current` export status (spec §5 column 3),
  opt-in name for `undocumented_types = export`, N7 prefixed name, shapes Braze produces it in, and whether
  Braze's Mixpanel partner page lists it (`partner_page`, from the spec's mixpanel-partner-page-export-set.txt;
  §5 summary). The glossary export set is every type the `current` profile exports.
* `legacy_events.csv` - spec §7.3: legacy event name, the seed's printed heading and the closed key list.
* `legacy_only_fields.csv` - fields of `users.behaviors.app.NewsFeedImpression` (legacy page only; [inf]).
* `avro_types.csv` - Avro types the spec's notation cannot express (array items that are themselves nullable).
* `lifecycle_roles.csv` - one row per type, what the generator branches on (§8, §9): its channel (or area),
  its role in that channel's lifecycle (unique per channel), whether the SDK logs it on the device, and
  whether it is in §8 D6's list of types joined to their message by `dispatch_id`.
"""

from __future__ import annotations

import csv
import json
from collections import OrderedDict
from functools import lru_cache
from importlib import resources

from harness.catalog.model import (
    CHANNELS,
    ENVELOPE_SOURCES,
    EXPANSION_CUSTOM,
    EXPANSION_PURCHASE,
    EXPORT_SET_GLOSSARY,
    EXPORT_SET_PARTNER_PAGE,
    GROUPS,
    PROFILE_CURRENT,
    PROFILE_LEGACY,
    ROLE_NONE,
    SHAPE_CUSTOM_HTTP,
    SHAPE_STORAGE,
    SHAPES,
    STATUS_EXPORTED,
    STATUS_NOT_LISTED,
    Catalog,
    EventType,
    ProfileMapping,
    PropertyRule,
    SourceField,
)

CURRENT_ENVELOPE: tuple[str, ...] = ("$partner_id", "distinct_id", "$insert_id", "time", "token")  # §2, X1 order
LEGACY_ENVELOPE: tuple[str, ...] = ("distinct_id", "$insert_id", "time", "token")  # §7.2 with its [HD] defaults

# Where the Custom HTTP shape puts a field (§1): identity under `user`, id/time at top level, rest in `properties`.
_CUSTOM_HTTP_TOP = frozenset({"id", "time"})
_CUSTOM_HTTP_USER = frozenset({"user_id", "external_user_id", "device_id", "timezone"})
_CUSTOM_HTTP_PROPERTY_OBJECTS = {EXPANSION_CUSTOM: "custom_properties", EXPANSION_PURCHASE: "purchase_properties"}

_BASE_AVRO_TYPES: dict[str, object] = {
    "string": "string",
    "json-string": "string",
    "int": "int",
    "long": "long",
    "float": "float",
    "boolean": "boolean",
    "array<string>": {"type": "array", "items": "string"},
}

_CUSTOM_EVENT_NAME_FIELD = "name"


def _read_csv(name: str) -> list[dict[str, str]]:
    text = resources.files("harness.catalog").joinpath("data").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def _expansion_of(mixpanel_property: str) -> str | None:
    if mixpanel_property.startswith("[Custom event property]"):
        return EXPANSION_CUSTOM
    if mixpanel_property.startswith("[Purchase property]"):
        return EXPANSION_PURCHASE
    return None


def _field_shapes(type_shapes: frozenset[str], notes: str) -> frozenset[str]:
    if "custom-http shape only" in notes:
        return frozenset({SHAPE_CUSTOM_HTTP})
    if "storage shape only" in notes:
        return frozenset({SHAPE_STORAGE}) & type_shapes or frozenset({SHAPE_STORAGE})
    return type_shapes


def _custom_http_path(name: str, expansion: str | None) -> tuple[str, ...]:
    if name in _CUSTOM_HTTP_TOP:
        return (name,)
    if name in _CUSTOM_HTTP_USER:
        return ("user", name)
    if name == "properties" and expansion:
        return ("properties", _CUSTOM_HTTP_PROPERTY_OBJECTS[expansion])
    return ("properties", name)


def _avro_type(row: dict[str, str], override: object | None) -> object:
    base = override if override is not None else _BASE_AVRO_TYPES[row["source_type"]]
    return ["null", base] if row["nullable"] == "yes" else base


def _build_fields(rows: list[dict[str, str]], type_shapes: frozenset[str], avro_overrides: dict) -> tuple:
    type_id = rows[0]["currents_type"]
    expansions = (_expansion_of(r["mixpanel_property"]) for r in rows)
    expansion = next((e for e in expansions if e), None)
    fields = []
    for row in rows:
        name, notes, key = row["source_field"], row["notes"], row["mixpanel_property"]
        fields.append(
            SourceField(
                name=name,
                type=row["source_type"],
                nullable=row["nullable"] == "yes",
                pii="PII" in notes,
                shapes=_field_shapes(type_shapes, notes),
                custom_http_path=_custom_http_path(name, expansion),
                mixpanel_key=key or None,
                drift="harness default: forwarded" in notes,
                avro_type=_avro_type(row, avro_overrides.get((type_id, name))),
                notes=notes,
            )
        )
    return tuple(fields), expansion


def _current_mapping(type_id: str, status: str, rows, fields, expansion, prefixed: str) -> ProfileMapping:
    if status != STATUS_EXPORTED:
        return ProfileMapping(type_id=type_id, profile=PROFILE_CURRENT, status=status, event_name=None)
    names = {r["mixpanel_event"] for r in rows}
    if len(names) != 1:
        raise ValueError(f"catalog: {type_id} has several Mixpanel names {sorted(names)}")
    envelope_sources = set(ENVELOPE_SOURCES.values())
    rules = tuple(
        PropertyRule(source=f.name, key=f.mixpanel_key, drift=f.drift, required=f.required)
        for f in fields
        if f.mixpanel_key and f.name not in envelope_sources and not _expansion_of(f.mixpanel_key)
    )
    return ProfileMapping(
        type_id=type_id,
        profile=PROFILE_CURRENT,
        status=STATUS_EXPORTED,
        event_name=names.pop(),
        properties=rules,
        expansion=expansion,
        event_name_field=_CUSTOM_EVENT_NAME_FIELD if expansion == EXPANSION_CUSTOM else None,
        envelope=CURRENT_ENVELOPE,
        prefixed_event_name=prefixed or None,
    )


def _legacy_mapping(type_id: str, legacy_row: dict[str, str] | None, fields) -> ProfileMapping:
    if legacy_row is None:
        return ProfileMapping(type_id=type_id, profile=PROFILE_LEGACY, status=STATUS_NOT_LISTED, event_name=None)
    by_name = {f.name: f for f in fields}
    by_current_key = {f.mixpanel_key: f for f in fields if f.mixpanel_key}
    rules = []
    for key in legacy_row["legacy_keys"].split():
        # The legacy page prints source names, except `card_id`, renamed from `content_card_id` (§7.2).
        source = by_name.get(key) or by_current_key.get(key)
        if source is None:
            raise ValueError(f"catalog: legacy key {key!r} of {type_id} has no source field")
        rules.append(PropertyRule(source=source.name, key=key, required=source.required))
    expansion = legacy_row["property_expansion"] or None
    return ProfileMapping(
        type_id=type_id,
        profile=PROFILE_LEGACY,
        status=STATUS_EXPORTED,
        event_name=legacy_row["legacy_event"],
        properties=tuple(rules),
        expansion=expansion,
        event_name_field=_CUSTOM_EVENT_NAME_FIELD if expansion == EXPANSION_CUSTOM else None,
        envelope=LEGACY_ENVELOPE,
        seed_heading=legacy_row["seed_heading"],
        title_case_event_name=legacy_row["title_case_event"] or None,
    )


def _lifecycle_roles() -> dict[str, dict[str, str]]:
    """`lifecycle_roles.csv` rows by type id, validated: a known channel, one type per (channel, role)."""
    out: dict[str, dict[str, str]] = {}
    seen: dict[tuple[str, str], str] = {}
    for row in _read_csv("lifecycle_roles.csv"):
        type_id, channel, role = row["currents_type"], row["channel"], row["role"]
        if channel not in CHANNELS:
            raise ValueError(f"catalog: {type_id} has unknown channel {channel!r}")
        if role != ROLE_NONE and seen.setdefault((channel, role), type_id) != type_id:
            raise ValueError(f"catalog: {type_id} and {seen[(channel, role)]} both play {role!r} on {channel!r}")
        out[type_id] = row
    return out


def _export_sets(type_id: str, meta: dict[str, str]) -> frozenset[str]:
    """§5 summary: the glossary names every type with a Mixpanel tab (the `current` profile's exported ones);
    the partner page names a subset of them."""
    sets = {EXPORT_SET_GLOSSARY} if meta["current_status"] == STATUS_EXPORTED else set()
    if meta["partner_page"] == "yes":
        if not sets:
            raise ValueError(f"catalog: {type_id} is on the partner page but has no Mixpanel tab")
        sets.add(EXPORT_SET_PARTNER_PAGE)
    elif meta["partner_page"]:
        raise ValueError(f"catalog: {type_id} has partner_page {meta['partner_page']!r} (expected yes or empty)")
    return frozenset(sets)


@lru_cache(maxsize=1)
def load_catalog() -> Catalog:
    """The catalog, built once per process from the packaged data files."""
    field_rows: OrderedDict[str, list[dict[str, str]]] = OrderedDict()
    for row in _read_csv("currents-catalog.csv") + _read_csv("legacy_only_fields.csv"):
        field_rows.setdefault(row["currents_type"], []).append(row)
    legacy_rows = {r["currents_type"]: r for r in _read_csv("legacy_events.csv")}
    avro_overrides = {
        (r["currents_type"], r["source_field"]): json.loads(r["avro_type"]) for r in _read_csv("avro_types.csv")
    }
    roles = _lifecycle_roles()

    types: list[EventType] = []
    legacy_only: list[EventType] = []
    for meta in _read_csv("event_types.csv"):
        type_id = meta["currents_type"]
        if meta["group"] not in GROUPS:
            raise ValueError(f"catalog: {type_id} has unknown group {meta['group']!r}")
        shapes = frozenset(meta["shapes"].split())
        if not shapes <= set(SHAPES):
            raise ValueError(f"catalog: {type_id} has unknown shapes {meta['shapes']!r}")
        rows = field_rows[type_id]
        role_row = roles.pop(type_id, None)
        if role_row is None:
            raise ValueError(f"catalog: {type_id} has no row in lifecycle_roles.csv")
        fields, expansion = _build_fields(rows, shapes, avro_overrides)
        export_sets = _export_sets(type_id, meta)
        event_type = EventType(
            type_id=type_id,
            group=meta["group"],
            shapes=shapes,
            fields=fields,
            current=_current_mapping(type_id, meta["current_status"], rows, fields, expansion, meta["prefixed_event"]),
            legacy=_legacy_mapping(type_id, legacy_rows.get(type_id), fields),
            opt_in_event_name=meta["opt_in_event"] or None,
            in_samples=meta["in_samples"] == "yes",
            _by_name={f.name: f for f in fields},
            channel=role_row["channel"],
            role=role_row["role"],
            sdk_logged=role_row["sdk_logged"] == "yes",
            in_dispatch_lifecycle=role_row["dispatch_lifecycle"] == "yes",
            export_sets=export_sets,
        )
        (types if event_type.in_samples else legacy_only).append(event_type)
    missing = set(field_rows) - {t.type_id for t in types + legacy_only}
    if missing:
        raise ValueError(f"catalog: field rows for types without metadata: {sorted(missing)}")
    if roles:
        raise ValueError(f"catalog: lifecycle roles for unknown types: {sorted(roles)}")
    return Catalog(tuple(types), tuple(legacy_only))
