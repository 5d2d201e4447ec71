"""Scenario steps: one function per key of a step (`advance`, `deliver`, `rename_cohort`, ...), each acting on
the running case through the same HTTP and Python surfaces a user has. A step that checks something
(`request` with `expect`, `sync` with `expect_error`) returns an `Outcome`; a step that cannot be carried out
raises `StepError` (the case is then an error, with the step named)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from harness.scenarios.assembly import cohort_spec, fault_rules, pipeline_users, read_events
from harness.scenarios.expectations import run_check
from harness.scenarios.matching import json_subset_diff
from harness.scenarios.results import Outcome, StepResult
from harness.scenarios.source import KeyPath, format_path
from harness.scenarios.timespec import parse_duration

if TYPE_CHECKING:
    from harness.scenarios.run_context import ScenarioRun

StepFunction = Callable[["ScenarioRun", Any, KeyPath], "Outcome | None"]


class StepError(RuntimeError):
    """A step that cannot be carried out (moving the clock back, an unknown device, ...)."""


def apply_step(run: ScenarioRun, step: dict[str, Any], path: KeyPath) -> StepResult:
    (kind, value), = step.items()
    started = run.now
    try:
        outcome = STEPS[kind](run, value, (*path, kind))
    except StepError as exc:
        raise StepError(f"{run.case.file}:{run.case.line_of(path)}: {format_path(path)}.{kind}: {exc}") from None
    result = StepResult(path[-1] if isinstance(path[-1], int) else 0, kind, value, run.case.line_of(path), started,
                        run.now, outcome)
    run.steps.append(result)
    return result


# -- time ----------------------------------------------------------------------------------------------
def _advance(run: ScenarioRun, value: Any, path: KeyPath) -> None:
    run.fleet.clock.advance(parse_duration(value))


def _at(run: ScenarioRun, value: Any, path: KeyPath) -> None:
    target = run.time(value)
    if target < run.now:
        raise StepError(f"the clock is already past that time ({target - run.now:+.3f} s); time only moves forward")
    run.fleet.clock.advance(target - run.now)


def _run_syncs(run: ScenarioRun, value: Any, path: KeyPath) -> None:
    due = [t for sync in run.pipeline.syncs.values() if (t := run.pipeline.engine.next_due(sync.sync_id)) is not None]
    if not due:
        raise StepError("no sync has a run due")
    run.fleet.clock.advance(max(0.0, min(due) - run.now))


# -- Currents ------------------------------------------------------------------------------------------
def _deliver(run: ScenarioRun, value: dict[str, Any], path: KeyPath) -> None:
    events = read_events(run.case, value.get("events", []), (*path, "events"), run.base)
    if value.get("world"):
        events = run.pipeline.generate_stream() + events
    run.pipeline.deliver(events, flush_now=True)


# -- Braze keys and the connection ---------------------------------------------------------------------
def _invalidate_key(run: ScenarioRun, value: str, path: KeyPath) -> None:
    run.control("braze", "DELETE", f"/_harness/keys/{value}")


def _generate_key(run: ScenarioRun, value: dict[str, Any], path: KeyPath) -> None:
    key = run.control("braze", "POST", "/_harness/keys", {})["key"]
    run.generated_keys.append(key)
    if value.get("reconnect"):
        run.pipeline.engine.reconnect(run.pipeline.connection_id, data_import_key=key)


def _reconnect(run: ScenarioRun, value: dict[str, Any], path: KeyPath) -> None:
    run.pipeline.engine.reconnect(run.pipeline.connection_id, data_import_key=value.get("data_import_key"),
                                  braze_url=value.get("braze_url"))


def _disconnect(run: ScenarioRun, value: bool, path: KeyPath) -> None:
    if value:
        run.pipeline.engine.disconnect(run.pipeline.connection_id)


# -- cohorts and syncs ---------------------------------------------------------------------------------
def _spec(run: ScenarioRun, cohort_id: int) -> Any:
    for spec in run.pipeline.config.cohorts + tuple(run.extra_cohorts):
        if spec.cohort_id == cohort_id:
            return spec
    raise StepError(f"cohort {cohort_id} is not defined")


def _rename(run: ScenarioRun, value: dict[str, Any], path: KeyPath) -> None:
    definition = run.definitions[value["cohort"]]
    run.names[value["cohort"]] = value["name"]
    run.pipeline.cohorts.define(value["cohort"], value["name"], definition, at=run.now)
    run.pipeline.engine.cohort_renamed(value["cohort"])


def _redefine(run: ScenarioRun, value: dict[str, Any], path: KeyPath) -> None:
    run.definitions[value["cohort"]] = value["definition"]
    run.pipeline.cohorts.define(value["cohort"], run.names[value["cohort"]], value["definition"], at=run.now)


def _delete(run: ScenarioRun, value: int, path: KeyPath) -> None:
    run.pipeline.cohorts.delete(value, at=run.now)
    run.pipeline.engine.cohort_deleted(value)


def _stop_sync(run: ScenarioRun, value: int, path: KeyPath) -> None:
    sync = run.pipeline.syncs.get(value)
    if sync is None:
        raise StepError(f"cohort {value} has no sync")
    run.pipeline.engine.stop_sync(sync.sync_id)


def _sync(run: ScenarioRun, value: dict[str, Any], path: KeyPath) -> Outcome | None:
    """Define a cohort now (when new) and create its sync; `expect_error` names the refusal expected."""
    expected_error = value.get("expect_error")
    spec = cohort_spec({k: v for k, v in value.items() if k != "expect_error"})
    if spec.cohort_id not in run.definitions:
        run.pipeline.cohorts.define(spec.cohort_id, spec.name, spec.definition, at=run.now)
        run.definitions[spec.cohort_id], run.names[spec.cohort_id] = spec.definition, spec.name
        run.extra_cohorts.append(spec)
    try:
        run.pipeline.start_sync(spec)
    except Exception as exc:  # the engine's refusals (limits, unknown cohort) are what `expect_error` checks
        said = f"{type(exc).__name__}: {exc}"
        if expected_error is None:
            raise StepError(f"the sync was refused ({said})") from None
        if expected_error in said:
            return Outcome.ok(said)
        return Outcome.fail(f"the sync was refused with {said!r}, expected {expected_error!r}")
    if expected_error is not None:
        return Outcome.fail(f"the sync was created, expected it to be refused with {expected_error!r}")
    return None


# -- users and profiles --------------------------------------------------------------------------------
def _identify(run: ScenarioRun, value: dict[str, Any], path: KeyPath) -> None:
    braze_id = value.get("braze_id")
    if braze_id is None:
        users = run.control("braze", "GET", "/_harness/braze/workspaces/default/users")["users"]
        found = [u for u in users if value["device_id"] in (u.get("device_ids") or [])]
        if not found:
            raise StepError(f"no Braze profile has device id {value['device_id']!r}")
        braze_id = found[0]["braze_id"]
    run.control("braze", "POST", f"/_harness/braze/workspaces/default/users/{braze_id}/identify",
                {"external_id": value["external_id"]})


def _profile(run: ScenarioRun, value: dict[str, Any], path: KeyPath) -> None:
    token = run.pipeline.config.token
    updates: list[dict[str, Any]] = []
    if value.get("set"):
        updates.append({"$token": token, "$distinct_id": value["distinct_id"], "$set": value["set"]})
    if value.get("unset"):
        updates.append({"$token": token, "$distinct_id": value["distinct_id"], "$unset": value["unset"]})
    run.pipeline.engage(updates)
    if value["distinct_id"] not in run.pipeline.cohorts.profile_ids:
        run.pipeline.cohorts.profile_ids.append(value["distinct_id"])


def _users(run: ScenarioRun, value: list[dict[str, Any]], path: KeyPath) -> None:
    run.pipeline.add_users([u for spec in value for u in pipeline_users(spec)])


# -- the fakes -----------------------------------------------------------------------------------------
def _request(run: ScenarioRun, value: dict[str, Any], path: KeyPath) -> Outcome | None:
    target = value["path"]
    url = target if target.startswith(("http://", "https://")) else run.url(value["fake"], target)
    kwargs: dict[str, Any] = {"headers": value.get("headers", {}), "timeout": 30}
    if "json" in value:
        kwargs["json"] = value["json"]
    elif "data" in value:
        data = value["data"]
        kwargs["data"] = data if isinstance(data, (str, dict)) else json.dumps(data)
    answer = run.session.request(value.get("method", "POST" if ("json" in value or "data" in value) else "GET"),
                                 url, **kwargs)
    expect = value.get("expect")
    if not expect:
        return None
    problems: list[str] = []
    if "status" in expect and answer.status_code != expect["status"]:
        problems.append(f"status: expected {expect['status']}, got {answer.status_code}")
    if "json" in expect:
        try:
            body = answer.json()
        except ValueError:
            problems.append(f"body: expected JSON, got {answer.text[:200]!r}")
        else:
            problems += json_subset_diff(expect["json"], body)
    if "body_contains" in expect and expect["body_contains"] not in answer.text:
        problems.append(f"body: expected it to contain {expect['body_contains']!r}, got {answer.text[:200]!r}")
    what = f"{value.get('method', 'POST')} {target} on fake {value['fake']}"
    if problems:
        return Outcome.fail(f"{what} answered {answer.status_code} {answer.text[:200]}", problems)
    return Outcome.ok(f"{what} answered {answer.status_code}")


def _faults(run: ScenarioRun, value: dict[str, list[dict[str, Any]]], path: KeyPath) -> None:
    for fake, rules in value.items():
        run.fleet[fake].add_faults(fault_rules(rules, run.start))


def _clear_faults(run: ScenarioRun, value: str, path: KeyPath) -> None:
    run.control(value, "DELETE", "/_harness/faults")


def _expect(run: ScenarioRun, value: list[dict[str, Any]], path: KeyPath) -> None:
    for i, expectation in enumerate(value):  # each result is kept with the case's checks
        run_check(run, expectation, (*path, i))


STEPS: dict[str, StepFunction] = {
    "advance": _advance, "at": _at, "run_syncs": _run_syncs, "deliver": _deliver,
    "invalidate_key": _invalidate_key, "generate_key": _generate_key, "reconnect": _reconnect,
    "disconnect": _disconnect, "rename_cohort": _rename, "redefine_cohort": _redefine, "delete_cohort": _delete,
    "stop_sync": _stop_sync, "sync": _sync, "identify": _identify, "profile": _profile, "users": _users,
    "request": _request, "faults": _faults, "clear_faults": _clear_faults, "expect": _expect,
}
"""Every step key of the schema and the function that carries it out."""

__all__ = ["STEPS", "StepError", "apply_step"]
