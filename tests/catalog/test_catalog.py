"""The event catalog against the spec text (currents-to-mixpanel.md §1, §5, §7) and the samples."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.catalog import (
    GROUP_CUSTOMER_BEHAVIOR,
    GROUP_MESSAGE_ENGAGEMENT,
    GROUP_USER,
    PROFILE_CURRENT,
    PROFILE_LEGACY,
    SHAPE_CUSTOM_HTTP,
    SHAPE_STORAGE,
    STATUS_EXPORTED,
    STATUS_NOT_LISTED,
    load_catalog,
)

CATALOG = load_catalog()
TYPE_IDS = [t.type_id for t in CATALOG]
ENVELOPE_SOURCES = {"id", "external_user_id", "time"}


def _custom_http_samples(samples_dir: Path) -> dict[str, dict]:
    out = {}
    for path in sorted((samples_dir / "custom-http").rglob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        out[record["event_type"]] = record
    return out


def test_load_catalog_is_cached():
    assert load_catalog() is CATALOG


def test_catalog_holds_97_types_section_5(spec_catalogue):
    """§5: one row per Currents type found in the samples (97), in the spec's order."""
    assert len(CATALOG) == 97
    assert list(spec_catalogue) == TYPE_IDS


def test_catalog_types_are_the_sample_types_section_1(samples_dir):
    """§1: 94 types with a storage schema, 93 with a custom-http sample, 97 in all."""
    avro = {p.stem for p in (samples_dir / "avro").glob("*.avro")}
    storage = {p.stem for p in (samples_dir / "storage-json").glob("*.json")}
    custom_http = set(_custom_http_samples(samples_dir))
    assert avro == storage
    assert set(TYPE_IDS) == avro | custom_http
    assert {t.type_id for t in CATALOG if t.has_storage_schema} == avro
    assert {t.type_id for t in CATALOG if SHAPE_CUSTOM_HTTP in t.shapes} == custom_http
    assert {t.type_id for t in CATALOG if not t.has_storage_schema} == {
        "users.messages.newsfeedcard.Abort",
        "users.messages.newsfeedcard.Click",
        "users.messages.newsfeedcard.Impression",
    }


def test_packaged_csv_is_the_spec_csv(spec_dir):
    """The packaged copy of currents-catalog.csv is byte-identical to the spec's companion file."""
    packaged = Path(__import__("harness.catalog", fromlist=["x"]).__file__).parent / "data" / "currents-catalog.csv"
    assert packaged.read_bytes() == (spec_dir / "currents-catalog.csv").read_bytes()


@pytest.mark.parametrize("type_id", TYPE_IDS)
def test_current_event_name_section_5(type_id, spec_catalogue):
    """§5 column 'Mixpanel event (current)': exact string, or not exported."""
    expected = spec_catalogue[type_id]["current"]
    et = CATALOG[type_id]
    assert et.exported(PROFILE_CURRENT) is (expected is not None)
    assert et.event_name(PROFILE_CURRENT) == expected


@pytest.mark.parametrize("type_id", TYPE_IDS)
def test_braze_side_fields_section_5(type_id, spec_catalogue):
    """§5 column 'Braze-side source fields': names, types, nullability, † (custom-http only)."""
    expected = spec_catalogue[type_id]["fields"]
    et = CATALOG[type_id]
    actual = {}
    for f in et.fields:
        # † marks a field missing from a storage schema; the News Feed types have no storage schema at all.
        dagger = "†" if f.custom_http_only and et.has_storage_schema else ""
        actual[f.name] = f.type + ("?" if f.nullable else "") + dagger
    assert actual == expected


@pytest.mark.parametrize("type_id", TYPE_IDS)
def test_current_property_keys_section_5(type_id, spec_catalogue):
    """§5 column 'Mixpanel property keys (besides ENV)' incl. ‡ drift keys and prefixed key families."""
    spec_keys = spec_catalogue[type_id]["keys"]
    mapping = CATALOG[type_id].mapping(PROFILE_CURRENT)
    plain = sorted(k.rstrip("‡") for k in spec_keys if not k.startswith("["))
    assert sorted(mapping.property_keys) == plain
    drift = sorted(k.rstrip("‡") for k in spec_keys if k.endswith("‡"))
    assert sorted(r.key for r in mapping.properties if r.drift) == drift
    families = [k for k in spec_keys if k.startswith("[")]
    expected_expansion = {
        "[Custom event property] <key>…": "custom",
        "[Purchase property] <key>…": "purchase",
    }
    assert mapping.expansion == (expected_expansion[families[0]] if families else None)


