"""The event generator (issue 5): a Braze Faker provider, worlds from one seed, Currents event streams.

    from harness.generate import build_world, WorldConfig, generate_events, StreamConfig, StreamReport

    world = build_world(seed=7, config=WorldConfig(users=200))      # users, devices, apps, campaigns, Canvases
    world.braze_user_store()                                         # for the fake Braze's POST /_harness/users
    report = StreamReport()
    for event in generate_events(world, StreamConfig(events=10_000), report=report):
        ...                                                          # Custom HTTP events, in delivery order

    generate_records(world, config) -> (type_id, flat record) pairs; RecordFactory converts a flat record
    to Custom HTTP (`to_custom_http`), Avro (`to_avro_record`) or storage JSON (`to_storage_json`).

Modules: `providers` (BrazeProvider for Faker), `world`, `sources` (value source per field name/type),
`records` (catalog-compiled record plans and shape conversions), `streams` (the public face of the stream:
generate_records, generate_events and the names below), `config` (StreamConfig, knobs DEFAULT_RATES /
DEFAULT_MIX, reports), `timeline` (the engine: seeded draws, true time, delivery order), `stories` (story
kinds and the mix), `sends` (campaign and Canvas sends, dispatch ids §8), `inbound` (inbound messages),
`lifecycle_engine` + `lifecycles` (one engine, a step table per channel, §9), `writers` (output formats of
`harness generate`), `invariants` (checks of §8/§9 over a stream, for tests and QA). Event types are named
only by the catalog (`harness.catalog`, by channel and role). Hypothesis strategies: `harness.strategies`.
"""

from harness.generate.providers import BrazeProvider, make_faker
from harness.generate.records import RecordFactory
from harness.generate.streams import (
    CANVAS_DISPATCH_MODES,
    DEFAULT_ANCHOR,
    DEFAULT_MIX,
    DEFAULT_RATES,
    DEFAULT_SPAN_S,
    DispatchRecord,
    GenerationError,
    StreamConfig,
    StreamReport,
    generate_events,
    generate_records,
)
from harness.generate.world import World, WorldConfig, build_world

__all__ = [
    "CANVAS_DISPATCH_MODES", "DEFAULT_ANCHOR", "DEFAULT_MIX", "DEFAULT_RATES", "DEFAULT_SPAN_S", "BrazeProvider",
    "DispatchRecord", "GenerationError", "RecordFactory", "StreamConfig", "StreamReport", "World", "WorldConfig",
    "build_world", "generate_events", "generate_records", "make_faker",
]
