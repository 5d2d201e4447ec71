"""Event streams over a world (issue 5 §3): lifecycle orders, dispatch_id rules, knobs, every type."""

from __future__ import annotations

import copy
from collections import Counter

import pytest

from harness.catalog import load_catalog
from harness.generate.invariants import (
    dispatch_violations,
    envelope_violations,
    flatten,
    lifecycle_violations,
    time_order_violations,
)
from harness.generate.streams import (
    CHANNEL_TYPES,
    DEFAULT_ANCHOR,
    STORY_TYPES,
    GenerationError,
    StreamConfig,
    StreamReport,
    generate_events,
    generate_records,
)
from harness.generate.world import DELIVERY_SCHEDULED, WorldConfig, build_world

CATALOG = load_catalog()


@pytest.fixture(scope="module")
def world():
    return build_world(11)


@pytest.fixture(scope="module")
def stream(world):
    report = StreamReport()
    config = StreamConfig(events=20_000, keep_ledger=True)
    events = list(generate_events(world, config, report=report))
    return events, flatten(events), report, config


def test_exactly_n_events(stream):
    events, _, report, config = stream
    assert len(events) == config.events == report.events


def test_a_mixed_stream_covers_most_types(stream):
    _, flat, _, _ = stream
    assert len({e["event_type"] for e in flat}) >= 0.9 * len(CATALOG)


@pytest.mark.parametrize("type_id", CATALOG.type_ids)
def test_every_catalog_type_can_be_generated(world, type_id):
    """Issue 5 §3: streams over a world exist for every type in the catalog, exported or not."""
    flat = flatten(generate_events(world, StreamConfig(events=5, types=(type_id,))))
    assert [e["event_type"] for e in flat] == [type_id] * 5


def test_story_and_channel_tables_name_only_catalog_types():
    """The lifecycle tables reference types by id; each must exist in the catalog (one source of truth)."""
    for types in list(STORY_TYPES.values()) + list(CHANNEL_TYPES.values()):
        for type_id in types:
            assert type_id in CATALOG, type_id


def test_envelope_ids_external_ids_and_times(stream):
    """§2 E2/E3, §1, §10: UUID4 ids never the sample's, no placeholder external ids, nothing after the anchor."""
    _, flat, _, config = stream
    assert envelope_violations(flat, anchor=config.anchor) == []
    assert all(e["time"] <= DEFAULT_ANCHOR for e in flat)


def test_time_ordered_per_user_except_documented_skews(stream):
    """§9: per-user time order, except a push Open before its Send and SDK clock skew."""
    _, flat, report, _ = stream
    assert time_order_violations(flat, report.skewed_ids) == []
    assert report.skewed_ids, "the documented exceptions occur"


def test_dispatch_id_invariants_d1_to_d10(stream, world):
    """currents-to-mixpanel.md §8 D1, D2, D4 (default), D5, D6, D7, D8, D10."""
    _, flat, report, _ = stream
    assert dispatch_violations(flat, world, report.dispatches) == []


def test_d1_scheduled_send_shares_one_dispatch_id_across_users_and_channels(stream, world):
    """§8 D1/D3: every recipient of one scheduled send carries the send's single dispatch_id."""
    _, flat, report, _ = stream
    scheduled = {c.campaign_id for c in world.campaigns if c.delivery == DELIVERY_SCHEDULED}
    by_dispatch: dict[str, set[str]] = {}
    for e in flat:
        if e.get("campaign_id") in scheduled and e.get("dispatch_id"):
            by_dispatch.setdefault(e["dispatch_id"], set()).add(e["user_id"])
    assert any(len(users) > 1 for users in by_dispatch.values()), "a shared id across several users"
    ledger = {r.dispatch_id: r for r in report.dispatches if r.kind == "scheduled"}
    for dispatch_id, users in by_dispatch.items():
        assert dispatch_id in ledger and users <= set(ledger[dispatch_id].user_ids)