@pytest.mark.parametrize("type_id", TYPE_IDS)
def test_csv_rows_define_sources_of_keys(type_id, spec_csv_rows):
    """currents-catalog.csv: every (source_field -> mixpanel_property) pair is a rule or the envelope."""
    mapping = CATALOG[type_id].mapping(PROFILE_CURRENT)
    rules = {(r.source, r.key) for r in mapping.properties}
    for row in (r for r in spec_csv_rows if r["currents_type"] == type_id):
        key = row["mixpanel_property"]
        if not key or key.startswith("[") or row["source_field"] in ENVELOPE_SOURCES:
            continue
        assert (row["source_field"], key) in rules


def test_device_renames_e7():
    """E7: device_model -> $device, os_version -> $os where the tab lists them; e-mail Open/Click: $device only."""
    for type_id in ("users.behaviors.CustomEvent", "users.messages.contentcard.Impression"):
        rules = {r.source: r.key for r in CATALOG[type_id].current.properties}
        assert rules["device_model"] == "$device" and rules["os_version"] == "$os" and rules["platform"] == "platform"
    for type_id in ("users.messages.email.Open", "users.messages.email.Click"):
        keys = CATALOG[type_id].current.property_keys
        assert "$device" in keys and "$os" not in keys and "device_os" in keys
    assert "$device" not in CATALOG["users.messages.pushnotification.Send"].current.property_keys


def test_card_id_rename_e8():
    """E8: content_card_id is sent as card_id on Content Card Send/Impression/Click/Dismiss."""
    for name in ("Send", "Impression", "Click", "Dismiss"):
        rules = {r.source: r.key for r in CATALOG[f"users.messages.contentcard.{name}"].current.properties}
        assert rules["content_card_id"] == "card_id"
    rules = {r.source: r.key for r in CATALOG["users.messages.inappmessage.Click"].current.properties}
    assert rules["card_id"] == "card_id"


E9_NEVER_SENT = {
    "id", "external_user_id", "user_id", "timezone", "canvas_step_message_variation_id",
    "canvas_step_message_variation_api_id", "app_group_api_id", "canvas_api_id", "canvas_variation_api_id",
    "canvas_step_api_id", "gender", "country", "language", "sdk_version", "carrier", "resolution",
}


@pytest.mark.parametrize("type_id", [t.type_id for t in CATALOG.exported(PROFILE_CURRENT)])
def test_never_sent_fields_e9(type_id):
    """E9: these source fields never appear as property sources, under any exported type."""
    sources = {r.source for r in CATALOG[type_id].current.properties}
    assert not sources & E9_NEVER_SENT


def test_type_specific_exclusions_e9():
    """E9: sending_ip, button_action_type/button_string, browser/version on IAM Abort, phone_number,
    name and properties, from_domain on e-mail Send are never property sources."""
    excluded = {
        "users.messages.email.Delivery": {"sending_ip"},
        "users.messages.email.Bounce": {"sending_ip"},
        "users.messages.email.SoftBounce": {"sending_ip"},
        "users.messages.email.Deferral": {"sending_ip"},
        "users.messages.pushnotification.Open": {"button_action_type", "button_string"},
        "users.messages.inappmessage.Abort": {"browser", "version"},
        "users.behaviors.subscriptiongroup.StateChange": {"phone_number"},
        "users.behaviors.CustomEvent": {"name", "properties"},
        "users.behaviors.Purchase": {"properties"},
        "users.messages.email.Send": {"from_domain"},
    }
    for type_id, fields in excluded.items():
        sources = {r.source for r in CATALOG[type_id].current.properties}
        assert not sources & fields, type_id


