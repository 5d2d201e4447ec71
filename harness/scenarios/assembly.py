"""From a checked scenario case to the objects that run it: the start time, the pipeline's configuration
(world, users, events, cohorts, mapping, Current, sync engine, system under test) and fault rules placed on
simulated time. Settings the schema leaves open (mapping options, sync settings) are checked here by the
classes that own them, and a refusal becomes a `ScenarioError` at the key."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from harness.catalog import load_catalog
from harness.connectors import CohortSyncConfig, CurrentOptions, RetryPolicy
from harness.currents_io import CurrentsInputError, CurrentsReader
from harness.generate import StreamConfig, WorldConfig
from harness.generate.config import DEFAULT_ANCHOR, DEFAULT_SPAN_S
from harness.mapping import MappingConfig
from harness.scenarios.cohort_sut import CohortSutCallable
from harness.scenarios.loader import Case
from harness.scenarios.pipeline import START_AFTER_ANCHOR_S, CohortSpec, PipelineConfig, PipelineUser
from harness.scenarios.source import KeyPath
from harness.scenarios.sut import SystemUnderTest
from harness.scenarios.timespec import parse_duration, parse_time

DEFAULT_START = DEFAULT_ANCHOR + START_AFTER_ANCHOR_S
_WORLD_KEYS = ("users", "anonymous_share", "identified_later_share", "alias_share", "campaigns", "canvases")


def scenario_start(case: Case) -> float:
    """The simulated time a case starts at (default: just after the generator's anchor)."""
    return parse_time(case.data["start"], 0.0) if "start" in case.data else DEFAULT_START


def pipeline_config(case: Case, *, seed: int, sut: SystemUnderTest | None, base: Path,
                    cohort_sut: CohortSutCallable | None = None) -> PipelineConfig:
    data = case.data
    start = scenario_start(case)
    world = data.get("world")
    world_config = stream = None
    if world is not None:
        world_config = WorldConfig(**{k: world[k] for k in _WORLD_KEYS if k in world})
        stream = StreamConfig(events=world.get("events", 600), anchor=int(start - START_AFTER_ANCHOR_S),
                              types=_types(case, world.get("types")),
                              span_s=int(parse_duration(world["span"])) if "span" in world else DEFAULT_SPAN_S,
                              canvas_dispatch_mode=world.get("canvas_dispatch_mode", "default"))
    connection = data.get("connection", {})
    config = PipelineConfig(
        seed=seed, world=world_config, stream=stream or StreamConfig(events=0),
        cohorts=tuple(cohort_spec(c) for c in data.get("cohorts", [])),
        users=tuple(u for spec in data.get("users", []) for u in pipeline_users(spec)),
        events=tuple(read_events(case, data.get("events", []), ("events",), base)),
        sut=sut, mapping=_mapping(case), current=_current(case), sync_config=_sync_config(case), cohort_sut=cohort_sut,
        redeliver_share=float(world.get("redeliver_share", 0.0)) if world else 0.0,
        data_import_key=connection.get("data_import_key", "harness-data-import-key"),
        user_id_property=connection.get("user_id_property"), braze_url=connection.get("braze_url"))
    return config


def cohort_spec(cohort: dict[str, Any]) -> CohortSpec:
    sync = cohort.get("sync", "dynamic")
    interval = None
    if isinstance(sync, dict):
        interval = parse_duration(sync["interval"]) if "interval" in sync else None
        sync = sync["type"]
    return CohortSpec(int(cohort["id"]), str(cohort["name"]), cohort["definition"],
                      sync=None if sync == "none" else sync, interval_s=interval)


def pipeline_users(spec: dict[str, Any]) -> list[PipelineUser]:
    """One user, or with `count: N` N users whose string values may hold `{i}` (0 … N-1; `{i:05d}` pads)."""
    if "count" not in spec:
        return [pipeline_user(spec)]
    template = {k: v for k, v in spec.items() if k != "count"}
    return [pipeline_user(_fill(template, i)) for i in range(int(spec["count"]))]


def _fill(value: Any, i: int) -> Any:
    if isinstance(value, str):
        return value.format(i=i) if "{i" in value else value
    if isinstance(value, dict):
        return {k: _fill(v, i) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, i) for v in value]
    return value


