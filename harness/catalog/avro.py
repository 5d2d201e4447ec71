"""Avro schemas derived from the catalog, shaped like the writer schemas Braze embeds in Currents files.

A derived schema has the official record name (`dataexport.S3.inner.<prefix>.<Name>`), the storage fields in
schema order, required fields bare, nullable ones as `["null", T]` with `"default": null`. Braze's `doc` and
`owner` attributes are not reproduced (the spec does not carry them).
"""

from __future__ import annotations

import copy
from functools import cache

from harness.catalog.loader import load_catalog
from harness.catalog.model import EventType

AVRO_NAMESPACE_PREFIX = "dataexport.S3.inner."


def type_id_from_avro_name(full_name: str) -> str:
    """`dataexport.S3.inner.users.behaviors.CustomEvent` -> `users.behaviors.CustomEvent` (spec §1)."""
    if full_name.startswith(AVRO_NAMESPACE_PREFIX):
        return full_name[len(AVRO_NAMESPACE_PREFIX):]
    return full_name


@cache
def _schema(type_id: str) -> dict:
    event_type: EventType = load_catalog()[type_id]
    if not event_type.has_storage_schema:
        raise ValueError(f"{type_id} has no storage schema (it exists only in the Custom HTTP shape)")
    fields = []
    for f in event_type.storage_fields:
        entry: dict = {"name": f.name, "type": copy.deepcopy(f.avro_type)}
        if f.nullable:
            entry["default"] = None
        fields.append(entry)
    return {
        "type": "record",
        "name": event_type.avro_record_name,
        "namespace": event_type.avro_namespace,
        "fields": fields,
    }


def avro_schema(type_id: str) -> dict:
    """A fresh copy of the Avro record schema of `type_id` (KeyError for an unknown type,
    ValueError for a Custom-HTTP-only type). Usable with `fastavro.parse_schema` / `fastavro.writer`."""
    return copy.deepcopy(_schema(type_id))
