"""Every sample in every shape, mapped and checked against the spec (currents-to-mixpanel.md §1, §2, §5, P1-P3).

Expected values are computed from the sample files by small independent readers in this module and from
the spec's tables/CSV, never from the code under test.
"""

from __future__ import annotations

import json
import math

import fastavro
import pytest

from harness.catalog import load_catalog
from harness.currents_io import read_records
from harness.mapping import MappingConfig, map_currents_event

TOKEN = "TOKEN"
CONFIG = MappingConfig(token=TOKEN)
CATALOG = load_catalog()
SHAPES = ("avro", "storage-json", "custom-http")
SAMPLE_TYPES = [t.type_id for t in CATALOG]
EXPORTED = [t.type_id for t in CATALOG if t.exported("current")]
PREFIXES = {
    "users.behaviors.CustomEvent": "[Custom event property] ",
    "users.behaviors.Purchase": "[Purchase property] ",
}
REL_TOL = 1e-6  # §1 float tolerance [HD]


# --- independent readers of the three shapes (spec §1) ------------------------------------------------

def _unwrap(value):
    if isinstance(value, dict) and len(value) == 1:
        (value,) = value.values()
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    return value


def raw_fields(shape: str, path) -> dict:
    """The Braze fields of a sample as a flat dict, read without the harness."""
    if shape == "avro":
        with open(path, "rb") as fh:
            (record,) = list(fastavro.reader(fh))
        return record
    data = json.loads(path.read_text(encoding="utf-8"))
    if shape == "storage-json":
        return {k: _unwrap(v) for k, v in data.items()}
    flat = {k: v for k, v in data.items() if k not in ("user", "properties", "event_type")}
    flat.update(data["user"])
    for key, value in data["properties"].items():
        flat["properties" if key in ("custom_properties", "purchase_properties") else key] = value
    return flat


def close(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, (int, float)) and isinstance(b, (int, float)) and math.isclose(a, b, rel_tol=REL_TOL)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def _cases(types):
    return [pytest.param(t, s, id=f"{t}-{s}") for t in types for s in SHAPES]


def _map_sample(sample_paths, type_id, shape):
    path = sample_paths.get(type_id, {}).get(shape)
    if path is None:
        pytest.skip(f"no {shape} sample for {type_id} (spec §1)")
    (record,) = read_records(path)
    return map_currents_event(record, CONFIG), raw_fields(shape, path)


# --- loading ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("type_id,shape", _cases(SAMPLE_TYPES))
def test_every_sample_loads_section_1(type_id, shape, shape_paths):
    """§1: every sample of every shape reads as one flat record of its type holding the sample's fields
    (Braze's samples; without them, records of every type built from the catalog in each shape)."""
    path = shape_paths.get(type_id, {}).get(shape)
    if path is None:
        pytest.skip(f"no {shape} sample for {type_id}")
    (record,) = read_records(path)
    assert record["event_type"] == type_id
    expected = raw_fields(shape, path)
    assert {k: v for k, v in record.items() if k != "event_type"} == expected


def test_sample_inventory_section_1(sample_paths):
    """§1: 94 Avro/storage types; News Feed types only in custom-http; four storage-only types."""
    assert sum("avro" in s for s in sample_paths.values()) == 94
    assert sum("storage-json" in s for s in sample_paths.values()) == 94
    assert sum("custom-http" in s for s in sample_paths.values()) == 93
    no_custom = {t for t, s in sample_paths.items() if "custom-http" not in s}
    assert no_custom == {
        "users.RandomBucketNumberUpdate", "users.UserDeleteRequest", "users.UserOrphan", "users.profile.Update"}


# --- exported types: name, exact keys, values ------------------------------------------------------------