def test_d2_triggered_sends_one_dispatch_id_per_user_per_trigger(stream, world):
    """§8 D2: action-based / API-triggered: dispatch_id -> user is one-to-one; two triggers, two ids."""
    _, flat, report, _ = stream
    triggered = {c.campaign_id for c in world.campaigns if c.delivery != DELIVERY_SCHEDULED}
    owner: dict[str, str] = {}
    for e in flat:
        if e.get("campaign_id") in triggered and e.get("dispatch_id"):
            assert owner.setdefault(e["dispatch_id"], e["user_id"]) == e["user_id"]
    per_user = Counter(r.user_ids[0] for r in report.dispatches if r.kind == "triggered")
    assert any(n > 1 for n in per_user.values())
    ids = [r.dispatch_id for r in report.dispatches]
    assert len(ids) == len(set(ids))


def test_d5_scheduled_canvas_entry_step_shares_id_d4_other_steps_per_user(stream):
    """§8 D4/D5 under canvas_dispatch_mode=default."""
    _, flat, report, _ = stream
    kinds = Counter(r.kind for r in report.dispatches)
    assert kinds["canvas_entry_shared"] and kinds["canvas_step"]
    shared = {r.dispatch_id: r for r in report.dispatches if r.kind == "canvas_entry_shared"}
    carriers: dict[str, set[str]] = {}
    for e in flat:
        if e.get("dispatch_id") in shared:
            carriers.setdefault(e["dispatch_id"], set()).add(e["user_id"])
            if CATALOG[e["event_type"]].has_field("canvas_step_id"):
                assert e.get("canvas_step_id") == shared[e["dispatch_id"]].step_id
    assert any(len(u) > 1 for u in carriers.values())


@pytest.mark.parametrize("mode", ["shared", "mixed"])
def test_canvas_dispatch_modes(world, mode):
    """§8 D4 / §11 canvas_dispatch_mode: shared (and mixed) steps give one id to the whole batch."""
    report = StreamReport()
    flat = flatten(generate_events(world, StreamConfig(events=4000, canvas_dispatch_mode=mode, keep_ledger=True,
                                                       mix={"canvas": 1, "campaign": 0, "session": 0}), report=report))
    kinds = Counter(r.kind for r in report.dispatches)
    assert kinds["canvas_step_shared"] > 0
    if mode == "shared":
        assert kinds["canvas_step"] == 0
    assert dispatch_violations(flat, world, report.dispatches) == []


def test_lifecycle_orders(stream, world):
    """§9: e-mail, SMS, in-app, Content Card, sessions, conversions, inbound SMS attribution."""
    _, flat, _, _ = stream
    assert lifecycle_violations(flat, world) == []


def test_first_session_has_its_session_start(stream):
    """§9: every First Session is accompanied by a Session Start with the same session_id."""
    _, flat, _, _ = stream
    starts = {(e["user_id"], e["session_id"]) for e in flat if e["event_type"] == "users.behaviors.app.SessionStart"}
    firsts = [(e["user_id"], e["session_id"]) for e in flat if e["event_type"] == "users.behaviors.app.FirstSession"]
    assert firsts and all(f in starts for f in firsts)


def test_machine_opens_and_clicks_without_open_occur(stream):
    """§9 e-mail: some opens are machine opens (machine_open = "true")."""
    _, flat, _, _ = stream
    opens = [e for e in flat if e["event_type"] == "users.messages.email.Open"]
    assert any(e.get("machine_open") == "true" for e in opens) and any(e.get("machine_open") is None for e in opens)


def test_inbound_sms_attributed_to_every_user_sharing_the_number(world):
    """§9 SMS: one inbound message yields one event per profile sharing the phone number."""
    flat = flatten(generate_events(world, StreamConfig(events=3000, types=("users.messages.sms.InboundReceive",))))
    shared_phones = {u.phone for u in world.users if u.phone and len(world.users_sharing_phone(u.phone)) > 1}
    groups: dict[tuple, set[str]] = {}
    for e in flat:
        if e.get("user_phone_number") in shared_phones:
            groups.setdefault((e["user_phone_number"], e["time"], e["message_body"]), set()).add(e["user_id"])
    assert groups
    complete = [g for key, g in groups.items() if g == {u.user_id for u in world.users_sharing_phone(key[0])}]
    assert len(complete) >= len(groups) - 1  # the stream may end inside the last attribution


