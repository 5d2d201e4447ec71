"""Currents event streams over a world, obeying the lifecycle and `dispatch_id` rules (issue 5 §3).

The public face of the generator's stream: `generate_records` / `generate_events` and the names callers
import from here. The parts, one concept each:

* `harness.generate.config` - StreamConfig and its defaults (DEFAULT_RATES, DEFAULT_MIX), the reports;
* `harness.generate.timeline` - the engine: seeded draws, true time, the heap that yields delivery order;
* `harness.generate.stories` / `sends` / `inbound` - what happens: sessions, campaign and Canvas sends with
  their dispatch ids (§8), inbound messages;
* `harness.generate.lifecycle_engine` / `lifecycles` - one lifecycle engine and a step table per channel (§9).

Every event type is named by the catalog (`harness.catalog`), looked up by (channel, role).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

from harness.catalog import Catalog
from harness.generate.config import (
    CANVAS_DISPATCH_MODES,
    DEFAULT_ANCHOR,
    DEFAULT_MIX,
    DEFAULT_RATES,
    DEFAULT_SPAN_S,
    OVERSIZE_BYTES,
    DispatchRecord,
    GenerationError,
    StreamConfig,
    StreamReport,
)
from harness.generate.lifecycles import CHANNEL_TYPES, LIFECYCLES
from harness.generate.records import RecordFactory
from harness.generate.stories import STORY_TYPES, StoryTeller
from harness.generate.timeline import MESSAGE_KEYS, Timeline
from harness.generate.world import World

__all__ = [
    "CANVAS_DISPATCH_MODES", "CHANNEL_TYPES", "DEFAULT_ANCHOR", "DEFAULT_MIX", "DEFAULT_RATES", "DEFAULT_SPAN_S",
    "LIFECYCLES", "MESSAGE_KEYS", "OVERSIZE_BYTES", "STORY_TYPES", "DispatchRecord", "GenerationError",
    "StreamConfig", "StreamReport", "generate_events", "generate_records",
]


def generate_records(world: World, config: StreamConfig | None = None, *, seed: int | None = None,
                     catalog: Catalog | None = None, factory: RecordFactory | None = None,
                     report: StreamReport | None = None, progress: Callable[[int], None] | None = None,
                     **options: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield `(type_id, flat record)` pairs: exactly `config.events` of them, in true-time order.

    `options` are StreamConfig fields, set over `config` (or the defaults):
    `generate_records(world, events=500, types=("users.messages.email.*",))`. The same world, config and
    seed (default: the world's seed) give the same records.
    """
    config = _stream_config(config, options)
    factory = factory or RecordFactory(catalog)
    catalog = factory.catalog
    config.validate(catalog)
    if config.types is not None:
        config = dataclasses.replace(config, types=config.resolved_types(catalog))
    timeline = Timeline(world, config, world.seed if seed is None else seed, catalog, factory,
                        report if report is not None else StreamReport())
    return timeline.run(StoryTeller(timeline), progress)


def generate_events(world: World, config: StreamConfig | None = None, *, seed: int | None = None,
                    catalog: Catalog | None = None, factory: RecordFactory | None = None,
                    report: StreamReport | None = None, progress: Callable[[int], None] | None = None,
                    **options: Any) -> Iterator[dict[str, Any]]:
    """Yield Currents events in the Custom HTTP shape (the SUT's input, DESIGN.md §3).

    Takes what `generate_records` takes: `generate_events(world, events=5)` or
    `generate_events(world, StreamConfig(events=5, types=("users.messages.email.*",)))`.
    """
    factory = factory or RecordFactory(catalog)
    records = generate_records(world, config, seed=seed, factory=factory, report=report, progress=progress,
                               **options)
    to_custom_http = factory.to_custom_http
    return (to_custom_http(type_id, record) for type_id, record in records)  # options checked before this


_STREAM_FIELDS = tuple(f.name for f in dataclasses.fields(StreamConfig))


def _stream_config(config: StreamConfig | None, options: dict[str, Any]) -> StreamConfig:
    unknown = sorted(set(options) - set(_STREAM_FIELDS))
    if unknown:
        raise TypeError(f"unexpected keyword argument {unknown[0]!r}: give StreamConfig fields "
                        f"({', '.join(_STREAM_FIELDS)}) or the keywords seed, catalog, factory, report, progress")
    if config is not None and not isinstance(config, StreamConfig):
        raise TypeError(f"config must be a StreamConfig, got {type(config).__name__} "
                        "(for a number of events write events=N)")
    if not options:
        return config or StreamConfig()
    return dataclasses.replace(config, **options) if config is not None else StreamConfig(**options)
