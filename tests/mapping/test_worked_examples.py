"""The worked examples of currents-to-mixpanel.md §6 (X1-X6), literally."""

from __future__ import annotations

import json
import math

import pytest

from harness.currents_io import read_records
from harness.mapping import MappingConfig, MappingReport, map_currents_event

CONFIG = MappingConfig(token="TOKEN")
UUID = "f47ac10b-58cc-4372-a567-0e02b2c3d479"


def _one(path):
    (record,) = read_records(path)
    return record


def test_x1_custom_event_storage_input(samples_dir):
    """§6 X1: the storage custom event maps to exactly the printed event."""
    record = _one(samples_dir / "storage-json" / "users.behaviors.CustomEvent.json")
    expected = {
        "event": "[Braze Custom Event] name",
        "properties": {
            "$partner_id": "braze", "distinct_id": "external_user_id",
            "$insert_id": UUID, "time": 2033802504, "token": "TOKEN",
            "app_id": UUID, "app_group_id": UUID,
            "platform": "android", "$os": "17.6.1", "$device": "device_model", "device_id": "device_id",
            "ad_id": UUID, "ad_id_type": "ios_idfa", "ad_tracking_enabled": True,
            "[Custom event property] stringProperty": "properties",
            "[Custom event property] numberProperty": 1,
            "[Custom event property] listProperty": ["a"],
        },
    }
    result = map_currents_event(record, CONFIG)
    assert result.event == expected
    assert result.warnings == ()
    for absent in ("user_id", "timezone", "name", "properties"):
        assert absent not in result.event["properties"]


def test_x1_custom_http_input_gives_the_same_keys(custom_http_paths):
    """§6 X1: 'The custom-http sample of the same type produces the same keys.'"""
    event = json.loads(custom_http_paths["users.behaviors.CustomEvent"].read_text(encoding="utf-8"))
    result = map_currents_event(event, CONFIG)  # the raw Custom HTTP event is accepted as is
    storage_keys = {"$partner_id", "distinct_id", "$insert_id", "time", "token", "app_id", "app_group_id", "platform",
                    "$os", "$device", "device_id", "ad_id", "ad_id_type", "ad_tracking_enabled",
                    "[Custom event property] stringProperty", "[Custom event property] numberProperty",
                    "[Custom event property] listProperty"}
    assert set(result.event["properties"]) == storage_keys
    assert result.event["properties"]["[Custom event property] listProperty"] == ["a"]


@pytest.mark.parametrize("shape,price", [
    ("storage-json", 3.140000104904175), ("custom-http", 3.14), ("avro", 3.140000104904175)])
def test_x2_purchase(shape, price, samples_dir, custom_http_paths):
    """§6 X2: Purchase with product_id, currency, price (as decoded) and [Purchase property] keys."""
    path = {
        "storage-json": samples_dir / "storage-json" / "users.behaviors.Purchase.json",
        "avro": samples_dir / "avro" / "users.behaviors.Purchase.avro",
        "custom-http": custom_http_paths["users.behaviors.Purchase"],
    }[shape]
    event = map_currents_event(_one(path), CONFIG).event
    props = event["properties"]
    assert event["event"] == "Purchase"
    assert props["product_id"] == "product_id" and props["currency"] == "USD"
    assert isinstance(props["price"], float) and math.isclose(props["price"], price, rel_tol=1e-12)
    assert props["[Purchase property] stringProperty"] == "properties"
    assert props["[Purchase property] numberProperty"] == 1
    assert props["[Purchase property] listProperty"] == ["a"]
    assert "productId" not in props  # N4: no productId key in the current contract


@pytest.mark.parametrize("shape", ["storage-json", "custom-http"])
def test_x3_content_card_impression(shape, samples_dir, custom_http_paths):
    """§6 X3: content_card_id -> card_id; $device/$os/platform; dispatch_id only with custom-http input."""
    path = (samples_dir / "storage-json" / "users.messages.contentcard.Impression.json" if shape == "storage-json"
            else custom_http_paths["users.messages.contentcard.Impression"])
    props = map_currents_event(_one(path), CONFIG).event["properties"]
    assert props["card_id"] == "content_card_id"
    assert "content_card_id" not in props
    assert {"$device", "$os", "platform"} <= set(props)
    assert ("dispatch_id" in props) is (shape == "custom-http")


@pytest.mark.parametrize("shape", ["storage-json", "avro", "custom-http"])
def test_x4_rcs_abort(shape, samples_dir, custom_http_paths):
    """§6 X4: event "Abort " (trailing space); exactly the listed keys besides ENV, canvas_id as drift key."""
    path = {
        "storage-json": samples_dir / "storage-json" / "users.messages.rcs.Abort.json",
        "avro": samples_dir / "avro" / "users.messages.rcs.Abort.avro",
        "custom-http": custom_http_paths["users.messages.rcs.Abort"],
    }[shape]
    event = map_currents_event(_one(path), CONFIG).event
    assert event["event"] == "Abort "
    env = {"$partner_id", "distinct_id", "$insert_id", "time", "token"}
    assert set(event["properties"]) - env == {
        "abort_log", "abort_type", "app_group_id", "campaign_id", "campaign_name", "canvas_name", "canvas_step_id",
        "canvas_step_name", "canvas_variation_id", "canvas_variation_name", "message_variation_id",
        "message_variation_name", "subscription_group_id", "canvas_id",
    }
    assert "canvas_step_message_variation_id" not in event["properties"]


@pytest.mark.parametrize("variant", ["missing", "null", "empty"])
def test_x5_dropped_record(variant, samples_dir):
    """§6 X5 / E2: external_user_id missing, null or "" -> no event, counted as no_external_user_id."""
    data = json.loads((samples_dir / "storage-json" / "users.messages.email.Open.json").read_text(encoding="utf-8"))
    if variant == "missing":
        del data["external_user_id"]
    elif variant == "null":
        data["external_user_id"] = None
    else:
        data["external_user_id"] = {"string": ""}
    from harness.currents_io import normalise_record

    report = MappingReport()
    result = map_currents_event(normalise_record(data, "users.messages.email.Open"), CONFIG)
    report.add(result)
    assert result.event is None and result.reason == "no_external_user_id"
    assert report.dropped_no_external_id == 1 and report.mapped == 0


def test_x6_email_open_machine_open(samples_dir):
    """§6 X6: machine_open string and is_amp boolean pass through; $device; device_os etc.; no $os/platform."""
    record = _one(samples_dir / "storage-json" / "users.messages.email.Open.json")
    record["machine_open"] = "true"
    record["is_amp"] = True
    props = map_currents_event(record, CONFIG).event["properties"]
    assert props["machine_open"] == "true" and props["is_amp"] is True
    assert props["$device"] == record["device_model"]
    for key in ("device_os", "device_class", "browser", "mailbox_provider"):
        assert props[key] == record[key]
    assert "$os" not in props and "platform" not in props and "device_model" not in props
