"""Derived Avro schemas against the official writer schemas embedded in the sample files (spec §1, issue 2 §4)."""

from __future__ import annotations

import io

import fastavro
import pytest

from harness.catalog import avro_schema, load_catalog, type_id_from_avro_name

CATALOG = load_catalog()
STORAGE_TYPES = [t.type_id for t in CATALOG if t.has_storage_schema]


def _strip_docs(schema):
    if isinstance(schema, dict):
        return {k: _strip_docs(v) for k, v in schema.items() if k not in ("doc", "owner")}
    if isinstance(schema, list):
        return [_strip_docs(v) for v in schema]
    return schema


@pytest.mark.parametrize("type_id", STORAGE_TYPES)
def test_derived_schema_matches_official(type_id, samples_dir):
    """Same full name, same field names in the same order, same (union) types, defaults null on unions."""
    with open(samples_dir / "avro" / f"{type_id}.avro", "rb") as fh:
        reader = fastavro.reader(fh)
        official = reader.writer_schema
        records = list(reader)
    derived = avro_schema(type_id)
    assert derived["namespace"] == "dataexport.S3.inner." + type_id.rsplit(".", 1)[0]
    assert type_id_from_avro_name(official["name"]) == type_id
    parsed_official = _strip_docs(fastavro.parse_schema(official))
    parsed_derived = _strip_docs(fastavro.parse_schema(derived))
    assert parsed_derived["name"] == parsed_official["name"]
    assert [f["name"] for f in parsed_derived["fields"]] == [f["name"] for f in parsed_official["fields"]]
    assert parsed_derived["fields"] == parsed_official["fields"]
    # The derived schema reads and writes the sample record.
    buf = io.BytesIO()
    fastavro.writer(buf, parsed_derived, records)
    buf.seek(0)
    assert list(fastavro.reader(buf)) == records


def test_avro_schema_returns_a_copy():
    schema = avro_schema("users.behaviors.Purchase")
    schema["fields"].clear()
    assert avro_schema("users.behaviors.Purchase")["fields"]


def test_custom_http_only_type_has_no_schema():
    with pytest.raises(ValueError):
        avro_schema("users.messages.newsfeedcard.Click")
    with pytest.raises(KeyError):
        avro_schema("users.unknown.Type")