def pipeline_user(user: dict[str, Any]) -> PipelineUser:
    values: dict[str, Any] = {
        "external_id": user.get("external_id"), "braze": user.get("braze", True), "mixpanel": user.get("mixpanel"),
        "profile": dict(user.get("profile", {})),
        "aliases": tuple((a["alias_name"], a["alias_label"]) for a in user.get("aliases", [])),
        "device_ids": tuple(user.get("device_ids", [])),
    }
    if "braze_external_id" in user:
        values["braze_external_id"] = user["braze_external_id"]
    return PipelineUser(**values)


def read_events(case: Case, sources: list[dict[str, Any]], path: KeyPath, base: Path) -> list[dict[str, Any]]:
    """Inline events as written; `{file: …}` read by the Currents readers (Avro, JSON, NDJSON)."""
    events: list[dict[str, Any]] = []
    for i, source in enumerate(sources):
        if "file" not in source:
            events.append(dict(source))
            continue
        try:
            reader = CurrentsReader.from_path(base / source["file"])
            records = [record for record, _size in reader if record is not None]
        except CurrentsInputError as exc:
            raise case.error(str(exc), (*path, i, "file")) from None
        if reader.malformed_count:
            line, message = reader.malformed[0]
            raise case.error(f"{source['file']} line {line}: {message}", (*path, i, "file"))
        events.extend(records)
    return events


def fault_rules(rules: list[dict[str, Any]], start: float) -> list[dict[str, Any]]:
    """Rules as the fakes take them, the `from` / `until` window placed on simulated time."""
    out = []
    for rule in rules:
        placed = {k: v for k, v in rule.items() if k not in ("from", "until")}
        if "from" in rule:
            placed["active_from"] = parse_time(rule["from"], start)
        if "until" in rule:
            placed["active_until"] = parse_time(rule["until"], start)
        out.append(placed)
    return out


def _types(case: Case, patterns: list[str] | None) -> tuple[str, ...] | None:
    if not patterns:
        return None
    catalog = load_catalog()
    chosen: list[str] = []
    for i, pattern in enumerate(patterns):
        matches = catalog.match_types(pattern)
        if not matches:
            raise case.error(f"{pattern!r} matches no Currents event type (see `harness list events`)",
                             ("world", "types", i))
        chosen.extend(t for t in matches if t not in chosen)
    return tuple(chosen)


def _mapping(case: Case) -> MappingConfig | None:
    mapping = case.data.get("mapping")
    if not mapping:
        return None
    options = dict(mapping.get("options", {}))
    known = {f.name for f in dataclasses.fields(MappingConfig)}
    for key in options:
        if key not in known:
            raise case.error(f"unknown mapping option (known: {', '.join(sorted(known))})",
                             ("mapping", "options", key))
    try:
        return MappingConfig(profile=mapping.get("profile", "current"), **options)
    except (TypeError, ValueError) as exc:
        raise case.error(str(exc), ("mapping",)) from None


def _current(case: Case) -> CurrentOptions | None:
    current = case.data.get("current")
    if not current:
        return None
    values: dict[str, Any] = {}
    if "max_batch_events" in current:
        values["max_batch_events"] = current["max_batch_events"]
    if "flush_interval" in current:
        values["flush_interval_s"] = parse_duration(current["flush_interval"])
    if "max_attempts" in current:
        values["retry"] = RetryPolicy(max_attempts=current["max_attempts"])
    try:
        return CurrentOptions(**values)
    except ValueError as exc:
        raise case.error(str(exc), ("current",)) from None


def _sync_config(case: Case) -> CohortSyncConfig | None:
    settings = case.data.get("config", {}).get("sync")
    if not settings:
        return None
    known = {f.name for f in dataclasses.fields(CohortSyncConfig)}
    values: dict[str, Any] = {}
    for key, value in settings.items():
        name = key.removeprefix("mixpanel.")
        if name not in known:
            raise case.error(f"unknown sync setting (known: {', '.join(sorted(known))})", ("config", "sync", key))
        values[name] = tuple(value) if isinstance(value, list) else value
    try:
        return CohortSyncConfig(**values)
    except (TypeError, ValueError) as exc:
        raise case.error(str(exc), ("config", "sync")) from None
