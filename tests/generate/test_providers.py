"""The Braze Faker provider (issue 5 §1): formats of ids, devices, phones, currencies, tokens."""

from __future__ import annotations

import re

import pytest
from faker import Faker

from harness.generate.providers import (
    MIXPANEL_PLACEHOLDER_IDS,
    SAMPLE_SHARED_ID,
    SAMPLE_SHARED_OBJECT_ID,
    BrazeProvider,
    is_placeholder_id,
    make_faker,
)

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


@pytest.fixture
def fake() -> Faker:
    return make_faker(1234)


def test_object_ids_are_uuid4_of_36_chars_e3(fake):
    """currents-to-mixpanel.md E3: ids are 36-byte UUID strings of [A-Za-z0-9-]."""
    for _ in range(200):
        value = fake.braze_object_id()
        assert UUID4.match(value) and len(value.encode()) == 36
        assert value != SAMPLE_SHARED_ID


def test_braze_user_and_dispatch_ids_are_24_lower_hex_d11(fake):
    """§8 D11: dispatch ids (and Braze user ids) are 24 lower-case hex characters."""
    for _ in range(200):
        for value in (fake.braze_user_id(), fake.braze_dispatch_id()):
            assert re.fullmatch(r"[0-9a-f]{24}", value)
            assert value != SAMPLE_SHARED_OBJECT_ID


def test_external_ids_never_mixpanel_placeholders_e2(fake):
    """§2 E2: the generator never creates Mixpanel placeholder external ids."""
    values = {fake.braze_external_id() for _ in range(2000)}
    assert not any(is_placeholder_id(v) for v in values)
    assert all(v and v.strip() == v for v in values)
    assert is_placeholder_id("NULL") and is_placeholder_id("Undefined") and "0" in MIXPANEL_PLACEHOLDER_IDS


@pytest.mark.parametrize("platform", BrazeProvider.platforms)
def test_device_model_and_os_version_match_platform(fake, platform):
    model, os_version = fake.braze_device(platform)
    assert model in BrazeProvider.device_models[platform]
    assert os_version in BrazeProvider.os_versions[platform]


def test_push_tokens_follow_platform_format(fake):
    assert re.fullmatch(r"[0-9a-f]{64}", fake.braze_push_token("ios"))
    assert ":APA91b" in fake.braze_push_token("android")
    assert fake.braze_push_token("web").startswith("https://")


def test_phone_numbers_are_e164(fake):
    for _ in range(500):
        assert re.fullmatch(r"\+[1-9]\d{7,14}", fake.braze_phone_number())


def test_currency_is_iso4217_and_price_has_its_minor_units(fake):
    for _ in range(300):
        currency = fake.braze_currency()
        assert re.fullmatch(r"[A-Z]{3}", currency) and currency in BrazeProvider.currencies
        price = fake.braze_price(currency)
        assert price > 0 and round(price, BrazeProvider.currencies[currency]) == price


def test_ad_ids_by_type(fake):
    assert fake.braze_ad_id("ios_idfa").isupper() or "-" in fake.braze_ad_id("ios_idfa")
    assert UUID4.match(fake.braze_ad_id("google_ad_id"))


def test_names_emails_urls_agents(fake):
    assert "@" in fake.braze_email()
    assert fake.braze_url().startswith("https://")
    assert fake.braze_user_agent()
    assert fake.braze_campaign_name("email") and fake.braze_canvas_name()
    assert fake.braze_step_name() in BrazeProvider.step_names
    assert fake.braze_variation_name() in BrazeProvider.variation_names
    assert UUID4.match(fake.braze_subscription_group_id())
    assert fake.braze_app_name("ios").endswith("iOS")


def test_same_seed_same_values():
    a, b = make_faker(9), make_faker(9)
    assert [a.braze_external_id() for _ in range(20)] == [b.braze_external_id() for _ in range(20)]
