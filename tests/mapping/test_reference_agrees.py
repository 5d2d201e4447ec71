"""The plain reference interpreter and the compiled fast path agree (issue 8, build item 5).

Same event (keys in the same order, values of the same type), same reason, same warnings: on generated
records (harness.strategies, harness.generate) in every shape, on adversarial ones (wrong types, nulls,
missing keys, unknown types, oversize records, hostile Custom HTTP layouts), under configs drawn over every
§11 option, and on every sample record when ../shared is present.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.catalog import PROFILES, load_catalog
from harness.currents_io import read_records
from harness.generate import RecordFactory, StreamConfig, WorldConfig, build_world, generate_records
from harness.mapping import DEFAULT_MAX_RECORD_BYTES, MappingConfig, MappingResult, PlanCache, map_currents_event
from harness.mapping.reference import map_currents_event_reference
from harness.strategies import (
    adversarial_events,
    adversarial_records,
    currents_events,
    currents_records,
    event_streams,
    malformed_events,
    type_ids,
)

CATALOG = load_catalog()
FACTORY = RecordFactory()
ENVELOPE_KEYS = ("$partner_id", "distinct_id", "$insert_id", "time", "token")

# --- comparing results ----------------------------------------------------------------------------------


def same(a: Any, b: Any) -> bool:
    """Equal values of the same types, dict keys in the same order; NaN equals NaN (decoded twice)."""
    if type(a) is not type(b):
        return False
    if type(a) is dict:
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if type(a) in (list, tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is float and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


def assert_agree(record: Any, config: MappingConfig, cache: PlanCache | None = None, **options: Any) -> MappingResult:
    """Reference vs compiled, the compiled one twice: the first call compiles (general path), the second
    takes the cached runner (hot path)."""
    expected = map_currents_event_reference(record, config, **options)
    cache = cache if cache is not None else PlanCache()
    for attempt in ("cold", "warm"):
        got = map_currents_event(record, config, cache=cache, **options)
        assert isinstance(got, MappingResult)
        assert got.reason == expected.reason, (attempt, got, expected)
        assert got.type_id == expected.type_id, (attempt, got, expected)
        assert got.warnings == expected.warnings, (attempt, got, expected)
        assert same(got.event, expected.event), (attempt, got.event, expected.event)
    return expected


# --- configs over every §11 option --------------------------------------------------------------------

_RECORD_LIMITS = st.one_of(st.just(DEFAULT_MAX_RECORD_BYTES), st.sampled_from([1, 400, 1500]), st.integers(1, 5000))


def configs(max_record_bytes: st.SearchStrategy[int] = _RECORD_LIMITS) -> st.SearchStrategy[MappingConfig]:
    """Any combination of the §11 mapping settings; empty prefixes and separators make N6 clashes possible,
    small `max_record_bytes` make E12 drops frequent."""
    return st.builds(
        MappingConfig,
        profile=st.sampled_from(PROFILES),
        token=st.sampled_from(["tok", ""]) | st.text(max_size=8),
        custom_event_prefix=st.sampled_from(["[Braze Custom Event]", "", "X"]),
        custom_event_property_prefix=st.sampled_from(["[Custom event property]", ""]),
        purchase_property_prefix=st.sampled_from(["[Purchase property]", ""]),
        prefix_separator=st.sampled_from([" ", "", "::"]),
        nested_property_mode=st.sampled_from(["keep", "flatten", "json_string"]),
        strict_properties=st.booleans(),
        null_policy=st.sampled_from(["omit", "emit_null"]),
        drift_fields=st.sampled_from(["forward", "drop"]),
        undocumented_types=st.sampled_from(["skip", "export"]),
        export_set=st.sampled_from(["glossary", "partner_page"]),
        line_rcs_event_names=st.sampled_from(["printed", "prefixed"]),
        trim_event_names=st.booleans(),
        empty_external_id_is_missing=st.booleans(),
        max_record_bytes=max_record_bytes,
        legacy_insert_id=st.booleans(),
        legacy_partner_id=st.booleans(),
        legacy_iam_casing=st.sampled_from(["as_printed", "title"]),
    )


# The non-default values of each option; the fixed tests below use each at least once under both profiles
# (hypothesis draws the other combinations through `configs()`).
_NON_DEFAULT: dict[str, list[Any]] = {
    "token": ["", "other-token"],
    "custom_event_prefix": ["", "X"],
    "custom_event_property_prefix": [""],
    "purchase_property_prefix": [""],
    "prefix_separator": ["", "::"],
    "nested_property_mode": ["flatten", "json_string"],
    "strict_properties": [True],
    "null_policy": ["emit_null"],
    "drift_fields": ["drop"],
    "undocumented_types": ["export"],
    "export_set": ["partner_page"],
    "line_rcs_event_names": ["prefixed"],
    "trim_event_names": [True],
    "empty_external_id_is_missing": [False],
    "max_record_bytes": [700, 1],
    "legacy_insert_id": [False],
    "legacy_partner_id": [True],
    "legacy_iam_casing": ["title"],
}


def _option_configs() -> list[MappingConfig]:
    """Few configs (compiling plans costs ~2 ms a type) that together hold every non-default value."""
    out = []
    for profile in PROFILES:
        base = MappingConfig(profile=profile)
        first = {key: values[0] for key, values in _NON_DEFAULT.items() if key != "max_record_bytes"}
        second = {key: values[-1] for key, values in _NON_DEFAULT.items() if key != "max_record_bytes"}
        out += [
            base,
            base.with_(**first),  # every first alternative at once (strict, empty prefixes, ...)
            base.with_(**dict(second, strict_properties=False)),  # the second ones, lenient
            base.with_(strict_properties=True, nested_property_mode="flatten", null_policy="emit_null"),
            base.with_(trim_event_names=True, legacy_iam_casing="title"),  # N7 trimming of the printed names
            *(base.with_(max_record_bytes=size) for size in _NON_DEFAULT["max_record_bytes"]),
        ]
    return out


OPTION_CONFIGS = _option_configs()
OPTION_CACHE = PlanCache()  # shared by the fixed tests: each (config, type) compiles once


def test_option_configs_hold_every_non_default_value():
    for profile in PROFILES:
        used = [c.as_dict() for c in OPTION_CONFIGS if c.profile == profile]
        for key, values in _NON_DEFAULT.items():
            assert set(values) <= {c[key] for c in used}, key


# --- generated records ------------------------------------------------------------------------------------

def _shapes(type_id: str, record: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(input, options) for one generated flat record in each shape the type exists in."""
    out: list[tuple[dict[str, Any], dict[str, Any]]] = [
        ({**record, "event_type": type_id}, {}),
        (FACTORY.to_custom_http(type_id, record), {}),
    ]
    if FACTORY.plan(type_id).has_storage_schema:
        out.append(({**FACTORY.to_avro_record(type_id, record), "event_type": type_id}, {}))
        storage = FACTORY.to_storage_json(type_id, record)
        out.append(({**storage, "event_type": type_id}, {"storage_json": True}))
        out.append((storage, {"storage_json": True, "type_id": type_id}))
    return out


