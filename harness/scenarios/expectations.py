"""Scenario expectations: one small class per key of an expectation, each with `check(run) -> Outcome`
(DESIGN.md §7: an assertion is an object with one method). They read what a user's test could read: fake
Mixpanel's stored events and profiles, fake Braze's cohorts, segments and journals, the Current's delivery
report and the sync engine's run records; the reference mapping is the oracle."""

from __future__ import annotations

import fnmatch
import json
from collections import Counter
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from harness.generate.invariants import dispatch_violations, flatten, lifecycle_violations
from harness.scenarios.matching import id_set_diff, json_subset_diff
from harness.scenarios.results import CheckResult, Outcome
from harness.scenarios.source import KeyPath, format_path

if TYPE_CHECKING:
    from harness.scenarios.run_context import ScenarioRun


class Expectation(Protocol):
    def check(self, run: ScenarioRun) -> Outcome: ...


class _Spec:
    """An expectation built from its value in the file."""

    key: ClassVar[str]

    def __init__(self, spec: Any) -> None:
        self.spec = spec

    def check(self, run: ScenarioRun) -> Outcome:
        raise NotImplementedError


def _at(run: ScenarioRun, spec: dict[str, Any]) -> float:
    return run.time(spec["at"]) if "at" in spec else run.now


def _dispatch_id(event: dict[str, Any]) -> Any:
    props = event.get("properties")
    if isinstance(props, dict) and "dispatch_id" in props:
        return props["dispatch_id"]
    return event.get("dispatch_id")


class MappingMatchesOracle(_Spec):
    key = "mapping"

    def check(self, run: ScenarioRun) -> Outcome:
        observation = run.pipeline.observe()
        if observation.matches_oracle():
            return Outcome.ok(f"{len(observation.expected)} events arrived exactly as the reference mapping says")
        return Outcome.fail("what arrived in fake Mixpanel differs from the reference mapping", observation.diff())


class EventCounts(_Spec):
    key = "event_counts"

    def check(self, run: ScenarioRun) -> Outcome:
        rows = run.pipeline.reader.event_rows(self.spec.get("view", "dedup"))
        lines: list[str] = []
        if "total" in self.spec and len(rows) != self.spec["total"]:
            lines.append(f"total: expected {self.spec['total']}, got {len(rows)}")
        for field, counter in (("by_name", Counter(r["event"] for r in rows)),
                               ("by_user", Counter(str(r["properties"].get("distinct_id")) for r in rows))):
            for name, want in self.spec.get(field, {}).items():
                if counter[name] != want:
                    lines.append(f"{field}[{name!r}]: expected {want}, got {counter[name]}")
        return Outcome.fail("event counts differ", lines) if lines else Outcome.ok(f"{len(rows)} events")


class UsersPresent(_Spec):
    key = "users"

    def check(self, run: ScenarioRun) -> Outcome:
        present = {str(r["properties"].get("distinct_id")) for r in run.pipeline.reader.event_rows("dedup")}
        lines = [f"no events for {u!r}" for u in self.spec.get("present", []) if u not in present]
        lines += [f"events for {u!r}, expected none" for u in self.spec.get("absent", []) if u in present]
        return Outcome.fail("users differ", lines) if lines else Outcome.ok()


