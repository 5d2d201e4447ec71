"""Build Currents records from the catalog, and convert them between the three shapes (§1).

A generated record is first a *flat* dictionary keyed by catalog field names (what §1 normalises every
shape to). `RecordFactory.build` fills it from a story's context and the value sources; `to_custom_http`
gives the canonical Custom HTTP event (DESIGN.md §3), `to_avro_record` the storage record fastavro writes
with the catalog schema, `to_storage_json` the union-wrapped storage JSON of the samples.

Field lists are never written here: every plan is compiled from `harness.catalog` once per type.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from itertools import compress, repeat
from operator import is_, is_not, itemgetter
from typing import Any

from harness.catalog import SHAPE_CUSTOM_HTTP, Catalog, EventType, load_catalog
from harness.generate.sources import Draw, Source, source_for

_MISSING = object()

# Sources that read other fields of the record: those fields are filled first.
_FILLED_FIRST = ("time", "currency", "email_address", "endpoint_url", "prompt_tokens", "completion_tokens",
                 "phone_number", "to_phone_number", "canvas_step_message_variation_id")


@dataclass(frozen=True, slots=True)
class TypePlan:
    """Everything needed to build and convert one type's records, compiled from the catalog."""

    type_id: str
    fields: tuple[tuple[str, bool, Source], ...]  # (name, nullable, source) in fill order
    names: tuple[str, ...]  # field names in fill order
    name_set: frozenset[str]
    order: dict[str, int]  # name -> position in fill order
    sources: dict[str, Source]
    required: tuple[tuple[str, Source], ...]  # non-nullable fields: never None
    # Custom HTTP layout: (field name, key) per section; `decoded` fields hold an object there (§1).
    user_keys: tuple[tuple[str, str], ...]
    property_keys: tuple[tuple[str, str], ...]
    decoded: frozenset[str]
    # Storage layout: (field name, avro branch or None when the field is required, is json-string).
    storage: tuple[tuple[str, str | None, bool], ...]
    has_storage_schema: bool
    # Precompiled per-type readers (C-level itemgetters: no per-field Python dispatch on the hot path).
    template: dict[str, None]  # every field, in fill order
    required_names: tuple[str, ...]
    get_required: Callable[[dict[str, Any]], tuple[Any, ...]]
    user_out: tuple[str, ...]
    get_user: Callable[[dict[str, Any]], tuple[Any, ...]]
    property_out: tuple[str, ...]
    get_properties: Callable[[dict[str, Any]], tuple[Any, ...]]


def _avro_branch(avro_type: Any) -> str | None:
    """The non-null branch name of a nullable field's union, as storage JSON wraps it (`{"string": ...}`)."""
    if not isinstance(avro_type, list):
        return None
    for branch in avro_type:
        if branch != "null":
            return branch["type"] if isinstance(branch, dict) else str(branch)
    return None


def compile_plan(event_type: EventType) -> TypePlan:
    first = [f for name in _FILLED_FIRST for f in event_type.fields if f.name == name]
    ordered = first + [f for f in event_type.fields if f not in first]
    fields = tuple((f.name, f.nullable, source_for(f.name, f.type)) for f in ordered)
    # A type Braze only delivers to storage still gets a Custom HTTP form, by the catalog's paths (by analogy).
    http_fields = event_type.custom_http_fields if SHAPE_CUSTOM_HTTP in event_type.shapes else event_type.fields
    user_keys, property_keys, decoded = [], [], set()
    for f in http_fields:
        path = f.custom_http_path
        if len(path) == 2 and path[0] == "user":
            user_keys.append((f.name, path[1]))
        elif len(path) == 2 and path[0] == "properties":
            property_keys.append((f.name, path[1]))
            if f.type == "json-string" and path[1] != f.name:
                decoded.add(f.name)  # `properties` -> custom_properties / purchase_properties object
    storage = tuple(
        (f.name, _avro_branch(f.avro_type) if f.nullable else None, f.type == "json-string")
        for f in event_type.storage_fields
    )
    names = tuple(name for name, _, _ in fields)
    required = tuple((name, source) for name, nullable, source in fields if not nullable)
    required_names = tuple(name for name, _ in required)
    return TypePlan(event_type.type_id, fields, names, frozenset(names), {n: i for i, n in enumerate(names)},
                    {name: source for name, _, source in fields}, required, tuple(user_keys), tuple(property_keys), frozenset(decoded),
                    storage, event_type.has_storage_schema,
                    dict.fromkeys(names), required_names, _getter(required_names),
                    tuple(key for _, key in user_keys), _getter(tuple(name for name, _ in user_keys)),
                    tuple(key for _, key in property_keys), _getter(tuple(name for name, _ in property_keys)))


