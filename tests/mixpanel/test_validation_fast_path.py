"""mixpanel-ingestion.md §5.4 (V1–V15), §5.6, §5.2 limits: the per-event fast path of
`EventRules.check` agrees exactly with the full rule evaluation (`check.full_check`) on hostile input:
the same stored Row, or the same Rejection (rule, key, $insert_id, hence the same error text)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from fakes.mixpanel.config import DEFAULTS
from fakes.mixpanel.errors import RULES
from fakes.mixpanel.event_values import placeholder_ids
from fakes.mixpanel.storage import Row
from fakes.mixpanel.validation import MIN_TIME_MS, EventRules, Rejection

NOW_MS = 1_780_000_000_123
BAD_IDS = placeholder_ids(DEFAULTS["import.bad_ids"], True)
LO_S = MIN_TIME_MS // 1000
HI_S = NOW_MS // 1000


def rules(**overrides: Any) -> EventRules:
    kw: dict[str, Any] = dict(now_ms=NOW_MS, bad_ids=BAD_IDS, new_insert_id=lambda: "generated-id")
    kw.update(overrides)
    return EventRules(**kw)


def outcome(result: Row | Rejection, index: int = 3) -> tuple[Any, ...]:
    """Everything the caller can observe, including the §5.4 failed_records entry for a rejection."""
    if isinstance(result, Rejection):
        return ("rejected", result.rule_id, result.key, result.insert_id,
                RULES[result.rule_id].failure(index, result.insert_id, result.key))
    return ("row", result.project_id, result.event, result.distinct_id, result.time_ms, result.insert_id,
            result.insert_id_generated, result.properties, result.raw_properties, result.dropped,
            result.quarantine)


def valid_event(**props: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"time": HI_S - 60, "distinct_id": "user-1",
                            "$insert_id": "be36172f-e363-486f-843d-9c170aa5c477", "platform": "ios"}
    base.update(props)
    return {"event": "Session Start", "properties": base}


# --- hostile values around every fast-path boundary ---------------------------------------------------
edge_text = st.one_of(
    st.sampled_from(["", " ", "\t\n", "\u00a0", "x", "user-1", "NULL", "Undefined", "LMY47D", "-1", "0",
                     "00000000-0000-0000-0000-000000000000", "00000000-0000-0000-0000-00000000000A",
                     "a" * 36, "a" * 37, "---", "abc_def", "abc def", "\u0130", "ä", "\ud800", "x" * 255,
                     "x" * 256, "é" * 64, "é" * 128]),
    st.text(max_size=40),
)
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), edge_text)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(edge_text, inner, max_size=3), max_leaves=8)
times = st.one_of(
    st.integers(LO_S - 3, LO_S + 3), st.integers(HI_S - 3, HI_S + 3600 + 3),
    st.integers(HI_S * 1000 - 3, HI_S * 1000 + 3), st.integers(-10**12, 10**13),
    st.sampled_from([True, False, None, "1700000000", 99_999_999_999, 100_000_000_000, 10**400]),
    st.floats(), st.integers(LO_S, HI_S).map(float),
)
keys = st.one_of(st.sampled_from(["platform", "ip", "$ignore", "$user_id", "$device_id", "token", "k" * 255,
                                  "k" * 256, "\ud800", ""]), st.text(max_size=12))
props_strategy = st.builds(
    lambda base, extra, drop: {k: v for k, v in {**base, **extra}.items() if k not in drop},
    st.fixed_dictionaries({"time": times, "distinct_id": st.one_of(edge_text, json_values),
                           "$insert_id": st.one_of(edge_text, json_values)}),
    st.dictionaries(keys, json_values, max_size=5),
    st.sets(st.sampled_from(["time", "distinct_id", "$insert_id"]), max_size=2),
)
records = st.one_of(
    st.builds(lambda e, p: {"event": e, "properties": p}, st.one_of(edge_text, json_values), props_strategy),
    st.fixed_dictionaries({}, optional={"event": edge_text, "properties": st.one_of(json_values, props_strategy)}),
    json_values,
)
configs = st.sampled_from([
    {},
    {"strict": False, "skip": frozenset({"V7", "V8", "V9"})},
    {"strict": False, "skip": frozenset({"V7", "V8", "V9", "V10", "V12"})},
    {"truncate_bytes": True},
    {"max_string_len": 8},
    {"check_size": True, "max_event_bytes": 60_000, "max_properties": 5},
    {"ms_threshold": 1e9},
    {"simplified": False},
])


@settings(max_examples=400)
@given(config=configs, record=records)
def test_fast_path_agrees_with_full_rules_on_hostile_records(config, record):
    """§5.4 V1–V15 / §5.6 / §5.2: fast path and full evaluation give the same Row or the same Rejection."""
    check = rules(**config).check
    full = getattr(check, "full_check", check)
    assert outcome(check(record)) == outcome(full(record))


@settings(max_examples=200)
@given(config=configs, t=times, distinct=edge_text, insert_id=edge_text, value=json_values, key=keys)
def test_fast_path_agrees_near_valid_records(config, t, distinct, insert_id, value, key):
    """§5.4 V3–V10, §5.2: one field at a time off a valid event, both paths agree."""
    check = rules(**config).check
    full = getattr(check, "full_check", check)
    for record in (valid_event(time=t), valid_event(distinct_id=distinct), valid_event(**{"$insert_id": insert_id}),
                   valid_event(platform=value), valid_event(**{key: value})):
        assert outcome(check(record)) == outcome(full(record))


def test_fast_path_is_on_for_import_and_stores_the_event_unchanged():
    """§5.4 / §5.6: the default /import rules use the fast path; a valid event is stored as sent, seconds → ms."""
    check = rules().check
    assert hasattr(check, "full_check")
    record = valid_event()
    row = check(record)
    assert isinstance(row, Row)
    assert row.time_ms == (HI_S - 60) * 1000 and row.properties is record["properties"]
    assert outcome(row) == outcome(check.full_check(record))


def test_fast_path_is_off_where_events_are_normalised():
    """§6 /track time rules, §5.11 ingest properties and V11 body scans go straight to the full rules."""
    assert not hasattr(rules(mode="track").check, "full_check")
    assert not hasattr(rules(track_max_age_ms=5 * 86_400_000).check, "full_check")
    assert not hasattr(rules(check_utf8=True).check, "full_check")
    assert not hasattr(rules(ingest_properties={"$import": True}).check, "full_check")
    assert not hasattr(rules(ms_threshold=1e6).check, "full_check")  # the seconds range reaches the ms branch


def test_fast_path_boundaries_fall_back_with_exact_rejections():
    """§5.4 V5, V6, V8, V10, V10placeholder: edge values answer the full path's rule and $insert_id."""
    check = rules().check
    cases = {
        "V5": valid_event(time=LO_S - 1),
        "V6": valid_event(time=HI_S + 3601),
        "V8": valid_event(distinct_id="Undefined"),
        "V10": valid_event(**{"$insert_id": "a" * 37}),
        "V10placeholder": valid_event(**{"$insert_id": "00000000-0000-0000-0000-000000000000"}),
    }
    for rule_id, record in cases.items():
        result = check(record)
        assert isinstance(result, Rejection) and result.rule_id == rule_id
        assert outcome(result) == outcome(check.full_check(record))
    for record in (valid_event(ip="1.2.3.4"), valid_event(**{"$ignore": True}), valid_event(platform="x" * 256),
                   valid_event(**{"k" * 256: 1}), valid_event(platform=["a"]), valid_event(platform={"a": 1})):
        assert outcome(check(record)) == outcome(check.full_check(record))  # normalised: §5.11, V15, §5.2
    few = rules(max_properties=3).check  # §5.2 property count: 4 properties are one too many
    assert few(valid_event()).rule_id == "V12count"
    assert isinstance(check(valid_event(time=LO_S)), Row)
    assert isinstance(check(valid_event(time=HI_S)), Row)