class DispatchIds(_Spec):
    key = "dispatch_id"

    def check(self, run: ScenarioRun) -> Outcome:
        lines: list[str] = []
        pipeline = run.pipeline
        if self.spec.get("invariants"):
            if pipeline.world is None:
                lines.append("invariants: the scenario has no generated world to check against")
            else:
                flat = flatten(pipeline.stream)
                lines += dispatch_violations(flat, pipeline.world) + lifecycle_violations(flat, pipeline.world)
        by_id = {str(e.get("id")): e for e in pipeline.submitted}
        for field in ("same", "distinct"):
            ids = self.spec.get(field)
            if not ids:
                continue
            unknown = [i for i in ids if i not in by_id]
            if unknown:
                lines.append(f"{field}: no submitted event has id {unknown[0]!r}")
                continue
            values = [_dispatch_id(by_id[i]) for i in ids]
            if field == "same" and len(set(map(str, values))) != 1:
                lines.append(f"same: dispatch_ids differ: {dict(zip(ids, values, strict=True))}")
            if field == "distinct" and len(set(map(str, values))) != len(values):
                lines.append(f"distinct: dispatch_ids repeat: {dict(zip(ids, values, strict=True))}")
        if self.spec.get("preserved"):
            observation = pipeline.observe()
            for key, want in observation.expected.items():
                got = observation.arrived.get(key)
                if "dispatch_id" in want["properties"] and (
                        got is None or got["properties"].get("dispatch_id") != want["properties"]["dispatch_id"]):
                    found = None if got is None else got["properties"].get("dispatch_id")
                    lines.append(f"preserved: {want['event']!r} {key}: dispatch_id "
                                 f"{want['properties']['dispatch_id']!r} arrived as {found!r}")
        if "lifecycle" in self.spec:
            wanted = self.spec["lifecycle"]
            who_id = wanted.get("distinct_id")  # the D6 join: one user's events of the dispatch
            rows = [r for r in pipeline.reader.event_rows("dedup")
                    if r["properties"].get("dispatch_id") == wanted["dispatch_id"]
                    and (who_id is None or r["properties"].get("distinct_id") == who_id)]
            names = [r["event"] for r in sorted(rows, key=lambda r: (r["properties"].get("time", 0), r["event"]))]
            if names != wanted["events"]:
                who = f" for {who_id!r}" if who_id is not None else ""
                lines.append(f"lifecycle of {wanted['dispatch_id']!r}{who}: expected {wanted['events']}, got {names}")
        return Outcome.fail("dispatch_id rules broken", lines[:40]) if lines else Outcome.ok()


class CohortMembers(_Spec):
    key = "cohort_members"

    def check(self, run: ScenarioRun) -> Outcome:
        at = _at(run, self.spec)
        members = run.pipeline.note_members(self.spec["cohort"], at)
        lines = id_set_diff(members, self.spec)
        what = f"cohort {self.spec['cohort']} at {at - run.start:+g} s"
        if lines:
            return Outcome.fail(f"{what}: members differ", lines)
        return Outcome.ok(f"{what}: {len(members)} members")


class Segment(_Spec):
    key = "segment"

    def check(self, run: ScenarioRun) -> Outcome:
        at = _at(run, self.spec)
        op = self.spec.get("filter", "includes")
        braze_id = run.pipeline.engine.config.braze_cohort_id(self.spec["cohort"])
        answer = run.control("braze", "POST", "/_harness/segments/evaluate",
                             {"filter": {"mixpanel_cohorts": {op: braze_id}}, "at": at})
        members = [str(m.get("external_id") or m.get("braze_id")) for m in answer["members"]]
        lines = id_set_diff(members, self.spec)
        what = f'segment "Mixpanel Cohorts {op} {braze_id}" at {at - run.start:+g} s'
        return Outcome.fail(f"{what}: members differ", lines) if lines else Outcome.ok(f"{what}: {len(members)}")


class BrazeCohort(_Spec):
    key = "braze_cohort"

    def check(self, run: ScenarioRun) -> Outcome:
        braze_id = run.pipeline.engine.config.braze_cohort_id(self.spec["cohort"])
        listed = {str(c["cohort_id"]): c for c in run.control("braze", "GET", "/_harness/cohorts")["cohorts"]}
        found = listed.get(braze_id)
        lines: list[str] = []
        is_listed = found is not None and not found.get("held", False)  # a held cohort is not listed (§4.9)
        if "listed" in self.spec and self.spec["listed"] != is_listed:
            lines.append(f"listed: expected {self.spec['listed']}, got {is_listed}")
        if found is not None:
            for key in ("name", "member_count"):
                if key in self.spec and found.get(key) != self.spec[key]:
                    lines.append(f"{key}: expected {self.spec[key]!r}, got {found.get(key)!r}")
            lines += json_subset_diff(self.spec.get("counters", {}), found.get("counters", {}), "counters")
        elif any(k in self.spec for k in ("name", "member_count", "counters")):
            lines.append(f"Braze lists no cohort {braze_id!r}")
        return Outcome.fail(f"Braze cohort {braze_id} differs", lines) if lines else Outcome.ok()