def test_catalogue_summary_section_5():
    """§5 summary: 80 exported (78 distinct names), 17 not exported, 13 undocumented, opt-in names."""
    exported = [t for t in CATALOG if t.exported(PROFILE_CURRENT)]
    assert len(exported) == 80
    assert len({t.event_name(PROFILE_CURRENT) for t in exported}) == 78
    undocumented = {t.type_id for t in CATALOG if t.current.status == "undocumented"}
    assert undocumented == {
        "agentconsole.AgentExecuted", "agentconsole.ToolInvocation", "users.UserDeleteRequest", "users.UserOrphan",
        "users.profile.Update", "users.canvas.costep.Send", "users.messages.banner.Dismiss",
        "users.messages.email.Retry", "users.messages.line.Retry", "users.messages.pushnotification.Retry",
        "users.messages.sms.Retry", "users.messages.webhook.Retry", "users.messages.whatsapp.Retry",
    }
    assert CATALOG["users.RandomBucketNumberUpdate"].current.status == "not_exported"
    opt_in = {t.type_id: t.opt_in_event_name for t in CATALOG if t.opt_in_event_name}
    assert opt_in == {
        "users.messages.banner.Dismiss": "Banner Dismiss",
        "users.messages.email.Retry": "Email Retry",
        "users.messages.line.Retry": "LINE Retry",
        "users.messages.pushnotification.Retry": "Push Notification Retry",
        "users.messages.sms.Retry": "SMS Retry",
        "users.messages.webhook.Retry": "Webhook Retry",
        "users.messages.whatsapp.Retry": "WhatsApp Retry",
    }


def test_line_rcs_names_n7():
    """N7: printed names (RCS Abort with a trailing space) and the `prefixed` alternatives."""
    printed = {t.type_id: t.current.event_name for t in CATALOG if t.type_id.startswith(("users.messages.line.", "users.messages.rcs."))}
    assert printed["users.messages.rcs.Abort"] == "Abort "
    assert printed["users.messages.line.InboundReceive"] == "LINE Inbound Receive"
    prefixed = {t.type_id: t.current.prefixed_event_name for t in CATALOG if t.current.prefixed_event_name}
    assert sorted(prefixed.values()) == sorted([
        "LINE Abort", "LINE Click", "LINE Send", "RCS Abort", "RCS Click", "RCS Delivery",
        "RCS Inbound Receive", "RCS Read", "RCS Rejection", "RCS Send",
    ])
    for type_id, name in prefixed.items():
        assert name.split(" ", 1)[1] == printed[type_id].strip()


def test_groups():
    """Glossary groups: Uninstall is listed under message engagement; the four user-record types."""
    assert CATALOG["users.behaviors.Uninstall"].group == GROUP_MESSAGE_ENGAGEMENT
    assert CATALOG["users.behaviors.Purchase"].group == GROUP_CUSTOMER_BEHAVIOR
    assert {t.type_id for t in CATALOG.by_group(GROUP_USER)} == {
        "users.RandomBucketNumberUpdate", "users.UserDeleteRequest", "users.UserOrphan", "users.profile.Update",
    }
    for t in CATALOG:
        if t.type_id.startswith("users.messages."):
            assert t.group == GROUP_MESSAGE_ENGAGEMENT


# --- legacy profile (§7) -------------------------------------------------------------------------------


def test_legacy_lists_exactly_the_section_7_3_types(spec_legacy_table):
    """§7.2: only the types of the §7.3 table are exported under `legacy`."""
    exported = {t.type_id for t in CATALOG.exported(PROFILE_LEGACY)}
    assert exported == set(spec_legacy_table)
    for t in CATALOG:
        if t.type_id not in spec_legacy_table:
            assert t.legacy.status == STATUS_NOT_LISTED


@pytest.mark.parametrize("row", range(1, 42))
def test_legacy_event_and_keys_section_7_3(row, spec_legacy_table):
    """§7.3: legacy event name, printed heading and closed key list."""
    type_id = list(spec_legacy_table)[row - 1]
    spec = spec_legacy_table[type_id]
    mapping = CATALOG[type_id].mapping(PROFILE_LEGACY)
    assert mapping.status == STATUS_EXPORTED
    assert mapping.event_name == spec["event"]
    assert mapping.seed_heading == spec["heading"]
    assert list(mapping.property_keys) == [k for k in spec["keys"] if not k.startswith("[")]
    prefixed = [k for k in spec["keys"] if k.startswith("[")]
    assert mapping.expansion == ({"[Custom event property] <key>": "custom", "[Purchase property] <key>": "purchase"}[prefixed[0]] if prefixed else None)
    # Device keys keep their source names; card_id comes from content_card_id on Content Cards (§7.2).
    for rule in mapping.properties:
        if rule.key == "card_id" and type_id.startswith("users.messages.contentcard."):
            assert rule.source == "content_card_id"
        else:
            assert rule.source == rule.key
    assert "$device" not in mapping.property_keys and "$os" not in mapping.property_keys


