"""One test per mapping rule of currents-to-mixpanel.md (§2 envelope, §3 naming, §4 properties, §11 config)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.catalog import load_catalog
from harness.mapping import REASONS, MappingConfig, MappingReport, map_currents_event, map_currents_event_reference

CATALOG = load_catalog()
CONFIG = MappingConfig(token="tok")
ENV = {"$partner_id", "distinct_id", "$insert_id", "time", "token"}


def custom_event(properties, name="Signed Up", **extra):
    record = {
        "event_type": "users.behaviors.CustomEvent", "id": "0b6f2c5e-1f0e-4d7e-9a57-4f1b8a1e2c3d",
        "user_id": "5f0c0c0c0c0c0c0c0c0c0c0c", "external_user_id": "user-1", "time": 1_700_000_000,
        "name": name, "properties": properties if isinstance(properties, str) else json.dumps(properties),
        "platform": "ios", "os_version": "17.6.1", "device_model": "iPhone15,2", "timezone": "Europe/Paris",
    }
    record.update(extra)
    return record


def email_send(**extra):
    record = {
        "event_type": "users.messages.email.Send", "id": "a1b2c3d4-0000-4000-8000-000000000001",
        "user_id": "5f0c0c0c0c0c0c0c0c0c0c0c", "external_user_id": "user-2", "time": 1_700_000_100,
        "email_address": "someone@example.com", "dispatch_id": "639a35d192b0df004d06514c",
        "campaign_id": None, "from_domain": "mail.example.com",
    }
    record.update(extra)
    return record


# --- §2 envelope ------------------------------------------------------------------------------------------

def test_envelope_e1_e6():
    """E1-E6: distinct_id = external_user_id, $insert_id = id, time unchanged (seconds), token, $partner_id."""
    props = map_currents_event(email_send(), CONFIG).event["properties"]
    assert props["distinct_id"] == "user-2"
    assert props["$insert_id"] == "a1b2c3d4-0000-4000-8000-000000000001"
    assert props["time"] == 1_700_000_100 and isinstance(props["time"], int)
    assert props["token"] == "tok"
    assert props["$partner_id"] == "braze"
    assert "user_id" not in props and "external_user_id" not in props and "id" not in props  # E9


def test_token_is_the_configured_one_e5():
    for token in ("a", "project-token-123"):
        assert map_currents_event(email_send(), CONFIG.with_(token=token)).event["properties"]["token"] == token


@pytest.mark.parametrize("value", [None, ""])
def test_missing_external_id_e2(value):
    """E2: null and "" are dropped; a missing key too."""
    assert map_currents_event(email_send(external_user_id=value), CONFIG).reason == "no_external_user_id"
    record = email_send()
    del record["external_user_id"]
    assert map_currents_event(record, CONFIG).reason == "no_external_user_id"


def test_empty_external_id_kept_when_configured_e2():
    """§11 empty_external_id_is_missing = false: "" is no longer treated as missing."""
    result = map_currents_event(email_send(external_user_id=""), CONFIG.with_(empty_external_id_is_missing=False))
    assert result.mapped and result.event["properties"]["distinct_id"] == ""


def test_no_anonymous_fallback_e2():
    """E2: no other identifier stands in for a missing external id."""
    record = email_send(external_user_id=None, device_id="dev-1")
    assert not map_currents_event(record, CONFIG).mapped


def test_insert_id_stable_on_redelivery_e3():
    a = map_currents_event(email_send(), CONFIG).event
    b = map_currents_event(email_send(), CONFIG).event
    assert a == b


def test_whatsapp_long_time_is_seconds_e4():
    """E4: `time` is long on WhatsApp types but still seconds, copied unchanged; time_ms is separate."""
    record = {"event_type": "users.messages.whatsapp.Send", "id": "x", "user_id": "u", "external_user_id": "e",
              "time": 1_700_000_000, "from_phone_number": "+1555"}
    assert map_currents_event(record, CONFIG).event["properties"]["time"] == 1_700_000_000
    token = {"event_type": "users.behaviors.pushnotification.TokenStateChange", "id": "x", "user_id": "u",
             "external_user_id": "e", "time": 1_700_000_000, "time_ms": 1_700_000_000_123}
    props = map_currents_event(token, CONFIG).event["properties"]
    assert props["time"] == 1_700_000_000 and props["time_ms"] == 1_700_000_000_123


def test_device_keys_not_added_where_undocumented_e7():
    """E7: push Send never gets $device/$os, even if the input carries device_model."""
    record = {"event_type": "users.messages.pushnotification.Send", "id": "x", "user_id": "u",
              "external_user_id": "e", "time": 1, "app_id": "a", "platform": "ios",
              "device_model": "iPhone", "os_version": "17"}
    props = map_currents_event(record, CONFIG).event["properties"]
    assert "$device" not in props and "$os" not in props and "device_model" not in props


def test_from_domain_dropped_on_email_send_p5():
    """P5 / E9: from_domain (storage v9) is not sent on e-mail Send."""
    assert "from_domain" not in map_currents_event(email_send(), CONFIG).event["properties"]


def test_no_profile_updates_e10():
    assert set(map_currents_event(email_send(), CONFIG).event) == {"event", "properties"}
    assert "$set" not in map_currents_event(email_send(), CONFIG).event["properties"]


def test_pii_sent_as_is_e11():
    props = map_currents_event(email_send(), CONFIG).event["properties"]
    assert props["email_address"] == "someone@example.com"


def test_oversize_e12():
    """E12: a record above max_record_bytes (default 900 KiB) is dropped with reason oversize."""
    big = custom_event({"blob": "x" * (900 * 1024)})
    assert map_currents_event(big, CONFIG).reason == "oversize"
    assert map_currents_event(custom_event({"blob": "x" * 1000}), CONFIG).mapped
    small = CONFIG.with_(max_record_bytes=500)
    assert map_currents_event(custom_event({"blob": "x" * 1000}), small).reason == "oversize"
    # a caller that knows the serialised size passes it
    assert map_currents_event(email_send(), CONFIG, size=10**7).reason == "oversize"
    assert map_currents_event(email_send(), CONFIG, size=100).mapped


# --- §3 naming -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["Signed Up", "  spaced  ", "ÄÖü 注文 🎉", "a.b/c[d]"])
def test_custom_event_name_verbatim_n2(name):
    """N2: prefix + one space + name, name verbatim (no trimming, no case change)."""
    assert map_currents_event(custom_event({}, name=name), CONFIG).event["event"] == "[Braze Custom Event] " + name


def test_custom_event_prefix_and_separator_configurable_n2():
    config = CONFIG.with_(custom_event_prefix="[CE]", prefix_separator=": ")
    event = map_currents_event(custom_event({"k": 1}, name="n"), config).event
    assert event["event"] == "[CE]: n"
    assert event["properties"]["[Custom event property]: k"] == 1


def test_custom_event_properties_values_kept_n3():
    """N3 (keep): strings, numbers, booleans, null, arrays and nested objects pass through unchanged."""
    properties = {
        "str": "ünïcödé ✓ 日本", "int": 7, "float": 2.5, "bool": False, "null": None,
        "list": [1, "two", {"three": 3}], "nested": {"a": {"b": [True, None]}}, "": "empty key",
    }
    props = map_currents_event(custom_event(properties), CONFIG).event["properties"]
    for key, value in properties.items():
        assert props["[Custom event property] " + key] == value
    assert type(props["[Custom event property] float"]) is float


def test_custom_event_properties_custom_http_object_n3():
    """N3: the custom-http `custom_properties` object is used as already decoded."""
    event = {"event_type": "users.behaviors.CustomEvent", "id": "i", "time": 5,
             "user": {"user_id": "u", "external_user_id": "e"},
             "properties": {"name": "n", "custom_properties": {"nested": {"x": [1]}, "ü": "ß"}}}
    props = map_currents_event(event, CONFIG).event["properties"]
    assert props["[Custom event property] nested"] == {"x": [1]}
    assert props["[Custom event property] ü"] == "ß"


def test_empty_properties_add_no_key_n3():
    props = map_currents_event(custom_event({}), CONFIG).event["properties"]
    assert not [k for k in props if k.startswith("[Custom event property]")]


def test_nested_property_mode_flatten_n3():
    config = CONFIG.with_(nested_property_mode="flatten")
    props = map_currents_event(custom_event({"a": {"b": {"c": 1}, "d": [1, 2]}, "e": 2}), config).event["properties"]
    assert props["[Custom event property] a.b.c"] == 1
    assert props["[Custom event property] a.d"] == [1, 2]
    assert props["[Custom event property] e"] == 2
    assert "[Custom event property] a" not in props


def test_nested_property_mode_json_string_n3():
    config = CONFIG.with_(nested_property_mode="json_string")
    props = map_currents_event(custom_event({"a": {"b": 1}, "l": ["x"], "s": "t"}), config).event["properties"]
    assert json.loads(props["[Custom event property] a"]) == {"b": 1}
    assert json.loads(props["[Custom event property] l"]) == ["x"]
    assert props["[Custom event property] s"] == "t"


def test_purchase_properties_n4():
    record = {"event_type": "users.behaviors.Purchase", "id": "i", "user_id": "u", "external_user_id": "e",
              "time": 1, "product_id": "sku-1", "price": 9.99, "currency": "EUR",
              "properties": json.dumps({"color": "red", "size": {"eu": 42}})}
    props = map_currents_event(record, CONFIG).event["properties"]
    assert props["product_id"] == "sku-1" and props["price"] == 9.99 and props["currency"] == "EUR"
    assert props["[Purchase property] color"] == "red" and props["[Purchase property] size"] == {"eu": 42}
    assert "productId" not in props
    config = CONFIG.with_(purchase_property_prefix="[P]")
    assert "[P] color" in map_currents_event(record, config).event["properties"]


@pytest.mark.parametrize("bad", ["{not json", "[1, 2]", "\"a string\"", "42"])
def test_malformed_properties_json_n5(bad):
    """N5: the event is still emitted without prefixed keys and a bad_properties_json warning;
    strict_properties = true turns it into an error."""
    result = map_currents_event(custom_event(bad), CONFIG)
    assert result.mapped and "bad_properties_json" in result.warnings
    assert not [k for k in result.event["properties"] if k.startswith("[Custom")]
    strict = map_currents_event(custom_event(bad), CONFIG.with_(strict_properties=True))
    assert not strict.mapped and strict.reason == "bad_properties_json"


def test_prefixed_key_never_overwrites_n6():
    """N6: with an empty prefix and separator, standard keys win over a clashing custom property."""
    config = CONFIG.with_(custom_event_property_prefix="", prefix_separator="")
    record = custom_event({"platform": "evil", "distinct_id": "evil", "x": 1})
    props = map_currents_event(record, config).event["properties"]
    assert props["platform"] == "ios" and props["distinct_id"] == "user-1" and props["x"] == 1


def test_line_rcs_names_n7():
    """N7: printed names by default ("Abort " keeps its space); prefixed or trimmed on request."""
    record = {"event_type": "users.messages.rcs.Abort", "id": "i", "user_id": "u", "external_user_id": "e", "time": 1}
    line = dict(record, event_type="users.messages.line.Send", line_channel_id="c", line_channel_name="n",
                native_line_id="l")
    assert map_currents_event(record, CONFIG).event["event"] == "Abort "
    assert map_currents_event(line, CONFIG).event["event"] == "Send"
    prefixed = CONFIG.with_(line_rcs_event_names="prefixed")
    assert map_currents_event(record, prefixed).event["event"] == "RCS Abort"
    assert map_currents_event(line, prefixed).event["event"] == "LINE Send"
    assert map_currents_event(record, CONFIG.with_(trim_event_names=True)).event["event"] == "Abort"
    # trim_event_names concerns the fixed names only; custom event names stay verbatim (N2)
    trimmed = map_currents_event(custom_event({}, name=" x "), CONFIG.with_(trim_event_names=True))
    assert trimmed.event["event"] == "[Braze Custom Event]  x "


# --- §4 properties ------------------------------------------------------------------------------------------

def test_closed_key_set_p1():
    """P1: an input field that is not documented for the type never reaches Mixpanel."""
    record = email_send(esp="sendgrid", sending_ip="1.2.3.4", timezone="UTC")
    props = map_currents_event(record, CONFIG).event["properties"]
    assert "esp" not in props and "sending_ip" not in props and "timezone" not in props


def test_null_policy_p2():
    """P2: null/absent documented keys are omitted; null_policy = emit_null emits null instead."""
    props = map_currents_event(email_send(), CONFIG).event["properties"]
    assert "campaign_id" not in props and "send_id" not in props
    props = map_currents_event(email_send(), CONFIG.with_(null_policy="emit_null")).event["properties"]
    assert props["campaign_id"] is None and props["send_id"] is None
    documented = set(CATALOG["users.messages.email.Send"].current.property_keys)
    assert set(props) == ENV | documented


def test_types_preserved_p3():
    """P3: JSON-encoded strings stay strings; ints, bools and arrays keep their type."""
    record = {"event_type": "users.campaigns.Conversion", "id": "i", "user_id": "u", "external_user_id": "e",
              "time": 1, "campaign_id": "c", "conversion_behavior_index": 2,
              "conversion_behavior": "{\"type\": \"performed_custom_event\"}"}
    props = map_currents_event(record, CONFIG).event["properties"]
    assert props["conversion_behavior"] == "{\"type\": \"performed_custom_event\"}"
    assert props["conversion_behavior_index"] == 2
    click = {"event_type": "users.messages.email.Click", "id": "i", "user_id": "u", "external_user_id": "e",
             "time": 1, "email_address": "a@b", "is_suspected_bot_click": False,
             "suspected_bot_click_reason": ["ip_match", "fast_click"]}
    props = map_currents_event(click, CONFIG).event["properties"]
    assert props["is_suspected_bot_click"] is False
    assert props["suspected_bot_click_reason"] == ["ip_match", "fast_click"]


@pytest.mark.parametrize("status", ["Subscribed", "Unsubscribed", "Opted In", "subscribed"])
def test_enumerations_untouched_p4(status):
    record = {"event_type": "users.behaviors.subscription.GlobalStateChange", "id": "i", "user_id": "u",
              "external_user_id": "e", "time": 1, "subscription_status": status}
    assert map_currents_event(record, CONFIG).event["properties"]["subscription_status"] == status


def test_drift_fields_p5():
    """P5: ‡ keys are forwarded by default and dropped with drift_fields = drop."""
    record = {"event_type": "users.messages.whatsapp.Abort", "id": "i", "user_id": "u", "external_user_id": "e",
              "time": 1, "bsuid": "b", "canvas_id": "c"}
    assert map_currents_event(record, CONFIG).event["properties"]["bsuid"] == "b"
    props = map_currents_event(record, CONFIG.with_(drift_fields="drop")).event["properties"]
    assert "bsuid" not in props and props["canvas_id"] == "c"  # canvas_id is documented for WhatsApp
    rcs = {"event_type": "users.messages.rcs.Read", "id": "i", "user_id": "u", "external_user_id": "e", "time": 1,
           "to_phone_number": "+1", "canvas_id": "c"}
    assert "canvas_id" not in map_currents_event(rcs, CONFIG.with_(drift_fields="drop")).event["properties"]


def test_missing_required_warning_p6():
    """P6: a required key missing from the input: event emitted without it, warning missing_required:<key>."""
    record = email_send()
    del record["email_address"]
    result = map_currents_event(record, CONFIG)
    assert result.mapped and "email_address" not in result.event["properties"]
    assert "missing_required:email_address" in result.warnings


def test_no_enrichment_p7():
    props = map_currents_event(email_send(), CONFIG).event["properties"]
    assert not {"$lib", "mp_lib", "$city", "ip"} & set(props)


# --- §5 undocumented types, unknown input -------------------------------------------------------------------

def test_undocumented_types_export_section_5():
    """§5 summary: undocumented_types = export names the opt-in types by analogy; E9 fields still dropped;
    the Agent Console / user-record / costep types stay unexported."""
    record = {"event_type": "users.messages.email.Retry", "id": "i", "user_id": "u", "external_user_id": "e",
              "time": 1, "email_address": "a@b", "retry_type": "frequency_capped", "gender": "F", "timezone": "UTC"}
    assert map_currents_event(record, CONFIG).reason == "not_exported"
    config = CONFIG.with_(undocumented_types="export")
    event = map_currents_event(record, config).event
    assert event["event"] == "Email Retry"
    assert event["properties"]["retry_type"] == "frequency_capped"
    assert "gender" not in event["properties"] and "timezone" not in event["properties"]
    profile = {"event_type": "users.profile.Update", "id": "i", "user_id": "u", "external_user_id": "e", "time": 1,
               "time_ms": 1, "update_source": "api"}
    assert map_currents_event(profile, config).reason == "not_exported"


def test_export_set_partner_page_section_5_summary():
    """§5 summary / §11 `export_set`: `partner_page` exports only the 55 types Braze's Mixpanel partner page
    lists (the same events as the glossary default for those); every other type is not exported, whatever
    `undocumented_types` or the profile say."""
    partner = CONFIG.with_(export_set="partner_page")
    assert map_currents_event(email_send(), partner).event == map_currents_event(email_send(), CONFIG).event
    deferral = {"event_type": "users.messages.email.Deferral", "id": "i", "user_id": "u", "external_user_id": "e",
                "time": 1}
    assert map_currents_event(deferral, CONFIG).mapped
    assert map_currents_event(deferral, partner).reason == "not_exported"
    retry = {"event_type": "users.messages.email.Retry", "id": "i", "user_id": "u", "external_user_id": "e", "time": 1}
    assert map_currents_event(retry, partner.with_(undocumented_types="export")).reason == "not_exported"
    exported = [t.type_id for t in CATALOG if map_currents_event(
        {"event_type": t.type_id, "id": "i", "external_user_id": "e", "time": 1}, partner).mapped]
    assert len(exported) == 55 and set(exported) == {t.type_id for t in CATALOG.export_set("partner_page")}


def test_unknown_type_tolerated_and_counted_section_1():
    report = MappingReport()
    result = map_currents_event({"event_type": "users.messages.hologram.Send", "external_user_id": "e"}, CONFIG)
    report.add(result)
    assert result.reason == "unknown_type" and result.type_id == "users.messages.hologram.Send"
    assert report.unknown == 1 and report.unknown_types == {"users.messages.hologram.Send": 1}


def test_unknown_field_tolerated_and_counted_section_1():
    report = MappingReport()
    result = map_currents_event(email_send(brand_new_field={"x": 1}), CONFIG)
    report.add(result)
    assert result.mapped and "brand_new_field" not in result.event["properties"]
    assert "unknown_field:brand_new_field" in result.warnings
    assert report.unknown_fields == {"brand_new_field": 1}


@pytest.mark.parametrize("record", [None, 42, "text", [1], {}, {"event_type": 5}, {"event_type": ["a"]},
                                    {"event_type": None, "external_user_id": "e"}])
def test_invalid_records_never_raise(record):
    result = map_currents_event(record, CONFIG)
    assert not result.mapped and result.reason == "invalid_record"


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=60)
@given(
    type_id=st.sampled_from([t.type_id for t in CATALOG] + ["x.y.Z"]),
    fields=st.dictionaries(st.sampled_from(["id", "time", "external_user_id", "name", "properties", "price",
                                            "device_model", "email_address", "user", "junk"]), JSON, max_size=8),
    profile=st.sampled_from(["current", "legacy"]),
)
def test_hostile_records_never_crash(type_id, fields, profile):
    """§1: any object in any field gives a result, never an exception: either a mapped event (no reason, an
    event named by a string, the record's `external_user_id` as its distinct id) or a documented reason and
    no event; the compiled plans and the reference interpreter give the same result."""
    record = dict(fields, event_type=type_id)
    config = CONFIG.with_(profile=profile)
    result = map_currents_event(record, config)
    assert result == map_currents_event_reference(record, config)
    if result.mapped:
        assert result.reason is None and isinstance(result.event["event"], str)
        assert result.event["properties"]["distinct_id"] == record["external_user_id"]
        assert result.event["properties"]["token"] == "tok"
    else:
        assert result.event is None and result.reason in REASONS


# --- §11 configuration ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("changes", [
    {"profile": "future"}, {"null_policy": "maybe"}, {"nested_property_mode": "deep"}, {"drift_fields": "x"},
    {"undocumented_types": "all"}, {"line_rcs_event_names": "fixed"}, {"legacy_iam_casing": "upper"},
    {"max_record_bytes": 0}, {"max_record_bytes": "1"}, {"strict_properties": "yes"}, {"token": None},
    {"export_set": "everything"},
])
def test_config_rejects_bad_values_section_11(changes):
    with pytest.raises(ValueError):
        MappingConfig(**changes)


def test_config_defaults_section_11():
    config = MappingConfig()
    assert config.as_dict() == {
        "profile": "current", "token": "harness-token", "custom_event_prefix": "[Braze Custom Event]",
        "custom_event_property_prefix": "[Custom event property]", "purchase_property_prefix": "[Purchase property]",
        "prefix_separator": " ", "nested_property_mode": "keep", "strict_properties": False, "null_policy": "omit",
        "drift_fields": "forward", "undocumented_types": "skip", "export_set": "glossary",
        "line_rcs_event_names": "printed",
        "trim_event_names": False, "empty_external_id_is_missing": True, "max_record_bytes": 921600,
        "legacy_insert_id": True, "legacy_partner_id": False, "legacy_iam_casing": "as_printed",
        "float_tolerance": 1e-6,
    }
    with pytest.raises(ValueError):
        MappingConfig.from_mapping({"nope": 1})
    assert MappingConfig.from_mapping({"profile": "legacy"}).profile == "legacy"


def test_map_many_with_report():
    """map_currents_events: events in input order, counts in the report (E2 drop counted, not emitted)."""
    from harness.mapping import map_currents_events

    report = MappingReport()
    records = [email_send(id="1"), email_send(id="2", external_user_id=None), email_send(id="3")]
    events = map_currents_events(records, CONFIG, report=report)
    assert [e["properties"]["$insert_id"] for e in events] == ["1", "3"]
    assert report.total == 3 and report.mapped == 2 and report.dropped_no_external_id == 1
    assert report.events_by_name == {"Email Send": 2}


@pytest.mark.parametrize("mode", ["keep", "flatten", "json_string"])
def test_pathologically_nested_properties_never_crash(mode):
    """Hostile input: properties nested 3,000 deep. Unmeasurable size counts as oversize (E12); with a known
    size, flatten/json_string report bad_properties_json instead of crashing (N5)."""
    deep: dict = {}
    node = deep
    for _ in range(3000):
        node["a"] = {}
        node = node["a"]
    record = custom_event("{}")
    record["properties"] = deep
    config = CONFIG.with_(nested_property_mode=mode)
    assert map_currents_event(record, config).reason == "oversize"
    result = map_currents_event(record, config, size=100)
    assert result.mapped
    if mode != "keep":
        assert "bad_properties_json" in result.warnings