def test_push_open_before_send_rate_is_a_knob(world):
    """§9 / §11 push_open_before_send_rate: the Open is dated before its Send, yet follows it in the stream."""
    report = StreamReport()
    types = ("users.messages.pushnotification.Send", "users.messages.pushnotification.Open")
    flat = flatten(generate_events(world, StreamConfig(events=2000, types=types, rates={"push_open_before_send": 1.0}),
                                   report=report))
    sends = {(e["user_id"], e["dispatch_id"]): e["time"] for e in flat if e["event_type"].endswith("Send")}
    opens = [e for e in flat if e["event_type"].endswith("Open")]
    assert opens and all(o["time"] < sends[(o["user_id"], o["dispatch_id"])] for o in opens)
    assert {o["id"] for o in opens} <= report.skewed_ids


def test_identified_later_users_are_anonymous_first(world):
    """Issue 5 §2: a user identified after being anonymous has events without, then with, external_user_id."""
    flat = flatten(generate_events(world, StreamConfig(events=20_000)))
    later = {u.user_id for u in world.users if u.becomes_identified}
    seen: dict[str, list] = {}
    for e in flat:
        if e.get("user_id") in later:
            seen.setdefault(e["user_id"], []).append(e.get("external_user_id") is not None)
    switched = [flags for flags in seen.values() if False in flags and True in flags]
    assert switched
    for flags in switched:
        assert flags.index(True) > 0 and all(flags[flags.index(True):])


def test_anonymous_share_knob():
    """Issue 5 §3 knob: share of users without external_user_id."""
    none = build_world(2, WorldConfig(users=100, anonymous_share=0.0, identified_later_share=0.0))
    flat = flatten(generate_events(none, StreamConfig(events=2000)))
    assert all(e.get("external_user_id") for e in flat if e.get("user_id") and e["event_type"] != "users.UserOrphan")
    everyone = build_world(2, WorldConfig(users=100, anonymous_share=1.0, identified_later_share=0.0))
    assert not any(e.get("external_user_id") for e in flatten(generate_events(everyone, StreamConfig(events=2000))))


def test_type_filter_and_mix(world):
    wanted = ("users.messages.email.MarkAsSpam", "users.behaviors.Purchase")
    flat = flatten(generate_events(world, StreamConfig(events=300, types=wanted)))
    assert len(flat) == 300 and {e["event_type"] for e in flat} == set(wanted)
    only_sessions = flatten(generate_events(world, StreamConfig(events=500, mix={k: 0 for k in STORY_TYPES} | {"session": 1})))
    assert {e["event_type"] for e in only_sessions} <= set(STORY_TYPES["session"])


def test_time_span_and_anchor_knobs(world):
    anchor, span = 1_700_000_000, 3600
    flat = flatten(generate_events(world, StreamConfig(events=1000, anchor=anchor, span_s=span)))
    assert all(e["time"] <= anchor for e in flat)
    assert min(e["time"] for e in flat) >= anchor - span - 86_400  # SDK skew and push skew reach a little before


def test_duplicates_keep_the_same_id(world):
    """§9: at-least-once delivery: a redelivered record keeps its id (and so its $insert_id)."""
    report = StreamReport()
    flat = flatten(generate_events(world, StreamConfig(events=2000, rates={"duplicate": 0.2}), report=report))
    counts = Counter(e["id"] for e in flat)
    assert report.duplicate_ids and any(counts[i] == 2 for i in report.duplicate_ids)
    assert envelope_violations(flat, anchor=DEFAULT_ANCHOR, allow_duplicates=True) == []


def test_same_seed_same_stream(world):
    a = list(generate_events(world, StreamConfig(events=2000)))
    b = list(generate_events(build_world(11), StreamConfig(events=2000)))
    assert a == b
    assert a != list(generate_events(world, StreamConfig(events=2000), seed=12))