@given(currents_records(), configs())
def test_generated_records_agree_in_every_shape(pair, config):
    type_id, record = pair
    for item, options in _shapes(type_id, record):
        assert_agree(item, config, **options)


@given(currents_events(), configs())
def test_generated_custom_http_events_agree(event, config):
    assert_agree(event, config)


@settings(max_examples=10)
@given(event_streams(max_events=120, max_users=10), configs())
def test_generated_streams_agree(stream, config):
    cache = PlanCache()
    for event in stream[2]:
        assert_agree(event, config, cache)


def test_generator_stream_agrees_under_every_option():
    """A seeded stream of the bulk generator (every lifecycle), each §11 option value alone and together."""
    world = build_world(11, WorldConfig(users=30))
    records = list(generate_records(world, StreamConfig(events=400), seed=3))
    inputs = [shaped for type_id, record in records[::2] for shaped in _shapes(type_id, record)[:3]]
    for config in OPTION_CONFIGS:
        for item, options in inputs:
            assert_agree(item, config, OPTION_CACHE, **options)


# --- adversarial records ------------------------------------------------------------------------------------

@given(adversarial_records(), configs())
def test_adversarial_records_agree(pair, config):
    type_id, record = pair
    assert_agree({**record, "event_type": type_id}, config)
    assert_agree(record, config, type_id=type_id)


@given(adversarial_events(), configs())
def test_adversarial_events_agree(event, config):
    assert_agree(event, config)


@given(malformed_events(), configs(), st.none() | type_ids() | st.just("no.such.Type"),
       st.none() | st.integers(0, 2 * DEFAULT_MAX_RECORD_BYTES), st.booleans())
def test_malformed_input_agrees(event, config, type_id, size, storage_json):
    assert_agree(event, config, type_id=type_id, size=size, storage_json=storage_json)