class SyncState(_Spec):
    key = "sync"

    def check(self, run: ScenarioRun) -> Outcome:
        sync = run.pipeline.syncs.get(self.spec["cohort"])
        if sync is None:
            return Outcome.fail(f"cohort {self.spec['cohort']} has no sync")
        lines: list[str] = []
        for key in ("state", "pause_reason"):
            if key in self.spec and getattr(sync, key) != self.spec[key]:
                lines.append(f"{key}: expected {self.spec[key]!r}, got {getattr(sync, key)!r}")
        if "runs" in self.spec and len(sync.runs) != self.spec["runs"]:
            lines.append(f"runs: expected {self.spec['runs']}, got {len(sync.runs)}")
        if "run" in self.spec:
            lines += self._run(sync.runs, self.spec["run"])
        brief = f"sync {sync.sync_id}: {sync.state}, {len(sync.runs)} runs"
        return Outcome.fail(f"{brief}; differs", lines) if lines else Outcome.ok(brief)

    @staticmethod
    def _run(runs: list[Any], want: dict[str, Any]) -> list[str]:
        index = want.get("index", -1)
        if not -len(runs) <= index < len(runs):
            return [f"run[{index}]: the sync has {len(runs)} runs"]
        record = runs[index]
        lines = [f"run[{index}].{k}: expected {want[k]!r}, got {getattr(record, k)!r}"
                 for k in ("kind", "outcome") if k in want and getattr(record, k) != want[k]]
        lines += json_subset_diff(want.get("counts", {}), record.counts, f"run[{index}].counts")
        if "statuses" in want:
            statuses = [r.status for r in record.requests]
            if statuses != want["statuses"]:
                lines.append(f"run[{index}].statuses: expected {want['statuses']}, got {statuses}")
        if "operations" in want:
            ops = {row.distinct_id: row.operation for row in record.rows}
            lines += json_subset_diff(want["operations"], ops, f"run[{index}].operations")
        return lines


BUCKETS = ("delivered", "rejected", "not_exported", "discarded", "pending")


class Delivery(_Spec):
    key = "delivery"

    def check(self, run: ScenarioRun) -> Outcome:
        report = run.pipeline.current.report
        summary = report.to_json(sample=0)
        lines = [f"{k}: expected {self.spec[k]}, got {summary[k]}"
                 for k in BUCKETS if k in self.spec and summary[k] != self.spec[k]]
        if "reasons" in self.spec:
            reasons: Counter[str] = Counter()
            for bucket in ("rejected", "not_exported", "discarded"):
                reasons.update(report.reasons(bucket))
            lines += json_subset_diff(self.spec["reasons"], dict(reasons), "reasons")
        if self.spec.get("nothing_lost"):
            lines += self._nothing_lost(run)
        brief = ", ".join(f"{k} {summary[k]}" for k in BUCKETS)
        return Outcome.fail(f"delivery report: {brief}", lines) if lines else Outcome.ok(brief)

    @staticmethod
    def _nothing_lost(run: ScenarioRun) -> list[str]:
        """Every submitted event is in exactly one bucket, none is still pending, and every event the oracle
        exports is in fake Mixpanel unless the report says why not (rejected or discarded, with its reason)."""
        report = run.pipeline.current.report
        lines = [] if report.accounted() else ["the report does not account for every submitted event"]
        if report.pending:
            lines.append(f"{report.pending} events still pending")
        explained = {n.event_id for bucket in ("rejected", "discarded") for n in report.notes(bucket)}
        arrived = {str(row["properties"].get("$insert_id")) for row in run.pipeline.reader.event_rows("dedup")}
        lost = [event_id for event_id, mapped in run.pipeline.oracle()
                if mapped["properties"].get("$insert_id") not in arrived and event_id not in explained]
        if lost:
            lines.append(f"{len(lost)} exported events neither arrived nor were reported (first: {lost[0]})")
        return lines