def test_legacy_names_agree_with_section_5_column(spec_catalogue):
    """§5 'Legacy name (seed)' column agrees with the legacy mapping wherever it names one."""
    for type_id, spec in spec_catalogue.items():
        if spec["legacy"] is not None:
            assert CATALOG[type_id].event_name(PROFILE_LEGACY) == spec["legacy"], type_id


def test_legacy_iam_title_casing_section_7_3():
    """§7.3 note / Q18: `legacy_iam_casing = title` alternative names."""
    assert CATALOG["users.messages.inappmessage.Impression"].legacy.title_case_event_name == "In-App Message Impression"
    assert CATALOG["users.messages.inappmessage.Click"].legacy.title_case_event_name == "In-App Message Click"


def test_legacy_only_news_feed_impression():
    """§7.3 #37: `users.behaviors.app.NewsFeedImpression` is listed by the legacy page, in no sample."""
    (et,) = CATALOG.legacy_only
    assert et.type_id == "users.behaviors.app.NewsFeedImpression"
    assert et.type_id not in TYPE_IDS and et.type_id in CATALOG
    assert et.legacy.event_name == "News Feed Impression"
    assert not et.exported(PROFILE_CURRENT)


def test_legacy_envelope_section_7_2():
    assert CATALOG["users.behaviors.Purchase"].legacy.envelope == ("distinct_id", "$insert_id", "time", "token")
    assert CATALOG["users.behaviors.Purchase"].current.envelope == ("$partner_id", "distinct_id", "$insert_id", "time", "token")


# --- shapes (§1) -------------------------------------------------------------------------------------


def test_custom_http_paths_match_samples_section_1(samples_dir):
    """§1: every field of a custom-http sample sits where the catalog says; nothing unknown; no † field
    is missing from the sample."""
    for type_id, record in _custom_http_samples(samples_dir).items():
        et = CATALOG[type_id]
        seen = set()
        for f in et.custom_http_fields:
            node = record
            for part in f.custom_http_path:
                assert isinstance(node, dict) and part in node, (type_id, f.name, f.custom_http_path)
                node = node[part]
            seen.add(f.custom_http_path)
        present = {(k,) for k in record if k not in ("user", "properties", "event_type")}
        present |= {("user", k) for k in record["user"]} | {("properties", k) for k in record["properties"]}
        assert present == seen, type_id


def test_storage_json_samples_carry_storage_fields(samples_dir):
    for t in CATALOG:
        if not t.has_storage_schema:
            continue
        record = json.loads((samples_dir / "storage-json" / f"{t.type_id}.json").read_text(encoding="utf-8"))
        assert list(record) == [f.name for f in t.storage_fields], t.type_id


def test_pii_flags_follow_csv_notes(spec_csv_rows):
    for row in spec_csv_rows:
        assert CATALOG[row["currents_type"]].field(row["source_field"]).pii is ("PII" in row["notes"])


def test_shapes_of_fields():
    assert CATALOG["users.messages.email.Send"].field("device_id").custom_http_only
    assert CATALOG["users.messages.email.Send"].field("from_domain").shapes == {SHAPE_STORAGE}
    assert CATALOG["users.behaviors.CustomEvent"].field("properties").custom_http_path == ("properties", "custom_properties")
    assert CATALOG["users.behaviors.Purchase"].field("properties").custom_http_path == ("properties", "purchase_properties")
    assert CATALOG["users.behaviors.CustomEvent"].field("external_user_id").custom_http_path == ("user", "external_user_id")


def test_unknown_profile_is_rejected():
    with pytest.raises(ValueError):
        CATALOG["users.behaviors.Purchase"].mapping("future")


def test_partner_page_export_set_is_the_spec_list_section_5(spec_dir):
    """§5 summary: the catalog's partner-page export set is exactly the spec's 55-type list; every one of them
    has a Mixpanel tab (the glossary set is the 80 types the `current` profile exports)."""
    lines = (spec_dir / "mixpanel-partner-page-export-set.txt").read_text(encoding="utf-8").splitlines()
    listed = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    catalog = load_catalog()
    partner = [t.type_id for t in catalog.export_set("partner_page")]
    assert len(listed) == 55 and sorted(partner) == sorted(listed)
    glossary = {t.type_id for t in catalog.export_set("glossary")}
    assert glossary == {t.type_id for t in catalog.exported("current")} and len(glossary) == 80
    assert set(partner) <= glossary
    assert catalog["users.messages.email.Deferral"].export_sets == frozenset({"glossary"})
    with pytest.raises(ValueError):
        catalog["users.messages.email.Open"].in_export_set("everything")
