"""The compiled fast path: a mapping plan is everything about one (type, config) pair that does not depend
on the record, turned into generated straight-line functions (one per input kind).

Compiling once per (type, config) turns mapping one record into a dictionary lookup plus one call
(`MappingPlan.runner`). The plan reads the catalog only; no event name or key is written here. Plans are
kept in a `harness.mapping.cache.PlanCache`; `harness.mapping.reference` is the plain interpreter of the same
rules, which the runners must agree with (tests/mapping/test_reference_agrees.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

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
from harness.currents_io.normalise import normalise_custom_http
from harness.mapping.config import MappingConfig
from harness.mapping.fields import (
    CUSTOM_HTTP_TOP_KEYS,
    NEVER_SENT_FIELDS,
    custom_http_layout,
    record_size,
    union_fields,
    unwrap_union,
)
from harness.mapping.properties import expand_properties
from harness.mapping.result import (
    NO_WARNINGS,
    REASON_BAD_PROPERTIES_JSON,
    REASON_NO_EXTERNAL_USER_ID,
    REASON_NOT_EXPORTED,
    REASON_OVERSIZE,
    WARNING_BAD_PROPERTIES_JSON,
    WARNING_MISSING_REQUIRED,
    WARNING_UNKNOWN_FIELD,
    MappingResult,
)

__all__ = ["NEVER_SENT_FIELDS", "RUNNER_KINDS", "MappingPlan", "Runner", "compile_plan", "record_size"]

Runner = Callable[[dict, "int | None"], MappingResult]


# Mutation testing: frozen=False or slots=False is equivalent (nothing assigns to a plan; slots only save memory).
@dataclass(frozen=True, slots=True)  # pragma: no mutate
class MappingPlan:
    """The compiled mapping of one type under one config. `run(record, size)` maps a flat record."""

    type_id: str
    exported: bool
    event_name: str | None  # fixed name; None for custom events (built from `name_field`)
    name_field: str | None
    pairs: tuple[tuple[str, str], ...]  # (source field, Mixpanel key), in catalog order
    expansion_prefix: str | None  # "[Custom event property] " etc.; None = no expansion (N3/N4)
    required: tuple[tuple[str, str], ...]  # (source, key) whose absence is warned about (P6)
    known_fields: frozenset[str]  # catalog fields + `event_type`: anything else is an unknown field
    runners: dict[str, Runner]  # kind -> compiled runner (filled lazily by `runner`)
    sources: dict[str, str]  # kind -> generated code (empty for a type that is not exported)
    namespace: dict[str, Any]  # constants the generated code reads

    def runner(self, kind: str) -> Runner:
        """The runner for records of one kind (RUNNER_KINDS), compiled on first use.

        * `flat`    - a normalised flat record;
        * `storage` - a flat record whose nullable fields may still be Avro-JSON unions (`{"string": "x"}`);
        * `http`    - a Custom HTTP event, read where that shape puts each field (§1)."""
        run = self.runners.get(kind)
        if run is None:
            source = self.sources[kind]
            # Generated code is exec'd here and nowhere else: one straight-line function per (type, config,
            # kind), with every setting and catalog lookup decided at compile time, is what makes the hot path
            # fast. `harness.mapping.reference` is the plain interpreter these runners must agree with.
            exec(compile(source, f"<mapping plan {self.type_id} {kind}>", "exec"), self.namespace)
            run = self.runners[kind] = self.namespace["run_" + kind]
        return run

    @property
    def run(self) -> Runner:
        return self.runner("flat")

    @property
    def run_http(self) -> Runner:
        return self.runner("http")

    @property
    def source(self) -> str:
        return "\n\n".join(self.sources.values())


RUNNER_KINDS = ("flat", "storage", "http")


def unknown_field_warnings(record: dict[str, Any], known: frozenset[str]) -> tuple[str, ...]:
    """Called by generated code: one warning per input field the catalog does not know for the type."""
    return tuple(WARNING_UNKNOWN_FIELD + str(k) for k in record if k not in known)


# --- compilation ---------------------------------------------------------------------------------------

def _undocumented_pairs(event_type: EventType) -> tuple[tuple[str, str], ...]:
    """§5 summary: with `undocumented_types = export`, all fields minus E9, under their own names [HD]."""
    return tuple((f.name, f.name) for f in event_type.fields if f.name not in NEVER_SENT_FIELDS)


def _body(plan: MappingPlan, config: MappingConfig, where: dict[str, tuple[str, str]],
          unions: frozenset[str] = frozenset()) -> list[str]:
    """The mapping body shared by the runners. `where[field] = (getter name, key in that object)`; fields in
    `unions` may hold an Avro-JSON union wrapper, unwrapped inline."""
    legacy = config.profile == PROFILE_LEGACY
    partner_id = config.legacy_partner_id if legacy else True
    insert_id = config.legacy_insert_id if legacy else True
    emit_null = config.null_policy == "emit_null"
    required = set(plan.required)
    empty_is_missing = config.empty_external_id_is_missing

    def load(field: str, target: str = "v") -> list[str]:
        """Lines setting `target` to the field's value. `record.get(...)` in place (not a local bound method):
        CPython specialises the method call. A union wrapper is unwrapped inline (as `unwrap_union` does),
        sparing a function call per wrapped field."""
        getter, key = where.get(field, ("record.get", field))
        lines = [f"    {target} = {getter}({key!r})"]
        if field in unions:
            lines += [
                f"    if type({target}) is dict and len({target}) == 1:",
                f"        [{target}] = {target}.values()",
                f"        if type({target}) is list: {target} = "
                f"[unwrap_union(x) if type(x) is dict else x for x in {target}]",
            ]
        return lines

    code = load("external_user_id", "distinct_id") + [
        "    if distinct_id is None" + (" or distinct_id == ''" if empty_is_missing else "") + ":",
        "        return MappingResult(None, NO_EXTERNAL_USER_ID, TYPE_ID, NO_WARNINGS)",
        "    if size is None:",
        "        try:",
        "            size = len(dumps(record))",
        "        except Exception:",
        "            size = record_size(record)",
        "    if size > MAX_BYTES:",
        "        return MappingResult(None, OVERSIZE, TYPE_ID, NO_WARNINGS)",
        "    warnings = NO_WARNINGS",
        "    props = {'$partner_id': PARTNER_ID, 'distinct_id': distinct_id}" if partner_id
        else "    props = {'distinct_id': distinct_id}",
    ]
    if insert_id:
        code += load("id") + ["    if v is not None: props['$insert_id'] = v",
                 f"    else: warnings = warnings + ({WARNING_MISSING_REQUIRED + '$insert_id'!r},)"]
    code += load("time") + ["    if v is not None: props['time'] = v",
             f"    else: warnings = warnings + ({WARNING_MISSING_REQUIRED + 'time'!r},)",
             "    props['token'] = TOKEN"]
    for source, key in plan.pairs:
        code += load(source)
        if emit_null:
            code.append(f"    props[{key!r}] = v")
            if (source, key) in required:
                code.append(f"    if v is None: warnings = warnings + ({WARNING_MISSING_REQUIRED + key!r},)")
        else:
            code.append(f"    if v is not None: props[{key!r}] = v")
            if (source, key) in required:
                code.append(f"    else: warnings = warnings + ({WARNING_MISSING_REQUIRED + key!r},)")
    if plan.expansion_prefix is not None:
        code += load("properties")
        code.append("    if not expand_properties(v, EXPANSION_PREFIX, props, NESTED_MODE):")
        if config.strict_properties:
            code.append("        return MappingResult(None, BAD_PROPERTIES_JSON, TYPE_ID, NO_WARNINGS)")
        else:
            code.append(f"        warnings = warnings + ({WARNING_BAD_PROPERTIES_JSON!r},)")
    name_field = plan.name_field
    if name_field is None:
        code.append("    name = EVENT_NAME")
    else:
        code += load(name_field, "raw_name") + [
            "    if type(raw_name) is str: name = NAME_PREFIX + raw_name",
            "    elif raw_name is None:",
            "        name = NAME_PREFIX",
            f"        warnings = warnings + ({WARNING_MISSING_REQUIRED + name_field!r},)",
            "    else: name = NAME_PREFIX + str(raw_name)",
        ]
    return code


def _sources(plan: MappingPlan, config: MappingConfig, event_type: EventType) -> tuple[dict, dict]:
    """Generate the runners of an exported plan (see `MappingPlan.runner`). A Custom HTTP event with any key
    outside the canonical places is flattened and handed to the flat runner, so all paths agree.
    Keys are embedded with repr() (always str); every other constant is passed through the namespace."""
    tail = [
        "    if not KNOWN.issuperset(record):",
        "        warnings = warnings + unknown_field_warnings(record, KNOWN)",
        "    return new_result(MappingResult, ({'event': name, 'properties': props}, None, TYPE_ID, warnings))",
    ]
    flat = ["def run_flat(record, size):"] + _body(plan, config, {}) + tail
    storage = ["def run_storage(record, size):"] + _body(plan, config, {}, union_fields(event_type)) + tail
    where: dict[str, tuple[str, str]] = {}
    for f in event_type.fields:
        path = f.custom_http_path
        if len(path) == 1:
            where[f.name] = ("record.get", path[0])  # pragma: no mutate (equivalent: path[-1], one element)
        elif path[0] == "user":
            where[f.name] = ("user.get", path[1])
        else:
            where[f.name] = ("properties.get", path[1])
    user_keys, property_keys = custom_http_layout(event_type)
    http = [
        "def run_http(record, size):",
        "    user = record['user']",
        "    properties = record.get('properties')",
        "    if (type(properties) is not dict or not HTTP_TOP.issuperset(record) or not HTTP_USER.issuperset(user)",
        "            or not HTTP_PROPERTIES.issuperset(properties)):",
        "        return PLAN.runner('flat')(normalise_custom_http(record), size)",
    ] + _body(plan, config, where) + [
        "    return new_result(MappingResult, ({'event': name, 'properties': props}, None, TYPE_ID, warnings))"
    ]
    namespace: dict[str, Any] = {
        "MappingResult": MappingResult, "NO_WARNINGS": NO_WARNINGS, "NO_EXTERNAL_USER_ID": REASON_NO_EXTERNAL_USER_ID,
        "OVERSIZE": REASON_OVERSIZE, "BAD_PROPERTIES_JSON": REASON_BAD_PROPERTIES_JSON, "PARTNER_ID": PARTNER_ID,
        "TYPE_ID": plan.type_id, "MAX_BYTES": config.max_record_bytes, "TOKEN": config.token,
        "EXPANSION_PREFIX": plan.expansion_prefix, "NESTED_MODE": config.nested_property_mode,
        "EVENT_NAME": plan.event_name, "NAME_PREFIX": config.custom_event_prefix + config.prefix_separator,
        "KNOWN": plan.known_fields, "record_size": record_size, "expand_properties": expand_properties,
        "unknown_field_warnings": unknown_field_warnings, "normalise_custom_http": normalise_custom_http,
        "unwrap_union": unwrap_union, "dumps": orjson.dumps, "new_result": tuple.__new__,
        "HTTP_TOP": CUSTOM_HTTP_TOP_KEYS, "HTTP_USER": user_keys, "HTTP_PROPERTIES": property_keys,
        "PLAN": plan,
    }
    sources = {"flat": "\n".join(flat), "storage": "\n".join(storage), "http": "\n".join(http)}
    return sources, namespace


def _not_exported_runner(type_id: str) -> Runner:
    def run(record: dict, size: int | None) -> MappingResult:
        return MappingResult(None, REASON_NOT_EXPORTED, type_id, NO_WARNINGS)
    return run


def compile_plan(type_id: str, config: MappingConfig) -> MappingPlan | None:
    """The plan of `type_id` under `config`, or None for a type the catalog does not know."""
    event_type = load_catalog().get(type_id)
    if event_type is None:
        return None
    mapping = event_type.mapping(config.profile)
    name = mapping.event_name
    pairs: tuple[tuple[str, str], ...] = ()
    required: tuple[tuple[str, str], ...] = ()
    expansion = mapping.expansion
    # §5 summary: `export_set = partner_page` leaves out every type the partner page does not list.
    in_set = config.export_set == EXPORT_SET_GLOSSARY or event_type.in_export_set(config.export_set)
    exported = mapping.exported and in_set
    if exported:
        rules = [r for r in mapping.properties if not (r.drift and config.drift_fields == "drop")]
        pairs = tuple((r.source, r.key) for r in rules)
        required = tuple((r.source, r.key) for r in rules if r.required)
        if (config.profile == PROFILE_CURRENT and mapping.prefixed_event_name
                and config.line_rcs_event_names == "prefixed"):
            name = mapping.prefixed_event_name
        if config.profile == PROFILE_LEGACY and mapping.title_case_event_name and config.legacy_iam_casing == "title":
            name = mapping.title_case_event_name
    elif (
        in_set
        and config.profile == PROFILE_CURRENT
        and mapping.status == STATUS_UNDOCUMENTED
        and event_type.opt_in_event_name
        and config.undocumented_types == "export"
    ):
        exported = True
        name = event_type.opt_in_event_name
        pairs = _undocumented_pairs(event_type)
    if exported and config.trim_event_names and name is not None:
        name = name.strip()
    name_field = mapping.event_name_field if exported else None
    if exported and expansion == EXPANSION_CUSTOM:
        expansion_prefix: str | None = config.custom_event_property_prefix + config.prefix_separator
    elif exported and expansion == EXPANSION_PURCHASE:
        expansion_prefix = config.purchase_property_prefix + config.prefix_separator
    else:
        expansion_prefix = None
    plan = MappingPlan(
        type_id=type_id,
        exported=exported,
        event_name=None if name_field else name,
        name_field=name_field,
        pairs=pairs,
        expansion_prefix=expansion_prefix,
        required=required,
        known_fields=frozenset(event_type.field_names) | {"event_type"},
        runners={},
        sources={},
        namespace={},
    )
    if exported:
        sources, namespace = _sources(plan, config, event_type)
        plan.sources.update(sources)
        plan.namespace.update(namespace)
    else:
        plan.runners.update(dict.fromkeys(RUNNER_KINDS, _not_exported_runner(type_id)))
    return plan
