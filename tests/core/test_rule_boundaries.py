"""Exact core rules pinned so a one-token change fails a test (issue 14): secret names are masked in every
letter case (DESIGN.md §6 'Secrets never leak'), and the simulated clock keeps fractional seconds
(DESIGN.md §3 / §4 `/_harness/clock`)."""

from __future__ import annotations

import pytest
from stand_in_fake import AUTH_HEADERS

from fakes.core import ClockError, Scheduler, SimulatedClock
from fakes.core.masking import MASK, SecretMasker

# --- DESIGN.md §6: secret field and query-parameter names match in any letter case ------------------------

SPELLINGS = ["api_secret", "API_SECRET", "Api_Secret", "aPi_sEcReT"]


@pytest.mark.parametrize("configured", ["api_secret", "API_SECRET", "Api_Secret"])
@pytest.mark.parametrize("sent", SPELLINGS)
def test_6_secret_field_names_masked_in_any_case_in_payloads(configured, sent):
    """DESIGN.md §6: a secret field is masked whatever the case of the configured name and of the key sent,
    at the top level and nested; other keys are kept."""
    masker = SecretMasker(secret_fields=(configured,))
    payload = {sent: "not-a-known-value", "nested": [{sent: "also-unknown"}], "api_secretive": "kept"}
    assert masker.mask_value(payload) == {sent: MASK, "nested": [{sent: MASK}], "api_secretive": "kept"}


@pytest.mark.parametrize("configured", ["api_secret", "API_SECRET", "Api_Secret"])
@pytest.mark.parametrize("sent", SPELLINGS)
def test_6_secret_query_parameter_names_masked_in_any_case(configured, sent):
    """DESIGN.md §6: a secret query parameter is masked whatever the case of its name."""
    masker = SecretMasker(secret_fields=(configured,))
    assert masker.mask_query([(sent, "not-a-known-value"), ("other", "v")]) == {sent: [MASK], "other": ["v"]}


def test_6_journal_masks_secret_names_in_any_case_over_http(client):
    """DESIGN.md §6 through the wire: the stand-in fake's journal masks `api_secret` / `token` sent as
    query parameters and JSON keys in other cases, with values the fake does not know as secrets."""
    resp = client.post("/ingest?API_SECRET=q-leak-1&Token=q-leak-2&plain=shown",
                       json={"Api_Secret": "b-leak-1", "deep": {"TOKEN": "b-leak-2"}, "plain": "shown"},
                       headers=AUTH_HEADERS)
    assert resp.status_code == 200
    entry = client.get("/_harness/requests").get_json()["requests"][-1]
    assert entry["query"] == {"API_SECRET": [MASK], "Token": [MASK], "plain": ["shown"]}
    assert entry["payload"] == {"Api_Secret": MASK, "deep": {"TOKEN": MASK}, "plain": "shown"}


# --- DESIGN.md §3 / §4: the clock keeps fractional seconds -----------------------------------------------------

@pytest.mark.parametrize("driven", [False, True])
@pytest.mark.parametrize("step", [0.001, 0.25, 0.5, 1.75, 2.999])
def test_3_clock_advance_keeps_fractional_seconds(driven, step):
    """DESIGN.md §3: `advance(s)` moves the clock by exactly `s` seconds, fractions included, with or
    without a scheduler driving it."""
    clock = SimulatedClock(1_700_000_000.0)
    if driven:
        Scheduler.on(clock)
    assert clock.advance(step) == 1_700_000_000.0 + step
    assert clock.now() == 1_700_000_000.0 + step
    assert clock.now_ms() == 1_700_000_000_000 + round(step * 1000)


def test_3_clock_set_keeps_fractional_seconds():
    clock = SimulatedClock(0.0)
    assert clock.set(1_700_000_000.125) == 1_700_000_000.125 == clock.now()


@pytest.mark.parametrize("body, now", [
    ({"advance_s": 0.5}, 1_700_000_000.5),
    ({"advance_s": 1.25}, 1_700_000_001.25),
    ({"now": 1_700_000_123.75}, 1_700_000_123.75),
])
def test_4_clock_control_route_keeps_fractional_seconds(client, body, now):
    """DESIGN.md §4 `POST /_harness/clock`: `advance_s` and `now` keep their fractions (the answer and a
    later read agree)."""
    client.post("/_harness/clock", json={"now": 1_700_000_000})
    resp = client.post("/_harness/clock", json=body)
    assert resp.status_code == 200 and resp.get_json()["now"] == now
    assert client.get("/_harness/clock").get_json()["now"] == now


# --- DESIGN.md §3: the clock's range and its advance, both sides of each bound ---------------------------------

MIN_EPOCH, MAX_EPOCH = -62_135_596_800.0, 253_402_300_799.0  # 0001-01-01T00:00:00Z, 9999-12-31T23:59:59Z


@pytest.mark.parametrize("epoch, ok", [
    (MIN_EPOCH - 1, False), (MIN_EPOCH, True), (MIN_EPOCH + 1, True),
    (MAX_EPOCH - 1, True), (MAX_EPOCH, True), (MAX_EPOCH + 1, False),
])
def test_3_clock_range_is_year_1_to_9999_inclusive(epoch, ok):
    """DESIGN.md §3: the clock stays between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z, both included."""
    clock = SimulatedClock(0.0)
    if ok:
        assert clock.set(epoch) == epoch == clock.now()
    else:
        with pytest.raises(ClockError, match="between year 1 and year 9999"):
            clock.set(epoch)
        assert clock.now() == 0.0


