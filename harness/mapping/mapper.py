"""The mapping's entry point: one Currents record -> one Mixpanel event, or the reason there is none.

Runs the compiled fast path (`harness.mapping.plan`, plans kept in a `PlanCache`); the same rules as plain
code are `harness.mapping.reference.map_currents_event_reference`, and both must agree.
Pure: no I/O, no clock, no randomness; the same record and config always give the same result.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from harness.currents_io.normalise import TYPE_KEY, normalise_custom_http
from harness.mapping.cache import DEFAULT_CACHE, PlanCache
from harness.mapping.config import DEFAULT_CONFIG, MappingConfig
from harness.mapping.fields import record_size
from harness.mapping.report import MappingReport
from harness.mapping.result import NO_WARNINGS, REASON_INVALID_RECORD, REASON_UNKNOWN_TYPE, MappingResult

__all__ = ["map_currents_event", "map_currents_events", "record_size"]


def map_currents_event(
    record: Any,
    config: MappingConfig = DEFAULT_CONFIG,
    cache: PlanCache = DEFAULT_CACHE,  # positional-or-keyword: filling a keyword-only default costs more per call
    *,
    type_id: str | None = None,
    size: int | None = None,
    storage_json: bool = False,
) -> MappingResult:
    """Map one Currents record (currents-to-mixpanel.md §2-§7) under `config` (§11).

    `record` is either a normalised flat record (Braze fields at the top level plus `event_type`; see
    `harness.currents_io.normalise`) or a Custom HTTP event (recognised by its `user` object). `type_id`
    supplies/overrides the type; `size` is the record's serialised size in bytes when the caller knows it
    (otherwise it is measured by serialising the record) for the E12 oversize rule. `storage_json=True` says
    that nullable fields may still be Avro-JSON unions (`{"string": "x"}`); they are unwrapped on the fly.
    `cache` holds the compiled plans (a process-wide one by default).
    Never raises for bad input: the result says `invalid_record`, `unknown_type`, ... instead.
    """
    if type(record) is not dict:
        return MappingResult(None, REASON_INVALID_RECORD, None, NO_WARNINGS)
    recent_config, tables = cache.recent  # the config of the previous call, most of the time
    if recent_config is not config:
        tables = cache.for_config(config)
    if type_id is None:  # hot path: a record of an already compiled type, read where its own shape says
        try:
            run = (tables.storage if storage_json else tables.flat)[record[TYPE_KEY]]
        except (KeyError, TypeError):  # not compiled yet, no type, or an unhashable one
            pass
        else:
            if "user" not in record or type(record["user"]) is not dict:  # not a Custom HTTP event
                return run(record, size)
        if type(record.get("user")) is dict:  # a Custom HTTP event
            try:
                run = tables.http[record[TYPE_KEY]]
            except (KeyError, TypeError):
                pass
            else:
                return run(record, size)
    custom_http = type(record.get("user")) is dict
    if type_id is None:
        type_id = record.get(TYPE_KEY)
    if type(type_id) is not str:
        return MappingResult(None, REASON_INVALID_RECORD, None, NO_WARNINGS)
    plan = tables.plans.get(type_id)
    if plan is None:
        plan = cache.plan(type_id, config)
        if plan is None:
            return MappingResult(None, REASON_UNKNOWN_TYPE, type_id, NO_WARNINGS)
    runners = plan.runners
    own = record.get(TYPE_KEY) == type_id
    if custom_http:
        if not own:  # a caller-supplied type differs: map the flattened event
            record = normalise_custom_http(record)
            kind = "flat"
        else:
            kind = "http"
    else:
        kind = "storage" if storage_json else "flat"
    run = runners.get(kind) or plan.runner(kind)
    if own and type(record.get(TYPE_KEY)) is str:  # cache for the hot path above (by the record's own type)
        tables.runners(kind)[type_id] = run
    return run(record, size)


def map_currents_events(records: Iterable[Any], config: MappingConfig = DEFAULT_CONFIG,
                        report: MappingReport | None = None, cache: PlanCache = DEFAULT_CACHE) -> list[dict[str, Any]]:
    """Map many records; returns the Mixpanel events in input order and, if given, counts into `report`
    (the oracle view: what a connector should have delivered for these records)."""
    events: list[dict[str, Any]] = []
    append = events.append
    add = report.add if report is not None else None
    for record in records:
        result = map_currents_event(record, config, cache)
        if add is not None:
            add(result)
        if result.event is not None:
            append(result.event)
    return events
