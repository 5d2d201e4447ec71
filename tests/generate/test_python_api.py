"""The generator's Python API as a newcomer calls it (issue 12 item 14; harness.generate docstring)."""

from __future__ import annotations

import pytest

from harness.generate import GenerationError, StreamConfig, build_world, generate_events, generate_records

EMAIL = "users.messages.email.*"


@pytest.fixture(scope="module")
def world():
    return build_world(4)


def test_generate_events_takes_stream_options_as_keywords(world):
    assert len(list(generate_events(world, events=5))) == 5
    assert list(generate_events(world, events=7)) == list(generate_events(world, StreamConfig(events=7)))


def test_keywords_override_a_given_config(world):
    events = list(generate_events(world, StreamConfig(events=50, types=(EMAIL,)), events=3))
    assert len(events) == 3 and all(e["event_type"].startswith("users.messages.email.") for e in events)


def test_a_wrong_argument_says_what_is_taken(world):
    with pytest.raises(TypeError, match="StreamConfig fields"):
        generate_events(world, n=5)
    with pytest.raises(TypeError, match="events=N"):
        generate_events(world, 5)


def test_stream_config_types_take_the_clis_patterns(world):
    """`harness generate --type 'users.messages.email.*'` and StreamConfig(types=...) take the same patterns."""
    from harness.catalog import load_catalog

    email_types = set(load_catalog().match_types(EMAIL))
    by_pattern = [t for t, _ in generate_records(world, StreamConfig(events=200, types=(EMAIL,)))]
    by_ids = [t for t, _ in generate_records(world, StreamConfig(events=200, types=tuple(sorted(email_types))))]
    assert by_pattern == by_ids and set(by_pattern) <= email_types and len(set(by_pattern)) > 1
    one_string = [t for t, _ in generate_records(world, StreamConfig(events=200, types=EMAIL))]
    assert one_string == by_pattern
    comma = {t for t, _ in generate_records(world, types=("users.messages.sms.*,users.behaviors.Purchase",),
                                           events=300)}
    assert "users.behaviors.Purchase" in comma and all(
        t == "users.behaviors.Purchase" or t.startswith("users.messages.sms.") for t in comma)


def test_a_pattern_matching_nothing_is_a_clear_error(world):
    with pytest.raises(GenerationError, match="'users.nope.\\*' matches no Currents event type"):
        generate_records(world, StreamConfig(types=("users.nope.*",)))