class Journal(_Spec):
    key = "journal"

    def check(self, run: ScenarioRun) -> Outcome:
        entries = [e for e in run.fleet[self.spec["fake"]].requests() if self._matches(e)]
        lines: list[str] = []
        if "count" in self.spec and len(entries) != self.spec["count"]:
            lines.append(f"count: expected {self.spec['count']} matching requests, got {len(entries)}")
        if "min_count" in self.spec and len(entries) < self.spec["min_count"]:
            lines.append(f"min_count: expected at least {self.spec['min_count']}, got {len(entries)}")
        for key, wanted in (("mentions", True), ("none_mention", False)):
            needle = self.spec.get(key)
            if needle is None:
                continue
            hits = [e for e in entries if needle in json.dumps(e, ensure_ascii=False)]
            if wanted and not hits:
                lines.append(f"no request mentions {needle!r}")
            if not wanted and hits:
                first = hits[0]
                lines.append(f"{len(hits)} requests mention {needle!r} (first: {first['method']} {first['path']} "
                             f"at {first['at'] - run.start:+g} s)")
        what = f"fake {self.spec['fake']}: {len(entries)} matching requests"
        return Outcome.fail(what, lines) if lines else Outcome.ok(what)

    def _matches(self, entry: dict[str, Any]) -> bool:
        if "method" in self.spec and entry.get("method") != self.spec["method"].upper():
            return False
        if "path" in self.spec and not fnmatch.fnmatchcase(str(entry.get("path")), self.spec["path"]):
            return False
        return "status" not in self.spec or entry.get("status") == self.spec["status"]


class Profile(_Spec):
    key = "profile"

    def check(self, run: ScenarioRun) -> Outcome:
        profile = run.pipeline.reader.profile(self.spec["distinct_id"])
        lines: list[str] = []
        exists = profile is not None
        if self.spec.get("exists", True) != exists:
            lines.append(f"exists: expected {self.spec.get('exists', True)}, got {exists}")
        props = (profile or {}).get("properties", profile or {})
        if exists:
            lines += json_subset_diff(self.spec.get("properties", {}), props, "properties")
            lines += [f"properties.{k}: expected unset, got {props[k]!r}" for k in self.spec.get("absent", [])
                      if k in props]
        return Outcome.fail(f"profile {self.spec['distinct_id']!r} differs", lines) if lines else Outcome.ok()


class ArrivedEvent(_Spec):
    """One Currents event as fake Mixpanel stores it, found by its `$insert_id` (the Currents `id`, E3): how many
    rows carry it, its name, properties it must hold (a subset) and keys it must not have."""

    key = "arrived"

    def check(self, run: ScenarioRun) -> Outcome:
        view = self.spec.get("view", "dedup")
        rows = [r for r in run.pipeline.reader.event_rows(view)
                if r["properties"].get("$insert_id") == self.spec["id"]]
        what = f"{view} rows with $insert_id {self.spec['id']!r}"
        want_count = self.spec.get("count", 1)
        if len(rows) != want_count:
            return Outcome.fail(f"{what}: expected {want_count}, got {len(rows)}")
        lines: list[str] = []
        for i, row in enumerate(rows):
            if "event" in self.spec and row["event"] != self.spec["event"]:
                lines.append(f"row {i} event: expected {self.spec['event']!r}, got {row['event']!r}")
            lines += json_subset_diff(self.spec.get("properties", {}), row["properties"], f"row {i} properties")
            lines += [f"row {i} properties.{k}: expected absent, got {row['properties'][k]!r}"
                      for k in self.spec.get("absent", []) if k in row["properties"]]
        return Outcome.fail(f"{what} differ", lines) if lines else Outcome.ok(f"{what}: {len(rows)}")


EXPECTATIONS: dict[str, type[_Spec]] = {cls.key: cls for cls in (
    MappingMatchesOracle, EventCounts, UsersPresent, DispatchIds, CohortMembers, Segment, BrazeCohort, SyncState,
    Delivery, Journal, Profile, ArrivedEvent)}
"""Every expectation key of the schema and the class that checks it."""


def check_expectation(run: ScenarioRun, kind: str, spec: Any) -> Outcome:
    expectation: Expectation = EXPECTATIONS[kind](spec)
    return expectation.check(run)


def run_check(run: ScenarioRun, expectation: dict[str, Any], path: KeyPath) -> CheckResult:
    """Check one expectation now and keep its result with the case's checks."""
    (kind, spec), = expectation.items()
    result = CheckResult(format_path(path), kind, spec, run.case.line_of(path), run.now,
                         check_expectation(run, kind, spec))
    run.checks.append(result)
    return result
