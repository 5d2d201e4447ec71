"""The catalog's lifecycle facts (`lifecycle_roles.csv`): channel, role, SDK logging, §8 D6 membership.

The generator looks event types up by (channel, role) (currents-to-mixpanel.md §8, §9); these tests hold the
data to the spec text and to the shape the generator relies on.
"""

from __future__ import annotations

import re

import pytest

from harness.catalog import (
    AREA_APP,
    CHANNEL_BANNER,
    CHANNEL_CONTENT_CARD,
    CHANNEL_FEATURE_FLAG,
    CHANNEL_IN_APP,
    CHANNEL_LIVE_ACTIVITY,
    CHANNELS,
    MESSAGE_CHANNELS,
    ROLE_NONE,
    load_catalog,
)

CATALOG = load_catalog()
ALL_TYPES = CATALOG.all_types()

# §8 D6 names channels in prose; the catalog's channel for each.
D6_CHANNELS = {
    "e-mail": "email", "push": "push", "SMS": "sms", "RCS": "rcs", "WhatsApp": "whatsapp", "LINE": "line",
    "webhook": "webhook", "Content Card": "content_card",
}


def _d6_from_spec(text: str) -> set[tuple[str, str]]:
    """(channel, record name) pairs of the D6 row: "e-mail Send, Delivery, ...; push Send, ...; Content Card Abort"."""
    row = next(line for line in text.splitlines() if line.startswith("| D6 |"))
    listed = re.search(r"wherever its type has the field \((.*?)\)\.", row)
    assert listed, "D6 row lists its types in parentheses"
    pairs = set()
    for group in listed.group(1).split(";"):
        group = group.strip()
        channel = next(name for name in sorted(D6_CHANNELS, key=len, reverse=True) if group.startswith(name))
        for name in group[len(channel):].split(","):
            record = "".join(word[:1].upper() + word[1:].lower() for word in name.split())
            pairs.add((D6_CHANNELS[channel], record))
    return pairs


@pytest.mark.parametrize("event_type", ALL_TYPES, ids=lambda t: t.type_id)
def test_every_type_has_a_known_channel_and_a_role(event_type):
    assert event_type.channel in CHANNELS
    assert event_type.role


def test_each_channel_role_resolves_to_exactly_one_type():
    """A (channel, role) names one type, so the generator can ask for "the e-mail Open" without its name."""
    for event_type in ALL_TYPES:
        if event_type.role != ROLE_NONE:
            assert CATALOG.type_for(event_type.channel, event_type.role) == event_type.type_id
            assert CATALOG.for_role(event_type.channel, event_type.role) is event_type


def test_an_unknown_role_is_a_clear_key_error():
    assert CATALOG.for_role("email", "teleport") is None
    with pytest.raises(KeyError, match="'teleport' on channel 'email'"):
        CATALOG.type_for("email", "teleport")


def test_message_types_of_a_channel_share_one_namespace():
    """Guards against a misfiled row: the message types of one channel sit under one Braze namespace."""
    for channel in CHANNELS:
        prefixes = {t.avro_prefix for t in CATALOG.by_channel(channel) if t.is_message}
        assert len(prefixes) <= 1, (channel, prefixes)


@pytest.mark.parametrize("channel", MESSAGE_CHANNELS)
def test_every_message_channel_has_an_opening_event(channel):
    """§9: each lifecycle starts with a Send, or with an Impression for in-app messages and Banners."""
    assert CATALOG.for_role(channel, "send") or CATALOG.for_role(channel, "impression")


@pytest.mark.parametrize("channel", [c for c in MESSAGE_CHANNELS if c != CHANNEL_LIVE_ACTIVITY])
def test_every_message_channel_has_an_abort_section_9(channel):
    """§9: an Abort replaces the Send (or the display) on every channel but Live Activities."""
    assert CATALOG.for_role(channel, "abort") is not None


def test_retry_types_are_message_prioritization_records_section_9():
    """§9: `users.messages.*.Retry` records exist for e-mail, push, SMS, WhatsApp, LINE and webhooks."""
    retries = {t.channel for t in ALL_TYPES if t.role == "retry"}
    assert retries == {"email", "push", "sms", "whatsapp", "line", "webhook"}
    assert all(t.type_id.endswith(".Retry") for t in ALL_TYPES if t.role == "retry")


def test_sdk_logged_types_are_device_events_section_9():
    """SDK clock skew (§9) applies to what the SDK logs: sessions and in-session behaviours, feature flag
    impressions, and what the user sees or taps in in-app messages, Content Cards and Banners."""
    logged = [t for t in ALL_TYPES if t.sdk_logged]
    assert {t.channel for t in logged} == {AREA_APP, CHANNEL_FEATURE_FLAG, CHANNEL_IN_APP, CHANNEL_CONTENT_CARD,
                                           CHANNEL_BANNER}
    assert not [t for t in logged if t.role in ("send", "abort", "retry")]
    assert {t.role for t in logged if t.channel == AREA_APP} == {
        "session_start", "first_session", "session_end", "custom_event", "purchase", "location"}


def test_dispatch_lifecycle_is_the_d6_list_section_8(spec_dir):
    """§8 D6: exactly the listed types join their message on (dispatch_id, distinct_id), and all have the field."""
    listed = _d6_from_spec((spec_dir / "currents-to-mixpanel.md").read_text(encoding="utf-8"))
    marked = {(t.channel, t.avro_record_name) for t in ALL_TYPES if t.in_dispatch_lifecycle}
    assert marked == listed
    assert all(t.has_field("dispatch_id") for t in ALL_TYPES if t.in_dispatch_lifecycle)


def test_a_dispatch_starts_with_a_send_or_an_abort_section_8():
    """§8 D6: "an Abort stands in for the Send it replaced"."""
    starters = {(t.channel, t.role) for t in ALL_TYPES if t.starts_dispatch}
    assert ("email", "send") in starters and ("email", "abort") in starters
    assert all(role in ("send", "abort") for _, role in starters)


def test_is_message_marks_the_messages_namespace():
    assert CATALOG.for_role("email", "open").is_message
    assert not CATALOG.for_role("app", "session_start").is_message
    assert not CATALOG.for_role("push", "token_state_change").is_message