@pytest.mark.parametrize("type_id,shape", _cases(EXPORTED))
def test_exported_event_section_5(type_id, shape, sample_paths, spec_catalogue, csv_sources):
    """§5 / P1-P3: exact event name, exactly ENV ∪ documented keys the input carries (∪ prefixed keys),
    each value copied from its source field (renames per the CSV), ENV per §2."""
    result, fields = _map_sample(sample_paths, type_id, shape)
    assert result.mapped, result
    event = result.event
    assert set(event) == {"event", "properties"}
    spec = spec_catalogue[type_id]
    if type_id == "users.behaviors.CustomEvent":
        assert event["event"] == "[Braze Custom Event] " + fields["name"]  # N2
    else:
        assert event["event"] == spec["current"]
    props = event["properties"]
    expected = {
        "$partner_id": "braze",
        "distinct_id": fields["external_user_id"],
        "$insert_id": fields["id"],
        "time": fields["time"],
        "token": TOKEN,
    }
    documented = {k.rstrip("‡") for k in spec["keys"] if not k.startswith("[")}
    sources = csv_sources[type_id]
    assert documented <= set(sources)  # every documented key has a source row in the CSV
    for key in documented:
        source = sources[key]
        if fields.get(source) is not None:  # P2: absent/null -> omitted (null_policy = omit)
            expected[key] = fields[source]
    if type_id in PREFIXES:
        raw = fields["properties"]
        decoded = json.loads(raw) if isinstance(raw, str) else raw
        for k, v in decoded.items():
            expected[PREFIXES[type_id] + k] = v
    assert set(props) == set(expected)
    for key, value in expected.items():
        assert close(props[key], value), (key, props[key], value)


@pytest.mark.parametrize("type_id", EXPORTED)
def test_three_shapes_map_alike_section_1(type_id, sample_paths, spec_catalogue, csv_sources):
    """§1: the shapes of one sample map to the same event, modulo custom-http-only (†) keys and floats."""
    results = {}
    for shape in SHAPES:
        path = sample_paths.get(type_id, {}).get(shape)
        if path is not None:
            (record,) = read_records(path)
            results[shape] = map_currents_event(record, CONFIG).event
    if len(results) < 2:
        pytest.skip("only one shape")
    dagger = {key for key, source in csv_sources[type_id].items() if CATALOG[type_id].field(source).custom_http_only}
    base = results.get("avro") or results["storage-json"]
    for shape, event in results.items():
        assert event["event"] == base["event"], shape
        a = {k: v for k, v in event["properties"].items() if k not in dagger}
        b = {k: v for k, v in base["properties"].items() if k not in dagger}
        assert close(a, b), shape
        if shape != "custom-http":
            assert not set(event["properties"]) & dagger  # † keys absent with storage input


@pytest.mark.parametrize("type_id", [t for t in SAMPLE_TYPES if t not in EXPORTED])
def test_not_exported_types_section_5(type_id, sample_paths):
    """§5: the 17 types without a Mixpanel event produce none, reason `not_exported`, in every shape."""
    for shape, path in sample_paths[type_id].items():
        (record,) = read_records(path)
        result = map_currents_event(record, CONFIG)
        assert not result.mapped and result.reason == "not_exported", shape


@pytest.mark.parametrize("profile", ["current", "legacy"])
def test_custom_http_fast_path_equals_flattened(profile, custom_http_paths):
    """A Custom HTTP event maps exactly like its flattened form (§1), for every type, also with an extra
    user key or property (which takes the flattening path)."""
    from harness.currents_io import normalise_custom_http

    config = CONFIG.with_(profile=profile)
    for type_id, path in custom_http_paths.items():
        event = json.loads(path.read_text(encoding="utf-8"))
        assert map_currents_event(event, config) == map_currents_event(normalise_custom_http(event), config), type_id
        odd = dict(event, user=dict(event["user"], surprise=1), properties=dict(event["properties"], extra="x"))
        result = map_currents_event(odd, config)
        assert result == map_currents_event(normalise_custom_http(odd), config), type_id
        if result.mapped:
            assert {"unknown_field:surprise", "unknown_field:extra"} <= set(result.warnings)


@pytest.mark.parametrize("profile", ["current", "legacy"])
def test_storage_json_on_the_fly_equals_normalised(profile, sample_paths):
    """§1: a storage-JSON record read with its unions still wrapped (storage_json=True) maps exactly like
    its unwrapped form, for every type, and a plain flat record is unaffected by the flag."""
    config = CONFIG.with_(profile=profile)
    for type_id, shapes in sample_paths.items():
        if "storage-json" not in shapes:
            continue
        raw = json.loads(shapes["storage-json"].read_text(encoding="utf-8"))
        raw["event_type"] = type_id
        (flat,) = read_records(shapes["storage-json"])
        expected = map_currents_event(flat, config)
        assert map_currents_event(raw, config, storage_json=True) == expected, type_id
        assert map_currents_event(flat, config, storage_json=True) == expected, type_id
