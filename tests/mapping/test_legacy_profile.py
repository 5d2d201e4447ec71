"""The `legacy` profile (currents-to-mixpanel.md §7), data-driven over the §7.3 table and the samples."""

from __future__ import annotations

import json

import pytest

from harness.currents_io import read_records
from harness.mapping import MappingConfig, map_currents_event

LEGACY = MappingConfig(profile="legacy", token="TOKEN")
LEGACY_ENV = {"distinct_id", "$insert_id", "time", "token"}


def _legacy_rows():
    # Parametrise by row number; the rows themselves come from the spec fixture.
    return list(range(41))


@pytest.mark.parametrize("row", _legacy_rows())
def test_legacy_event_section_7_3(row, spec_legacy_table, sample_paths):
    """§7.2/§7.3: legacy name, envelope without $partner_id, exactly the listed keys the input carries,
    device keys under their source names, card_id from content_card_id."""
    type_id = list(spec_legacy_table)[row]
    spec = spec_legacy_table[type_id]
    shapes = sample_paths.get(type_id)
    if not shapes:
        pytest.skip(f"{type_id}: listed by the legacy page, no sample (spec §7.3 #37)")
    for shape, path in shapes.items():
        (record,) = read_records(path)
        result = map_currents_event(record, LEGACY)
        assert result.mapped, (shape, result)
        event = result.event
        if spec["event"].startswith("[Braze Custom Event]"):
            assert event["event"] == "[Braze Custom Event] " + record["name"]
        else:
            assert event["event"] == spec["event"]
        props = event["properties"]
        assert "$partner_id" not in props and "$device" not in props and "$os" not in props
        expected = set(LEGACY_ENV)
        for key in spec["keys"]:
            if key.startswith("["):
                continue
            source = "content_card_id" if key == "card_id" and "contentcard" in type_id else key
            if record.get(source) is not None:
                expected.add(key)
                assert props[key] == record[source], (shape, key)
        prefix = next((k.split(" <")[0] + " " for k in spec["keys"] if k.startswith("[")), None)
        if prefix:
            raw = record["properties"]
            decoded = json.loads(raw) if isinstance(raw, str) else raw
            expected |= {prefix + k for k in decoded}
        assert set(props) == expected, shape
        assert props["distinct_id"] == record["external_user_id"] and props["$insert_id"] == record["id"]


def test_legacy_skips_types_it_does_not_list_section_7_2(sample_paths):
    (record,) = read_records(sample_paths["users.messages.email.Abort"]["storage-json"])
    assert map_currents_event(record, LEGACY).reason == "not_exported"
    (record,) = read_records(sample_paths["users.messages.email.Open"]["storage-json"])
    assert map_currents_event(record, LEGACY).mapped


def test_legacy_news_feed_card_section_7_3(sample_paths):
    """§7.3 #35/#36: News Feed Card events are exported under legacy (retired under current)."""
    (record,) = read_records(sample_paths["users.messages.newsfeedcard.Impression"]["custom-http"])
    event = map_currents_event(record, LEGACY).event
    assert event["event"] == "News Feed Card Impression"
    assert event["properties"]["card_id"] == "51234567-89ab-cdef-0123-456789abcdef"
    assert event["properties"]["os_version"] == "iOS 10.3.1"
    assert map_currents_event(record, LEGACY.with_(profile="current")).reason == "not_exported"


def test_legacy_news_feed_impression_without_sample_section_7_3():
    """§7.3 #37: News Feed Impression (no sample) maps under legacy."""
    event = {"event_type": "users.behaviors.app.NewsFeedImpression", "id": "i", "time": 1477502783,
             "user": {"user_id": "u", "external_user_id": "e"},
             "properties": {"app_id": "a", "platform": "ios", "os_version": "10", "device_model": "iPhone"}}
    mapped = map_currents_event(event, LEGACY).event
    assert mapped["event"] == "News Feed Impression"
    assert set(mapped["properties"]) == LEGACY_ENV | {"app_id", "platform", "os_version", "device_model"}


def test_legacy_envelope_switches_section_7_2(sample_paths):
    """§7.2 [HD]: legacy_insert_id = false drops $insert_id; legacy_partner_id = true adds $partner_id."""
    (record,) = read_records(sample_paths["users.behaviors.app.SessionStart"]["storage-json"])
    props = map_currents_event(record, LEGACY.with_(legacy_insert_id=False)).event["properties"]
    assert "$insert_id" not in props
    props = map_currents_event(record, LEGACY.with_(legacy_partner_id=True)).event["properties"]
    assert props["$partner_id"] == "braze"


def test_legacy_iam_casing_section_7_3(sample_paths):
    """§7.3 / Q18: In-app message names as printed; legacy_iam_casing = title gives the earlier casing."""
    (record,) = read_records(sample_paths["users.messages.inappmessage.Click"]["storage-json"])
    assert map_currents_event(record, LEGACY).event["event"] == "In-app message Click"
    assert map_currents_event(record, LEGACY.with_(legacy_iam_casing="title")).event["event"] == "In-App Message Click"


def test_legacy_renamed_events_section_7_4(sample_paths):
    """§7.4: the six renamed events."""
    expected = {
        "users.campaigns.Conversion": "Campaign Conversion Event",
        "users.canvas.Conversion": "Canvas Conversion Event",
        "users.messages.sms.CarrierSend": "SMS Send To Carrier",
        "users.messages.sms.InboundReceive": "SMS Inbound Receipt",
        "users.messages.inappmessage.Impression": "In-app message Impression",
        "users.messages.inappmessage.Click": "In-app message Click",
    }
    for type_id, name in expected.items():
        (record,) = read_records(sample_paths[type_id]["storage-json"])
        assert map_currents_event(record, LEGACY).event["event"] == name


def test_legacy_no_translation_artefacts_section_7_1(sample_paths):
    """§7.1: French artefacts ("plate-forme", "prix", "durée", French headings) never appear."""
    for type_id in ("users.behaviors.Purchase", "users.behaviors.app.SessionEnd", "users.behaviors.Location"):
        (record,) = read_records(sample_paths[type_id]["storage-json"])
        event = map_currents_event(record, LEGACY).event
        assert not {"plate-forme", "prix", "durée"} & set(event["properties"])
        assert event["event"] in ("Purchase", "Session End", "Location")
