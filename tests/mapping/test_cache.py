"""Compiled plans live in an explicit PlanCache, never on the (frozen, plain) MappingConfig."""

from __future__ import annotations

import dataclasses
import gc

from harness.mapping import DEFAULT_CACHE, MappingConfig, PlanCache, map_currents_event

RECORD = {"event_type": "users.messages.email.Send", "id": "i", "time": 1, "external_user_id": "u"}


def test_config_holds_settings_only():
    config = MappingConfig(token="t")
    map_currents_event(RECORD, config)
    assert set(vars(config)) == {f.name for f in dataclasses.fields(MappingConfig)}
    assert DEFAULT_CACHE.for_config(config).plans  # compiled into the default cache instead


def test_explicit_cache_is_used_and_default_left_alone():
    cache = PlanCache()
    config = MappingConfig(token="own")
    result = map_currents_event(RECORD, config, cache=cache)
    assert result.event is not None and result.event["properties"]["token"] == "own"
    assert "users.messages.email.Send" in cache.for_config(config).plans
    assert "users.messages.email.Send" in cache.for_config(config).flat  # the hot path's runner table
    assert len(cache) == 1
    assert DEFAULT_CACHE._by_config.get(id(config)) is None


def test_entry_dropped_with_its_config():
    cache = PlanCache()
    config = MappingConfig(token="short-lived")
    map_currents_event(RECORD, config, cache=cache)
    map_currents_event(RECORD, MappingConfig(), cache=cache)  # `recent` now refers to another config
    assert len(cache) == 2
    del config
    gc.collect()
    assert len(cache) == 1


def test_equal_configs_map_alike_with_their_own_plans():
    cache = PlanCache()
    a, b = MappingConfig(profile="legacy"), MappingConfig(profile="legacy")
    assert a == b and hash(a) == hash(b)
    assert map_currents_event(RECORD, a, cache=cache) == map_currents_event(RECORD, b, cache=cache)
    assert cache.for_config(a) is not cache.for_config(b)


def test_clear_recompiles():
    cache = PlanCache()
    config = MappingConfig()
    first = map_currents_event(RECORD, config, cache=cache)
    cache.clear()
    assert len(cache) == 0
    assert map_currents_event(RECORD, config, cache=cache) == first