@pytest.mark.parametrize("config, message", [
    (StreamConfig(events=-1), "negative"),
    (StreamConfig(rates={"nope": 0.1}), "unknown rate"),
    (StreamConfig(rates={"abort": 2}), "between 0 and 1"),
    (StreamConfig(mix={"nope": 1}), "unknown story"),
    (StreamConfig(types=("users.nope",)), "unknown Currents event type"),
    (StreamConfig(canvas_dispatch_mode="sometimes"), "canvas_dispatch_mode"),
    (StreamConfig(anchor=1000), "1971"),
])
def test_bad_knobs_are_clear_errors(world, config, message):
    with pytest.raises(GenerationError, match=message):
        list(generate_records(world, config))


# --- the checkers themselves must catch broken streams ------------------------------------------------

def test_checkers_catch_violations(stream, world):
    _, flat, report, config = stream
    broken = copy.deepcopy(flat[:3000])
    opens = [i for i, e in enumerate(broken) if e["event_type"] == "users.messages.email.Open"]
    broken[opens[0]]["dispatch_id"] = "ffffffffffffffffffffffff"
    assert any(v.startswith("D6") for v in dispatch_violations(broken, world))
    first = next(i for i, e in enumerate(broken) if e["event_type"] == "users.behaviors.app.FirstSession")
    broken[first]["session_id"] = "other"
    assert any("First Session" in v for v in lifecycle_violations(broken, world))
    broken[5]["external_user_id"] = "undefined"
    broken[6]["time"] = config.anchor + 10
    assert len(envelope_violations(broken, anchor=config.anchor)) == 2
    reordered = list(reversed(flat[:500]))
    assert time_order_violations(reordered, set())


def test_oversize_records_only_when_asked(world):
    """§2 E12: the generator never produces records above ~900 KB unless asked (rate `oversize`)."""
    import json

    from harness.mapping import map_currents_event

    types = ("users.behaviors.CustomEvent",)
    normal = list(generate_events(world, StreamConfig(events=300, types=types)))
    assert max(len(json.dumps(e)) for e in normal) < 100_000
    big = list(generate_events(world, StreamConfig(events=50, types=types, rates={"oversize": 1.0})))
    assert all(len(json.dumps(e)) > 900 * 1024 for e in big)
    assert {map_currents_event(e).reason for e in big if e["user"].get("external_user_id")} == {"oversize"}


def test_catalog_types_without_a_lifecycle_still_generated(world, monkeypatch):
    """A type no story knows (e.g. one a newer catalog adds) is generated from the catalog alone."""
    from harness.generate import streams
    from harness.generate.invariants import schema_violations

    monkeypatch.setitem(streams.STORY_TYPES, "agent", ())
    events = list(generate_events(world, StreamConfig(events=20, types=("agentconsole.AgentExecuted", "agentconsole.ToolInvocation"))))
    assert len(events) == 20 and all(schema_violations(e) == [] for e in events)
    assert {e["event_type"] for e in events} <= {"agentconsole.AgentExecuted", "agentconsole.ToolInvocation"}


def test_uninstall_at_most_once_per_user_and_app(world):
    """§9: Uninstall is emitted at most once per (user, app)."""
    flat = flatten(generate_events(world, StreamConfig(events=100, types=("users.behaviors.Uninstall",),
                                                       rates={"uninstall": 1.0})))
    keys = [(e["user_id"], e["app_id"]) for e in flat]
    assert len(keys) == len(set(keys)) == 100


def test_sms_category_only_on_keyword_auto_replies(world):
    """§9 SMS: `Send.category` is set only for auto-replies (opt-in / opt-out / help / custom)."""
    flat = flatten(generate_events(world, StreamConfig(events=3000, rates={"inbound_keyword": 1.0, "reply": 1.0},
                                                       types=("users.messages.sms.Send", "users.messages.sms.InboundReceive"))))
    sends = [e for e in flat if e["event_type"] == "users.messages.sms.Send"]
    replies = [e for e in sends if e.get("category")]
    assert replies and {e["category"] for e in replies} <= {"opt-in", "opt-out"}
    assert all(e.get("campaign_id") is None and e.get("canvas_id") is None for e in replies)
    assert any(not e.get("category") for e in sends)
