"""Mapping rules pinned at their boundaries (issue 14), in both implementations (the compiled plans behind
`map_currents_event` and the reference interpreter): E12 oversize at limit - 1 / limit / limit + 1, N2 with
a non-string custom event name, N7 `trim_event_names` on both sides of a name."""

from __future__ import annotations

import dataclasses
import json

import pytest

from harness.catalog import load_catalog
from harness.mapping import (
    MappingConfig,
    PlanCache,
    map_currents_event,
    map_currents_event_reference,
    record_size,
)

CATALOG = load_catalog()
CONFIG = MappingConfig(token="tok")


def _custom_type_id() -> str:
    """The custom event type: the one whose event name is built from a field (N2)."""
    return next(t.type_id for t in CATALOG if t.current.event_name_field)


CUSTOM_TYPE = _custom_type_id()


def custom_event(name, **extra):
    record = {"event_type": CUSTOM_TYPE, "id": "i-1", "user_id": "u", "external_user_id": "user-1",
              "time": 1_700_000_000, "name": name, "properties": json.dumps({"k": 1})}
    record.update(extra)
    return record


def both(record, config, **kw):
    """(compiled result, reference result) under a fresh plan cache, so a patched catalog is read anew."""
    return (map_currents_event(record, config, PlanCache(), **kw),
            map_currents_event_reference(record, config, **kw))


# --- E12: a record is dropped only when its size exceeds max_record_bytes ------------------------------------

@pytest.mark.parametrize("delta, oversize", [(-1, False), (0, False), (1, True)])
def test_e12_oversize_boundary_measured(delta, oversize):
    """E12: a record of exactly `max_record_bytes` (measured: compact JSON, UTF-8) is mapped; one byte more
    is dropped with reason `oversize`."""
    record = custom_event("n", properties=json.dumps({"blob": "é" * 300}))
    size = record_size(record)
    config = CONFIG.with_(max_record_bytes=size - delta)
    for result in both(record, config):
        if oversize:
            assert (result.mapped, result.reason, result.event) == (False, "oversize", None)
        else:
            assert result.mapped and result.event["event"] == "[Braze Custom Event] n"


@pytest.mark.parametrize("delta, oversize", [(-1, False), (0, False), (1, True)])
def test_e12_oversize_boundary_given_size(delta, oversize):
    """E12 with the size the caller knows: `size == max_record_bytes` is mapped, `+ 1` is oversize; the
    default limit is 900 x 1024 bytes."""
    limit = 900 * 1024
    for result in both(custom_event("n"), CONFIG, size=limit + delta):
        assert result.reason == ("oversize" if oversize else None)
        assert result.mapped is not oversize


# --- N2: the custom event name; a non-string name is its text --------------------------------------------------

@pytest.mark.parametrize("raw, shown", [
    (42, "42"), (0, "0"), (1.5, "1.5"), (True, "True"), (False, "False"), ("", ""), ("0", "0"),
])
def test_n2_custom_event_name_not_a_string(raw, shown):
    """N2: `custom_event_prefix + prefix_separator + name`; a name that is not a string is written as its
    text (never dropped, never replaced by the bare prefix, never warned about as missing)."""
    for result in both(custom_event(raw), CONFIG):
        assert result.mapped
        assert result.event["event"] == "[Braze Custom Event] " + shown
        assert not any(w.startswith("missing_required") for w in result.warnings)


def test_n2_custom_event_name_missing_is_the_prefix_with_a_warning():
    """N2 / P6: a missing (null) name gives the prefix and separator alone, and a `missing_required` warning."""
    for result in both(custom_event(None), CONFIG):
        assert result.event["event"] == "[Braze Custom Event] "
        assert "missing_required:name" in result.warnings


# --- N7: trim_event_names strips both sides of a fixed name ------------------------------------------------------

def _printed_with_space() -> str:
    """The one fixed name the glossary prints with a trailing space (N7)."""
    return next(t.type_id for t in CATALOG
                if t.current.event_name and t.current.event_name != t.current.event_name.strip())


def _record(type_id):
    return {"event_type": type_id, "id": "i", "user_id": "u", "external_user_id": "e", "time": 1}


def test_n7_trim_event_names_default_keeps_the_printed_space():
    type_id = _printed_with_space()
    name = CATALOG[type_id].current.event_name
    for result in both(_record(type_id), CONFIG):
        assert result.event["event"] == name and name.endswith(" ")
    for result in both(_record(type_id), CONFIG.with_(trim_event_names=True)):
        assert result.event["event"] == name.strip()


@pytest.mark.parametrize("printed", ["  Abort", "Abort  ", "  Abort  ", "\tAbort\n"])
def test_n7_trim_event_names_strips_both_sides(monkeypatch, printed):
    """N7 `trim_event_names = true` strips surrounding whitespace on both sides of a fixed name (the shipped
    catalog has only a trailing space, so a name with a leading one is put in its place for this test);
    with the default the name is kept as printed."""
    type_id = _printed_with_space()
    original = CATALOG[type_id]
    patched = dataclasses.replace(original, current=dataclasses.replace(original.current, event_name=printed))
    monkeypatch.setitem(CATALOG._by_id, type_id, patched)
    for result in both(_record(type_id), CONFIG.with_(trim_event_names=True)):
        assert result.event["event"] == "Abort"
    for result in both(_record(type_id), CONFIG):
        assert result.event["event"] == printed


def test_n7_trim_event_names_leaves_custom_names_verbatim():
    """N2 over N7: custom event names are never trimmed, whatever `trim_event_names` says."""
    for result in both(custom_event("  x  "), CONFIG.with_(trim_event_names=True)):
        assert result.event["event"] == "[Braze Custom Event]   x  "