def _getter(names: tuple[str, ...]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """`record -> tuple of record[name]` for any number of names (itemgetter of one name gives a bare value)."""
    if not names:
        return lambda record: ()
    if len(names) == 1:
        name = names[0]
        return lambda record: (record[name],)
    return itemgetter(*names)


class RecordFactory:
    """Builds flat records for any catalog type and converts them to the output shapes."""

    def __init__(self, catalog: Catalog | None = None) -> None:
        self.catalog = catalog or load_catalog()
        self._plans: dict[str, TypePlan] = {}

    def plan(self, type_id: str) -> TypePlan:
        plan = self._plans.get(type_id)
        if plan is None:
            event_type = self.catalog.get(type_id)
            if event_type is None:
                raise KeyError(f"unknown Currents event type {type_id!r}")
            plan = self._plans[type_id] = compile_plan(event_type)
        return plan

    def build(self, draw: Draw, type_id: str, ctx: dict[str, Any], over: dict[str, Any],
              more: dict[str, Any] | None = None) -> dict[str, Any]:
        """A flat record of `type_id`: `more`, then `over`, then `ctx`, then the field's value source.

        A `None` from the story is kept for nullable fields and replaced by a drawn value for required ones,
        so every record satisfies its schema.
        """
        plan = self._plans.get(type_id) or self.plan(type_id)
        merged = {**ctx, **over, **more} if more else {**ctx, **over}
        names = plan.names
        # One C-level pass reads every field (absent ones as _MISSING) instead of a Python loop per field.
        values = list(map(merged.get, names, repeat(_MISSING)))
        # Filling a copy of a template with every key in place skips the dict's growth and resizes.
        record = plan.template.copy()
        record.update(zip(names, values))
        if _MISSING in values:
            # Sources run in plan order (deterministic). A source reads only fields filled before it (the
            # story's values and `_FILLED_FIRST`, which come first in plan order), never a pending one.
            sources = plan.sources
            for name in compress(names, map(is_, values, repeat(_MISSING))):
                record[name] = sources[name](draw, record)
        if None in plan.get_required(record):
            for name, source in plan.required:
                if record[name] is None:
                    record[name] = source(draw, record)
        return record

    def to_custom_http(self, type_id: str, record: dict[str, Any]) -> dict[str, Any]:
        """The Custom HTTP event (§1): `event_type`, `id`, `time`, `user{}`, `properties{}`; nulls omitted."""
        plan = self._plans.get(type_id) or self.plan(type_id)
        user = plan.get_user(record)
        props = plan.get_properties(record)
        # {key: value} without the nulls, all in C: zip, then compress by `value is not None`.
        return {"event_type": type_id, "id": record["id"], "time": record["time"],
                "user": dict(compress(zip(plan.user_out, user), map(is_not, user, repeat(None)))),
                "properties": dict(compress(zip(plan.property_out, props), map(is_not, props, repeat(None))))}

    def to_avro_record(self, type_id: str, record: dict[str, Any]) -> dict[str, Any]:
        """The storage record as fastavro writes it with `avro_schema(type_id)` (json-strings encoded)."""
        plan = self.plan(type_id)
        if not plan.has_storage_schema:
            raise ValueError(f"{type_id} has no storage (Avro) schema")
        out = {}
        for name, _branch, is_json in plan.storage:
            value = record.get(name)
            if is_json and value is not None and not isinstance(value, str):
                value = json.dumps(value, ensure_ascii=False)
            out[name] = value
        return out

    def to_storage_json(self, type_id: str, record: dict[str, Any]) -> dict[str, Any]:
        """Storage JSON as in the samples: nullable fields wrapped as `{"<branch>": value}`, nulls as null."""
        plan = self.plan(type_id)
        avro = self.to_avro_record(type_id, record)
        out = {}
        for name, branch, _is_json in plan.storage:
            value = avro[name]
            out[name] = value if branch is None or value is None else {branch: value}
        return out
