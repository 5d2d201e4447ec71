"""Reading and normalising the input shapes (currents-to-mixpanel.md §1): format detection, Custom HTTP
batches, NDJSON, storage JSON unions, Avro, malformed input."""

from __future__ import annotations

import io
import json

import fastavro
import pytest

from harness.catalog import avro_schema
from harness.currents_io import (
    CurrentsInputError,
    CurrentsReader,
    normalise_custom_http,
    normalise_record,
    read_records,
    unwrap_storage_json,
)

EVENT = {
    "event_type": "users.messages.email.Open", "id": "i-1", "time": 1_700_000_000,
    "user": {"user_id": "u", "external_user_id": "e", "timezone": "UTC"},
    "properties": {"email_address": "a@b", "machine_open": "true"},
}


def test_custom_http_normalisation_section_1():
    """§1: id/time/event_type kept, user.* and properties.* lifted."""
    assert normalise_custom_http(EVENT) == {
        "event_type": "users.messages.email.Open", "id": "i-1", "time": 1_700_000_000, "user_id": "u",
        "external_user_id": "e", "timezone": "UTC", "email_address": "a@b", "machine_open": "true",
    }


@pytest.mark.parametrize("key", ["custom_properties", "purchase_properties"])
def test_property_objects_become_properties_section_1(key):
    event = {"event_type": "t", "id": "i", "time": 1, "user": {}, "properties": {key: {"a": [1]}, "name": "n"}}
    assert normalise_custom_http(event)["properties"] == {"a": [1]}


def test_storage_unions_unwrapped_section_1():
    """§1: single-key union wrappers unwrapped, also inside arrays; null stays null; bare values stay."""
    record = {"id": "i", "external_user_id": {"string": "e"}, "media_urls": {"array": [{"string": "u1"}, None]},
              "campaign_id": None, "time": 5, "action": "Subscribed"}
    flat = normalise_record(record, "users.messages.sms.InboundReceive")
    assert flat == {"id": "i", "external_user_id": "e", "media_urls": ["u1", None], "campaign_id": None, "time": 5,
                    "action": "Subscribed", "event_type": "users.messages.sms.InboundReceive"}


def test_plain_object_field_not_unwrapped():
    """A custom-http `properties` object with one key is data, not a union wrapper."""
    flat = {"event_type": "users.behaviors.CustomEvent", "properties": {"string": "x"}, "external_user_id": "e"}
    assert normalise_record(flat)["properties"] == {"string": "x"}
    assert unwrap_storage_json({"a": 1}) == {"a": 1}


def _reader(data: bytes, name: str = "input") -> CurrentsReader:
    return CurrentsReader(data, name)


def test_detects_one_event_array_and_batch():
    for payload in (EVENT, [EVENT, EVENT], {"events": [EVENT, EVENT, EVENT]}):
        reader = _reader(json.dumps(payload, indent=2).encode())
        records = [r for r, _ in reader]
        assert reader.format == "json"
        assert all(r["event_type"] == "users.messages.email.Open" and r["external_user_id"] == "e" for r in records)
    assert len([r for r, _ in _reader(json.dumps({"events": [EVENT] * 3}).encode())]) == 3


def test_ndjson_with_sizes_and_bad_lines():
    lines = [json.dumps(EVENT), "", "{broken", json.dumps([1]), json.dumps(EVENT)]
    reader = _reader("\n".join(lines).encode())
    items = list(reader)
    assert reader.format == "ndjson"
    assert [r is None for r, _ in items] == [False, True, True, False]
    assert items[0][1] == len(lines[0].encode())
    assert reader.malformed_count == 2 and [n for n, _ in reader.malformed] == [3, 4]


def test_storage_json_type_from_file_name(samples_dir):
    (record,) = read_records(samples_dir / "storage-json" / "users.messages.email.Open.json")
    assert record["event_type"] == "users.messages.email.Open"
    assert record["external_user_id"] == "external_user_id"


def test_avro_type_from_writer_schema(tmp_path):
    """§1: the type id is the schema namespace minus `dataexport.S3.inner.` plus the record name."""
    schema = fastavro.parse_schema(avro_schema("users.behaviors.app.SessionStart"))
    rows = [{"id": "i", "user_id": "u", "external_user_id": "e", "app_id": "a", "time": 1, "session_id": "s"}]
    path = tmp_path / "whatever-name.avro"
    with open(path, "wb") as fh:
        fastavro.writer(fh, schema, rows)
    (record,) = read_records(path)
    assert record["event_type"] == "users.behaviors.app.SessionStart" and record["session_id"] == "s"


@pytest.mark.parametrize("data,message", [
    (b"garbage\n", "not JSON, NDJSON or Avro"),
    (b"\x00\x01\x02\xff", "not JSON, NDJSON or Avro"),
    (b"42", "expected a JSON object"),
    (b"Obj\x01garbage", "Avro"),
])
def test_malformed_files_raise_one_clear_error(data, message):
    with pytest.raises(CurrentsInputError, match=message):
        list(_reader(data))


def test_truncated_avro_reports_position(samples_dir):
    data = (samples_dir / "avro" / "users.behaviors.Purchase.avro").read_bytes()
    with pytest.raises(CurrentsInputError):
        list(_reader(data[: len(data) - 20]))


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(CurrentsInputError, match="no such file"):
        CurrentsReader.from_path(tmp_path / "absent.json")
    with pytest.raises(CurrentsInputError, match="is a directory"):
        CurrentsReader.from_path(tmp_path)


def test_stream_input():
    reader = CurrentsReader.from_stream(io.BytesIO(json.dumps(EVENT).encode()))
    assert [r["id"] for r, _ in reader] == ["i-1"]


def test_reader_takes_a_path_as_well_as_bytes(tmp_path):
    """Issue 12 item 14: `CurrentsReader(path)` reads the file, as `CurrentsReader(data)` reads bytes."""
    from harness.currents_io import CurrentsInputError

    events = b'{"id": "e1", "event_type": "users.behaviors.Purchase", "time": 1700000000}\n' * 3
    target = tmp_path / "events.ndjson"
    target.write_bytes(events)
    from_bytes = [r for r, _ in CurrentsReader(events, "x")]
    for source in (target, str(target)):
        reader = CurrentsReader(source)
        assert reader.name == str(target) and reader.format == "ndjson"
        assert [r for r, _ in reader] == from_bytes
    with pytest.raises(CurrentsInputError, match="no such file"):
        CurrentsReader(tmp_path / "missing.ndjson")


def test_mapping_result_repr_shows_that_event_is_the_whole_mixpanel_event():
    """Issue 12 item 14: `.event` holds `{"event": ..., "properties": {...}}`; the repr says so."""
    from harness.mapping import MappingConfig, map_currents_event

    record = {"id": "e1", "event_type": "users.behaviors.Purchase", "time": 1700000000, "external_user_id": "u1",
              "user_id": "u1", "product_id": "p", "price": 1.0, "currency": "USD"}
    result = map_currents_event(record, MappingConfig())
    assert result.mapped and isinstance(result.event, dict)
    text = repr(result)
    assert f"event={{'event': {result.event['event']!r}, 'properties': {{...{len(result.event['properties'])} " \
           f"properties}}}}" in text