_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
_ODD_VALUES = st.one_of(
    _SCALARS,
    st.lists(_SCALARS, max_size=3),
    st.dictionaries(st.text(max_size=6), _SCALARS, max_size=3),
    _SCALARS.map(lambda v: {"string": v}),  # an Avro-JSON union wrapper, wherever it is
    st.lists(_SCALARS.map(lambda v: {"string": v}) | st.none(), max_size=3).map(lambda v: {"array": v}),
    st.just({"int": 1, "string": "x"}),  # two keys: not a wrapper
    st.sampled_from(["", " ", "0", "null", "undefined", "{bad", "[1, 2]", '"text"', "NaN", '{"n": NaN}',
                     '{"big": 18446744073709551616}', "{}"]),
    st.integers(200, 3000).map(lambda n: '{"a":' * n + "1" + "}" * n),  # nesting beyond recursion limits
)


def _property_objects() -> st.SearchStrategy[Any]:
    """Custom/purchase properties that clash with standard keys (N6) or nest deeply (N3 modes)."""
    keys = st.sampled_from([*ENVELOPE_KEYS, "app_id", "$device", "platform", "product_id", "a", "", "a.b"])
    flat = st.dictionaries(keys | st.text(max_size=6), _ODD_VALUES, max_size=5)
    nested = st.recursive(
        _SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3), max_leaves=12)
    deep = st.integers(300, 1500).map(lambda n: _nest(n))
    return st.one_of(flat, st.dictionaries(keys, nested, max_size=4), deep, flat.map(json.dumps),
                     st.dictionaries(st.integers(0, 3), _SCALARS, max_size=3))


