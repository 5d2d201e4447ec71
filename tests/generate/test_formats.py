"""Generated events against the catalog, Avro round trips with Braze's own schemas, storage JSON (issue 5
"Done when": every type validates and round-trips through Avro)."""

from __future__ import annotations

import io
import math

import fastavro
import pytest

from harness.catalog import avro_schema, load_catalog
from harness.currents_io.normalise import normalise_storage_record
from harness.generate.invariants import schema_violations
from harness.generate.records import RecordFactory
from harness.generate.streams import StreamConfig, generate_records
from harness.generate.world import build_world

CATALOG = load_catalog()
STORAGE_TYPES = [t.type_id for t in CATALOG if t.has_storage_schema]
FACTORY = RecordFactory()


@pytest.fixture(scope="module")
def world():
    return build_world(21)


def _records(world, type_id, n=8):
    return list(generate_records(world, StreamConfig(events=n, types=(type_id,)), factory=FACTORY))


def _close(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-6)  # §1: Avro float is single precision
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
    return a == b


@pytest.mark.parametrize("type_id", CATALOG.type_ids)
def test_generated_custom_http_events_validate_against_the_catalog(world, type_id):
    for rec_type, record in _records(world, type_id):
        event = FACTORY.to_custom_http(rec_type, record)
        assert schema_violations(event) == []


@pytest.mark.parametrize("type_id", STORAGE_TYPES)
def test_avro_round_trip_with_the_official_sample_schema(world, type_id, samples_dir):
    """Written with the catalog schema, read back with the writer schema embedded in the sample file."""
    with open(samples_dir / "avro" / f"{type_id}.avro", "rb") as sample:
        official = fastavro.reader(sample).writer_schema
    records = [FACTORY.to_avro_record(t, r) for t, r in _records(world, type_id)]
    buffer = io.BytesIO()
    fastavro.writer(buffer, fastavro.parse_schema(avro_schema(type_id)), records)
    buffer.seek(0)
    back = list(fastavro.reader(buffer, reader_schema=official))
    assert len(back) == len(records)
    for written, read in zip(records, back):
        assert set(read) == {f["name"] for f in official["fields"]}
        for name, value in written.items():
            assert _close(value, read[name]), (name, value, read[name])


@pytest.mark.parametrize("type_id", STORAGE_TYPES)
def test_storage_json_unwraps_to_the_record(world, type_id):
    """§1 storage JSON: nullable fields wrapped as {"<branch>": v}; unwrapping gives the Avro record back."""
    for rec_type, record in _records(world, type_id, 3):
        wrapped = FACTORY.to_storage_json(rec_type, record)
        flat = normalise_storage_record(wrapped, rec_type)
        flat.pop("event_type")
        assert flat == FACTORY.to_avro_record(rec_type, record)
        for f in CATALOG[rec_type].storage_fields:
            value = wrapped[f.name]
            if f.nullable and value is not None:
                assert isinstance(value, dict) and len(value) == 1


def test_storage_json_layout_matches_the_sample(samples_dir, world):
    """Same keys and the same wrapping as Braze's storage JSON sample of the type."""
    import json

    type_id = "users.messages.email.Open"
    sample = json.loads((samples_dir / "storage-json" / f"{type_id}.json").read_text())
    ours = FACTORY.to_storage_json(*_records(world, type_id, 1)[0])
    assert set(ours) == set(sample)
    for key, value in sample.items():
        if isinstance(value, dict) and ours[key] is not None:
            assert set(ours[key]) == set(value), key


def test_custom_http_layout_matches_the_sample(samples_dir, world):
    import json

    sample = json.loads((samples_dir / "custom-http" / "users" / "behaviors" / "CustomEvent.json").read_text())
    ours = FACTORY.to_custom_http(*_records(world, "users.behaviors.CustomEvent", 1)[0])
    assert set(ours) == set(sample)
    assert set(ours["properties"]) <= set(sample["properties"])
    assert isinstance(ours["properties"]["custom_properties"], dict)
