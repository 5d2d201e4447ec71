"""Build Currents records from the catalog, and convert them between the three shapes (§1).

A generated record is first a *flat* dictionary keyed by catalog field names (what §1 normalises every
shape to). `RecordFactory.build` fills it from a story's context and the value sources; `to_custom_http`
gives the canonical Custom HTTP event (DESIGN.md §3), `to_avro_record` the storage record fastavro writes
with the catalog schema, `to_storage_json` the union-wrapped storage JSON of the samples.

Field lists are never written here: every plan is compiled from `harness.catalog` once per type.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
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
    return TypePlan(event_type.type_id, fields, names, frozenset(names), {n: i for i, n in enumerate(names)},
                    {name: source for name, _, source in fields}, required, tuple(user_keys), tuple(property_keys),
                    frozenset(decoded), storage, event_type.has_storage_schema)


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
        record = {name: merged[name] for name in names if name in merged}
        if len(record) != len(names):
            # Sources run in plan order (deterministic), after the story's values they may read.
            sources = plan.sources
            for name in names:
                if name not in record:
                    record[name] = sources[name](draw, record)
        for name, source in plan.required:
            if record[name] is None:
                record[name] = source(draw, record)
        return record

    def to_custom_http(self, type_id: str, record: dict[str, Any]) -> dict[str, Any]:
        """The Custom HTTP event (§1): `event_type`, `id`, `time`, `user{}`, `properties{}`; nulls omitted."""
        plan = self._plans.get(type_id) or self.plan(type_id)
        user = {key: value for name, key in plan.user_keys if (value := record[name]) is not None}
        properties = {key: value for name, key in plan.property_keys if (value := record[name]) is not None}
        return {"event_type": type_id, "id": record["id"], "time": record["time"], "user": user,
                "properties": properties}

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