def _nest(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(depth):
        value = {"k": value}
    return value


@st.composite
def hostile_inputs(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """A generated record of any type and shape, then a few hostile edits: keys deleted, set to null or to
    a value of the wrong type, wrapped where no wrapper belongs, unknown keys added, Custom HTTP keys moved
    to the wrong section, identity set to "" / 0 / a wrapper, properties undecodable or clashing."""
    type_id, record = draw(currents_records(draw(type_ids())))
    item, options = draw(st.sampled_from(_shapes(type_id, record)))
    item = json.loads(json.dumps(item))  # a private copy to edit
    sections = [item] + [item[k] for k in ("user", "properties") if type(item.get(k)) is dict]
    field_names = [f.name for f in CATALOG[type_id].fields]
    for _ in range(draw(st.integers(0, 6))):
        section = draw(st.sampled_from(sections))
        key = draw(st.sampled_from(sorted(section) + field_names + ["surprise", "event_type", "user"])
                   if section else st.sampled_from(field_names))
        edit = draw(st.sampled_from(["delete", "null", "odd", "move", "identity", "properties"]))
        if edit == "delete":
            section.pop(key, None)
        elif edit == "null":
            section[key] = None
        elif edit == "odd":
            section[key] = draw(_ODD_VALUES)
        elif edit == "move" and key in section:
            draw(st.sampled_from(sections))[key] = section.pop(key)
        elif edit == "identity":
            section["external_user_id"] = draw(st.sampled_from(["", 0, False, [], {"string": ""}, {"string": None},
                                                                {"string": "u"}, "u"]))
        elif edit == "properties":
            target = "custom_properties" if section is not item and "custom_properties" in section else "properties"
            section[target] = draw(_property_objects())
    return item, options


_EXPANDED_TYPES = [t.type_id for t in CATALOG.all_types() if t.has_field("properties")]


@given(st.sampled_from(_EXPANDED_TYPES).flatmap(currents_records), st.one_of(_property_objects(), _ODD_VALUES),
       configs(max_record_bytes=st.just(DEFAULT_MAX_RECORD_BYTES)), st.booleans())
def test_custom_and_purchase_properties_agree_n3_n6(pair, properties, config, custom_http):
    """N3-N6 on custom events and purchases: clashing keys, nesting, undecodable JSON, strict or not."""
    type_id, record = pair
    record = dict(record, properties=properties, external_user_id="user-1")
    if custom_http:
        event = FACTORY.to_custom_http(type_id, record)
        assert_agree(event, config)
    else:
        assert_agree({**record, "event_type": type_id}, config)


@given(hostile_inputs(), configs(), st.none() | st.integers(0, 3000))
def test_hostile_inputs_agree(pair, config, size):
    item, options = pair
    assert_agree(item, config, size=size, **options)


@pytest.mark.parametrize("shape", ["flat", "custom-http"])
def test_oversize_records_agree_e12(shape):
    """E12 at the default limit: a record just over 900 KB is dropped by both, one well under it is not;
    an explicit size at the limit and one byte over."""
    type_id = "users.behaviors.CustomEvent"
    record = {"id": "0b6f2c5e-1f0e-4d7e-9a57-4f1b8a1e2c3d", "user_id": "5f0c0c0c0c0c0c0c0c0c0c0c",
              "external_user_id": "user-1", "time": 1_700_000_000, "name": "Padded", "platform": "ios"}
    config = MappingConfig()
    for padding in (DEFAULT_MAX_RECORD_BYTES, DEFAULT_MAX_RECORD_BYTES // 2):
        padded = dict(record, properties={"pad": "x" * padding})
        if shape == "flat":
            item = {**padded, "event_type": type_id}
        else:
            user = {"user_id": padded.pop("user_id"), "external_user_id": padded.pop("external_user_id")}
            top = {"event_type": type_id, "id": padded.pop("id"), "time": padded.pop("time")}
            custom_properties = padded.pop("properties")
            item = {**top, "user": user, "properties": {**padded, "custom_properties": custom_properties}}
        result = assert_agree(item, config)
        assert (result.reason == "oversize") == (padding == DEFAULT_MAX_RECORD_BYTES)
        for size in (DEFAULT_MAX_RECORD_BYTES, DEFAULT_MAX_RECORD_BYTES + 1):
            assert assert_agree(item, config, size=size).mapped == (size == DEFAULT_MAX_RECORD_BYTES)


def test_e12_measures_what_the_runners_measure():
    """E12 at the byte where it matters: a Custom HTTP event in its §1 layout is measured as received, one
    with a key out of place as flattened; limits on either side of both sizes."""
    from harness.currents_io import normalise_custom_http
    from harness.mapping.fields import record_size

    world = build_world(2, WorldConfig(users=5))
    events = [FACTORY.to_custom_http(t, r) for t, r in generate_records(world, StreamConfig(events=60), seed=2)]
    events = [e for e in events if e["user"].get("external_user_id")][:15]
    checked = 0
    for event in events:
        odd = dict(event, user=dict(event["user"], surprise=1))
        for item in (event, odd):
            sizes = {record_size(item), record_size(normalise_custom_http(item))}
            for limit in {size + delta for size in sizes for delta in (-1, 0, 1)}:
                if limit > 0:
                    result = assert_agree(item, MappingConfig(max_record_bytes=limit), OPTION_CACHE)
                    checked += result.reason == "oversize"
    assert checked > 15


# --- the sample records -------------------------------------------------------------------------------

def _sample_inputs(shapes_dir: Path) -> list[tuple[str, Any, dict[str, Any]]]:
    """Every sample in every shape: as the readers normalise it, and raw (storage JSON still wrapped)."""
    out: list[tuple[str, Any, dict[str, Any]]] = []
    for folder in ("avro", "storage-json", "custom-http"):
        for path in sorted((shapes_dir / folder).rglob("*.*")):
            for record in read_records(path):
                out.append((f"{folder}/{path.name}", record, {}))
            if path.suffix == ".json":
                raw = json.loads(path.read_text(encoding="utf-8"))
                options = {"storage_json": True, "type_id": path.stem} if folder == "storage-json" else {}
                out.append((f"{folder}/{path.name} raw", raw, options))
    return out


def test_every_sample_record_agrees_under_every_option(shapes_dir):
    inputs = _sample_inputs(shapes_dir)
    assert len(inputs) > 400
    outcomes = set()
    for config in OPTION_CONFIGS:
        for label, record, options in inputs:
            try:
                result = assert_agree(record, config, OPTION_CACHE, **options)
            except AssertionError as exc:
                raise AssertionError(f"{label} under {config}") from exc
            outcomes.add(result.reason)
    assert outcomes >= {None, "not_exported", "oversize"}  # the option list reaches the drop rules


# --- the reference is independent of the compiled path --------------------------------------------------

def test_reference_runs_without_the_compiled_path(monkeypatch, shapes_dir):
    """The reference interpreter never compiles a plan nor runs generated code."""
    from harness.mapping import plan as plan_module

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the reference must not use the compiled path")

    monkeypatch.setattr(plan_module, "compile_plan", refuse)
    monkeypatch.setattr(plan_module.MappingPlan, "runner", refuse)
    mapped = 0
    for _label, record, options in _sample_inputs(shapes_dir):
        mapped += map_currents_event_reference(record, MappingConfig(), **options).mapped
    assert mapped > 200


def test_exec_only_in_the_compiled_plan():
    """Generated code is exec'd in harness/mapping/plan.py and nowhere else in the package."""
    package = Path(__file__).resolve().parents[2] / "harness" / "mapping"
    users = sorted(p.name for p in package.glob("*.py") if "exec(" in p.read_text(encoding="utf-8"))
    assert users == ["plan.py"]