@pytest.mark.parametrize("step, ok", [(-0.001, False), (0, True), (0.0, True), (0.001, True)])
def test_3_clock_advance_by_zero_is_allowed_negative_is_not(step, ok):
    """DESIGN.md §3: `advance(0)` is a no-op move, any negative step is refused (use `set` to go back)."""
    clock = SimulatedClock(100.0)
    if ok:
        assert clock.advance(step) == 100.0 + step
    else:
        with pytest.raises(ClockError, match="advance_s must be >= 0"):
            clock.advance(step)
        assert clock.now() == 100.0


def test_4_clock_control_route_advance_zero_and_negative(client):
    """DESIGN.md §4: `{"advance_s": 0}` answers 200 with the time unchanged; a negative one a 400."""
    client.post("/_harness/clock", json={"now": 1_700_000_000})
    resp = client.post("/_harness/clock", json={"advance_s": 0})
    assert resp.status_code == 200 and resp.get_json()["now"] == 1_700_000_000
    assert client.post("/_harness/clock", json={"advance_s": -1}).status_code == 400
    assert client.get("/_harness/clock").get_json()["now"] == 1_700_000_000


# --- DESIGN.md §6 masking: edges found by the mutation run (bench/mutation.py core.masking) ----------------------

def _nested(depth: int, leaf, kind=dict):
    value = leaf
    for _ in range(depth):
        value = {"k": value} if kind is dict else [value]
    return value


@pytest.mark.parametrize("kind", [dict, list])
@pytest.mark.parametrize("max_depth", [1, 2, 5])
def test_6_mask_value_shows_exactly_max_depth_levels(kind, max_depth):
    """DESIGN.md §6: `mask_value` shows containers down to `max_depth` levels; the level below becomes the
    elided marker (dicts and lists alike)."""
    from fakes.core.nesting import elided_marker

    masker = SecretMasker()
    shown = _nested(max_depth, "leaf", kind)
    assert masker.mask_value(shown, max_depth=max_depth) == shown
    deeper = masker.mask_value(_nested(max_depth + 1, "leaf", kind), max_depth=max_depth)
    assert deeper == _nested(max_depth, elided_marker(max_depth), kind)


def test_6_mask_value_default_depth_is_64():
    from fakes.core.masking import DEFAULT_MAX_DEPTH
    from fakes.core.nesting import elided_marker

    assert DEFAULT_MAX_DEPTH == 64
    masker = SecretMasker()
    assert masker.mask_value(_nested(64, 1)) == _nested(64, 1)
    assert masker.mask_value(_nested(65, 1)) == _nested(64, elided_marker(64))


def test_6_mask_headers_masks_every_header_and_joins_repeats():
    masker = SecretMasker(secret_values=lambda: ["s3cret-value"])
    assert masker.mask_headers([("Authorization", "Basic abc"), ("X-Note", "has s3cret-value"), ("X-Note", "two"),
                                ("Accept", "*/*")]) == {
        "Authorization": "Basic ***", "X-Note": "has ***, two", "Accept": "*/*"}


def test_6_masking_follows_the_secret_values_as_they_change():
    """DESIGN.md §6: the values masked are those the fake knows now (a rotated key is masked at once)."""
    current = ["first-secret"]
    masker = SecretMasker(secret_values=lambda: list(current))
    assert masker.mask_text("first-secret second-secret") == "*** second-secret"
    current[:] = ["second-secret"]
    assert masker.mask_text("first-secret second-secret") == "first-secret ***"


def test_6_secret_field_at_the_very_start_of_a_text_is_masked():
    masker = SecretMasker(secret_fields=("token",))
    assert masker.mask_text("token=abc") == "token=***"
    assert masker.mask_text("token=abc&x=1") == "token=***&x=1"


def test_6_shortest_hunted_base64_core_is_masked_exactly():
    """DESIGN.md §6 / mixpanel-ingestion.md §3 R4: a 6-byte secret aligned on a base64 group has an 8-character
    core (the shortest hunted, MIN_BASE64_CORE): it is masked, and exactly it."""
    import base64

    secret = "s3cr3t"
    core = base64.b64encode(secret.encode()).decode()
    assert len(core) == 8
    text = base64.b64encode(b"xyz" + secret.encode() + b"123").decode()
    masker = SecretMasker(secret_values=lambda: [secret])
    assert masker.mask_text(text) == text.replace(core, MASK) != text


def test_6_mask_value_goes_on_after_an_elided_container():
    """DESIGN.md §6: a container cut at the depth limit does not stop the walk: its siblings are shown."""
    from fakes.core.nesting import elided_marker

    marker = elided_marker(1)
    payload = {"a": {"x": 1}, "b": [2], "c": "shown", "d": {"y": 3}}
    assert SecretMasker().mask_value(payload, max_depth=1) == {"a": marker, "b": marker, "c": "shown", "d": marker}
