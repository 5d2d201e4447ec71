"""Public hypothesis strategies for Braze Currents data, derived from the event catalog (issue 5 §4).

    from harness.strategies import currents_events, adversarial_events, worlds, event_streams

    email_open = load_catalog().type_for(CHANNEL_EMAIL, "open")  # types are named by the catalog
    @given(currents_events(email_open))                      # one valid event of a type (Custom HTTP shape)
    @given(currents_events())                                # any type of the catalog
    @given(adversarial_events())                             # schema-typed but hostile values
    @given(malformed_events())                               # not even schema-typed (wrong types, junk keys)
    @given(worlds())                                         # small whole worlds
    @given(event_streams())                                  # (world, report, events) from the stream generator

Strategies share the catalog and the value sources of the bulk generator (`harness.generate.sources`):
a valid event is built by the same `RecordFactory` from a hypothesis-controlled `random.Random`, and the
adversarial strategies then overwrite a hypothesis-chosen set of fields with edge values of the field's
type. Nothing here lists a type's fields.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from harness.catalog import SHAPE_CUSTOM_HTTP, SourceField, load_catalog
from harness.generate.providers import MIXPANEL_PLACEHOLDER_IDS, uuid4_from_bits
from harness.generate.records import RecordFactory
from harness.generate.sources import Draw, pools_for
from harness.generate.streams import DEFAULT_ANCHOR, StreamConfig, StreamReport, generate_events
from harness.generate.world import World, WorldConfig, build_world

__all__ = [
    "adversarial_events", "adversarial_records", "adversarial_value", "currents_events", "currents_records",
    "event_streams", "external_user_ids", "malformed_events", "property_objects", "type_ids", "worlds",
]

MIN_TIME = 31_536_000  # 1971-01-01: Mixpanel's lower bound (mixpanel-ingestion.md §5.4 V5)
INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)
FLOAT32_MAX = 3.4028234663852886e38
FLOAT32_TINY = 1.401298464324817e-45
LONG_STRING = 100_000  # characters; with E12 in mind, far below the 900 KB record limit in UTF-8 most of the time

_factory: RecordFactory | None = None


def _records() -> RecordFactory:
    global _factory
    if _factory is None:
        _factory = RecordFactory()
    return _factory


def type_ids(*, exported_only: bool = False, profile: str = "current") -> st.SearchStrategy[str]:
    """A Currents type id from the catalog."""
    catalog = load_catalog()
    ids = [t.type_id for t in catalog.exported(profile)] if exported_only else list(catalog.type_ids)
    return st.sampled_from(ids)


def external_user_ids() -> st.SearchStrategy[str]:
    """Valid external ids: non-empty, never a Mixpanel placeholder (E2)."""
    return st.text(min_size=1, max_size=64).filter(lambda s: s.lower() not in MIXPANEL_PLACEHOLDER_IDS)


_JSON_SCALARS = (st.none() | st.booleans() | st.integers(*INT64) | st.floats(allow_nan=False, allow_infinity=False)
                 | st.text(max_size=30))


def property_objects(max_leaves: int = 20) -> st.SearchStrategy[dict[str, Any]]:
    """Custom event / purchase properties: nested objects and arrays of any JSON value (N3/N4)."""
    values = st.recursive(
        _JSON_SCALARS,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
        max_leaves=max_leaves)
    return st.dictionaries(st.text(max_size=20), values, max_size=6)


@st.composite
def currents_records(draw: st.DrawFn, type_id: str | None = None) -> tuple[str, dict[str, Any]]:
    """(type_id, flat record) of one valid event, from the generator's own value sources."""
    type_id = type_id or draw(type_ids())
    rnd = draw(st.randoms(use_true_random=False))
    over: dict[str, Any] = {
        "id": uuid4_from_bits(rnd.getrandbits(128)),
        "time": draw(st.integers(MIN_TIME, DEFAULT_ANCHOR)),
        "external_user_id": draw(st.none() | external_user_ids()),
    }
    return type_id, _records().build(Draw(rnd, pools_for(0), None), type_id, {}, over)


def currents_events(type_id: str | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """One valid Currents event (Custom HTTP shape) of `type_id`, or of any catalog type."""
    return currents_records(type_id).map(lambda pair: _records().to_custom_http(*pair))


def adversarial_value(field: SourceField, *, decoded_object: bool = False) -> st.SearchStrategy[Any]:
    """Edge values that still have the field's type: unicode, empty and very long strings, boundary
    numbers, null where the field is nullable, nested and array property objects."""
    kind = field.type
    if decoded_object:
        base: st.SearchStrategy[Any] = property_objects()
    elif kind in ("string", "json-string"):
        base = st.one_of(
            st.text(max_size=40),
            st.sampled_from(["", " ", "\u0000", "\ufeff", "\u202eevil", "😀" * 3, "null", "undefined", "0", "{}",
                             "ｅｘａｍｐｌｅ", "a\nb\tc", "\\", '"']),
            st.integers(1, LONG_STRING).map(lambda n: "x" * n),
        )
        if kind == "json-string":
            base = base | property_objects().map(lambda o: json.dumps(o, ensure_ascii=False))
    elif kind == "int":
        base = st.sampled_from([0, -1, 1, *INT32]) | st.integers(*INT32)
    elif kind == "long":
        base = st.sampled_from([0, -1, *INT64]) | st.integers(*INT64)
    elif kind == "float":
        base = st.sampled_from([0.0, -0.0, FLOAT32_MAX, -FLOAT32_MAX, FLOAT32_TINY]) | st.floats(
            allow_nan=False, allow_infinity=False, width=32)
    elif kind == "boolean":
        base = st.booleans()
    else:  # array<string>
        base = st.lists(st.text(max_size=20), max_size=5)
    return (st.none() | base) if field.nullable else base


@st.composite
def adversarial_records(draw: st.DrawFn, type_id: str | None = None) -> tuple[str, dict[str, Any]]:
    """A valid record with a hypothesis-chosen set of fields replaced by adversarial values."""
    type_id, record = draw(currents_records(type_id))
    event_type = load_catalog()[type_id]
    fields = [f for f in event_type.fields if f.name not in ("id", "time")]
    for field in fields:
        if draw(st.integers(0, 2)) != 0:  # about a third of the fields get an edge value
            continue
        decoded = field.type == "json-string" and field.custom_http_path[-1] != field.name
        record[field.name] = draw(adversarial_value(field, decoded_object=decoded))
    record["time"] = draw(st.sampled_from([MIN_TIME, DEFAULT_ANCHOR]) | st.integers(MIN_TIME, DEFAULT_ANCHOR))
    record["external_user_id"] = draw(st.one_of(
        st.none(), st.just(""), st.sampled_from(sorted(MIXPANEL_PLACEHOLDER_IDS)), external_user_ids(),
        st.integers(1, 300).map(lambda n: "é" * n)))
    return type_id, record


def _custom_http_keeping_nulls(type_id: str, record: dict[str, Any], keep_nulls: bool) -> dict[str, Any]:
    event = _records().to_custom_http(type_id, record)
    if keep_nulls:  # explicit nulls as well as absent keys
        plan = _records().plan(type_id)
        for name, key in plan.user_keys:
            if record.get(name) is None and name in record:
                event["user"][key] = None
        for name, key in plan.property_keys:
            if record.get(name) is None and name in record:
                event["properties"][key] = None
    return event


@st.composite
def adversarial_events(draw: st.DrawFn, type_id: str | None = None) -> dict[str, Any]:
    """A Custom HTTP event with hostile but schema-typed values (nulls sometimes explicit, sometimes absent)."""
    type_id, record = draw(adversarial_records(type_id))
    return _custom_http_keeping_nulls(type_id, record, draw(st.booleans()))


_JSON = st.recursive(
    _JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10)


@st.composite
def malformed_events(draw: st.DrawFn) -> Any:
    """Input that breaks the schema: wrong value types, unknown keys, missing parts, non-objects."""
    catalog = load_catalog()
    type_id = draw(type_ids() | st.text(max_size=30) | st.none())
    event: dict[str, Any] = {}
    if type_id is not None:
        event["event_type"] = type_id
    for key in ("id", "time", "user", "properties"):
        if draw(st.booleans()):
            event[key] = draw(_JSON)
    if isinstance(type_id, str) and type_id in catalog and draw(st.booleans()):
        names = [f.custom_http_path for f in catalog[type_id].fields
                 if SHAPE_CUSTOM_HTTP in f.shapes and len(f.custom_http_path) == 2]
        section: dict[str, dict[str, Any]] = {"user": {}, "properties": {}}
        for path in draw(st.lists(st.sampled_from(names), max_size=8)) if names else []:
            section[path[0]][path[1]] = draw(_JSON)
        event.update(section)
    return draw(st.just(event) | _JSON)


def worlds(max_users: int = 25) -> st.SearchStrategy[World]:
    """Small whole worlds: every knob of `WorldConfig` drawn, seed drawn."""
    configs = st.builds(
        WorldConfig,
        users=st.integers(1, max_users),
        anonymous_share=st.floats(0.0, 0.5),
        identified_later_share=st.floats(0.0, 0.5),
        alias_share=st.floats(0.0, 1.0),
        multi_device_share=st.floats(0.0, 1.0),
        no_device_share=st.floats(0.0, 1.0),
        shared_phone_groups=st.integers(0, 3),
        campaigns=st.integers(1, 8),
        canvases=st.integers(1, 3),
    )
    return st.builds(build_world, st.integers(0, 2**32 - 1), configs)


@st.composite
def event_streams(draw: st.DrawFn, max_events: int = 400, max_users: int = 25,
                  **config: Any) -> tuple[World, StreamReport, list[dict[str, Any]]]:
    """A small world and a stream over it; `config` pins StreamConfig knobs (e.g. canvas_dispatch_mode)."""
    world = draw(worlds(max_users))
    settings = {"keep_ledger": True, **config}
    settings.setdefault("canvas_dispatch_mode", draw(st.sampled_from(["default", "shared", "mixed"])))
    settings.setdefault("rates", draw(st.fixed_dictionaries({}, optional={
        "push_open_before_send": st.floats(0.0, 1.0), "duplicate": st.floats(0.0, 0.3),
        "abort": st.floats(0.0, 1.0), "reply": st.floats(0.0, 1.0), "rcs_rejection": st.floats(0.0, 1.0)})))
    stream_config = StreamConfig(events=draw(st.integers(0, max_events)), **settings)
    report = StreamReport()
    seed = draw(st.integers(0, 2**32 - 1))
    events = list(generate_events(world, stream_config, seed=seed, report=report))
    return world, report, events

