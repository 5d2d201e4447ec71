"""Loading scenario files: YAML → includes → matrix cases → schema check → semantic checks.

Everything a runner needs to know is checked here, before anything runs, and every problem is one
`ScenarioError` naming the file, the line and the key path (`scenarios/ec_10.yaml:14: steps[2].advance:
expected a duration like 2h`). The published JSON Schema (`scenarios/scenario.schema.json`) is the one
description of the file's structure; editors autocomplete from it through the
`# yaml-language-server: $schema=…` line, and this loader validates against the same file.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from harness.cohorts import CohortDefinitionError, parse_definition
from harness.scenarios.source import (
    KeyPath,
    Provenance,
    ScenarioError,
    display_path,
    format_path,
    merge,
    read_yaml,
    where,
)
from harness.scenarios.timespec import TimeSpecError, is_iso_time, parse_duration, parse_iso, parse_time

SCHEMA_FILE = "scenario.schema.json"
SCENARIO_SUFFIXES = (".yaml", ".yml")
FRAGMENT_DIR = "fragments"
MAX_INCLUDE_DEPTH = 8
MAX_CASES = 256
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass
class Case:
    """One runnable case: a scenario file, or one combination of its matrix."""

    name: str
    file: str
    data: dict[str, Any]
    provenance: Provenance = field(repr=False, default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def case_id(self) -> str:
        if not self.params:
            return self.name
        return self.name + "[" + ",".join(f"{k}={v}" for k, v in self.params.items()) + "]"

    @property
    def seed(self) -> int:
        return int(self.data.get("seed", 0))

    @property
    def tags(self) -> list[str]:
        return list(self.data.get("tags", []))

    @property
    def description(self) -> str:
        return str(self.data.get("description", "")).strip()

    @property
    def about_currents(self) -> bool:
        """Does it exercise the Currents leg with expectations any connector must meet (so `--sut` applies)?
        A scenario that says `sut: reference` is about the reference connector's own behaviour."""
        if self.data.get("sut") == "reference":
            return False
        return bool(self.data.get("world") or self.data.get("events")) or any(
            "deliver" in step for step in self.data.get("steps", []))

    @property
    def about_cohort_leg(self) -> bool:
        """Does it export cohorts with expectations any cohort export must meet (so `--cohort-sut` applies)?
        Run records, engine settings and engine steps are the reference engine's own behaviour."""
        data = self.data
        if data.get("sut") == "reference" or data.get("config", {}).get("sync"):
            return False
        synced = any(c.get("sync", "dynamic") != "none" for c in data.get("cohorts", []))
        engine_steps = {"reconnect", "disconnect", "stop_sync", "run_syncs", "generate_key"}
        steps = data.get("steps", [])
        checks = list(data.get("expect", [])) + [e for step in steps for e in step.get("expect", [])]
        return synced and not any(engine_steps & set(step) for step in steps) and not any(
            "sync" in check for check in checks)

    def line_of(self, path: KeyPath) -> int | None:
        return where(self.provenance, path)[1]

    def error(self, message: str, path: KeyPath) -> ScenarioError:
        file, line = where(self.provenance, path)
        return ScenarioError(message, file=file or self.file, line=line, path=path)


@lru_cache(maxsize=1)
def scenario_schema() -> dict[str, Any]:
    """The published JSON Schema of a scenario file."""
    text = resources.files("scenarios").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(scenario_schema())


# -- finding files -------------------------------------------------------------------------------------
def discover(paths: Iterable[str | Path]) -> list[Path]:
    """Scenario files under `paths` (files as given; folders walked, skipping `fragments/` and `_*` files)."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for candidate in sorted(path.rglob("*")):
                rel = candidate.relative_to(path).parts
                if (candidate.suffix in SCENARIO_SUFFIXES and candidate.is_file() and FRAGMENT_DIR not in rel
                        and not candidate.name.startswith("_")):
                    found.append(candidate)
        elif path.exists():
            found.append(path)
        else:
            raise ScenarioError("no such file or folder", file=str(raw))
    return found


def load_cases(paths: Iterable[str | Path]) -> list[Case]:
    """Every case of every scenario file under `paths`; the first bad file raises its `ScenarioError`."""
    cases: list[Case] = []
    seen: dict[str, str] = {}
    for path in discover(paths):
        for case in load_file(path):
            if case.case_id in seen and seen[case.case_id] != case.file:
                raise ScenarioError(f"scenario name {case.name!r} is also used by {seen[case.case_id]}",
                                    file=case.file, line=case.line_of(("name",)), path=("name",))
            seen[case.case_id] = case.file
            cases.append(case)
    return cases


# -- one file ------------------------------------------------------------------------------------------
def load_file(path: Path) -> list[Case]:
    """The cases of one scenario file, checked."""
    data, provenance = _with_includes(path, 0)
    name = display_path(path)
    if not isinstance(data, dict):
        raise ScenarioError("a scenario file holds a mapping of keys (name, steps, expect, ...)", file=name, line=1)
    cases = []
    for params in _matrix(data, provenance, name):
        case_data = _substitute(data, params) if params else data
        case = Case(name=str(case_data.get("name", "")), file=name, data=case_data, provenance=provenance,
                    params=params)
        _check_schema(case)
        check_semantics(case, base=path.parent)
        cases.append(case)
    return cases


def _with_includes(path: Path, depth: int) -> tuple[Any, Provenance]:
    data, provenance = read_yaml(path)
    if not isinstance(data, dict) or "include" not in data:
        return data, provenance
    includes = data["include"]
    name = display_path(path)
    if not isinstance(includes, list) or not all(isinstance(i, str) for i in includes):
        file, line = where(provenance, ("include",))
        raise ScenarioError("expected a list of file paths", file=file, line=line, path=("include",))
    if depth >= MAX_INCLUDE_DEPTH:
        raise ScenarioError(f"includes nested deeper than {MAX_INCLUDE_DEPTH}", file=name)
    merged: tuple[Any, Provenance] = ({}, {})
    for i, include in enumerate(includes):
        target = path.parent / include
        if not target.is_file():
            file, line = where(provenance, ("include", i))
            raise ScenarioError(f"included file {include!r} not found", file=file, line=line, path=("include", i))
        fragment = _with_includes(target, depth + 1)
        if not isinstance(fragment[0], dict):
            raise ScenarioError("an included fragment holds a mapping of keys", file=display_path(target), line=1)
        merged = merge(merged, fragment)
    own = {k: v for k, v in data.items() if k != "include"}
    return merge(merged, (own, provenance))


def _matrix(data: dict[str, Any], provenance: Provenance, name: str) -> Iterator[dict[str, Any]]:
    matrix = data.get("matrix")
    if not matrix:
        yield {}
        return
    if not isinstance(matrix, dict) or not all(isinstance(v, list) and v for v in matrix.values()):
        file, line = where(provenance, ("matrix",))
        raise ScenarioError("expected a mapping of parameter names to non-empty lists", file=file, line=line,
                            path=("matrix",))
    keys = list(matrix)
    combos = list(itertools.product(*(matrix[k] for k in keys)))
    if len(combos) > MAX_CASES:
        raise ScenarioError(f"the matrix makes {len(combos)} cases; at most {MAX_CASES}", file=name,
                            line=where(provenance, ("matrix",))[1], path=("matrix",))
    for combo in combos:
        yield dict(zip(keys, combo, strict=True))


def _substitute(value: Any, params: dict[str, Any]) -> Any:
    if isinstance(value, dict):
        return {k: (v if k == "matrix" else _substitute(v, params)) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, params) for v in value]
    if isinstance(value, str):
        whole = _PLACEHOLDER.fullmatch(value)
        if whole and whole.group(1) in params:
            return params[whole.group(1)]
        return _PLACEHOLDER.sub(lambda m: str(params.get(m.group(1), m.group(0))), value)
    return value


# -- the schema ----------------------------------------------------------------------------------------
def _check_schema(case: Case) -> None:
    errors = sorted(_validator().iter_errors(case.data), key=lambda e: (len(e.absolute_path) == 0, _line_key(case, e)))
    if errors:
        error = errors[0]
        path, message = _explain(error)
        raise case.error(message, path)


def _line_key(case: Case, error: jsonschema.ValidationError) -> int:
    return case.line_of(tuple(error.absolute_path)) or 0


def _explain(error: jsonschema.ValidationError) -> tuple[KeyPath, str]:
    """A short message for a schema error, and the key path it is about."""
    path: KeyPath = tuple(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    kind, value = error.validator, error.instance
    keys = ", ".join(map(str, value)) if isinstance(value, dict) else ""
    if kind == "additionalProperties" and isinstance(value, dict):
        allowed = sorted(schema.get("properties", {}))
        extra = sorted(k for k in value if k not in allowed)
        if extra:
            known = f" (expected one of: {', '.join(allowed)})" if allowed else ""
            return (*path, extra[0]), f"unknown key{known}"
    if kind in ("minProperties", "maxProperties") and "x-message" in schema:
        return path, f"{schema['x-message']}; got {keys or 'nothing'}"
    if "x-message" in schema:
        return path, str(schema["x-message"])
    if kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return path, f"missing required key {missing!r}"
    if kind == "type":
        want = schema.get("type")
        want_text = " or ".join(want) if isinstance(want, list) else str(want)
        return path, f"expected {_article(want_text)}, got {_kind_of(value)}"
    if kind == "enum":
        return path, f"expected one of {', '.join(map(str, schema.get('enum', [])))}; got {value!r}"
    if kind in ("minimum", "maximum", "minItems"):
        return path, error.message
    return path, error.message


def _article(kind: str) -> str:
    return {"object": "a mapping", "array": "a list", "integer": "an integer", "number": "a number",
            "string": "a string", "boolean": "true or false", "null": "null"}.get(kind, kind)


def _kind_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the string {value!r}"
    return f"{type(value).__name__} {value!r}"


# -- meaning -------------------------------------------------------------------------------------------
def check_semantics(case: Case, *, base: Path) -> None:
    """What the schema cannot say: durations and times read, cohort ids defined, files present,
    cohort definitions parse, the SUT spec is well formed."""
    data = case.data
    if "start" in data:
        _time(case, ("start",), data["start"])
    cohorts = {c["id"] for c in data.get("cohorts", [])}
    for i, cohort in enumerate(data.get("cohorts", [])):
        _definition(case, ("cohorts", i, "definition"), cohort["definition"])
        sync = cohort.get("sync")
        if isinstance(sync, dict) and "interval" in sync:
            _positive_duration(case, ("cohorts", i, "sync", "interval"), sync["interval"])
    for i, source in enumerate(data.get("events", [])):
        _file(case, ("events", i), source, base)
    for kind in ("mixpanel", "braze"):
        for j, rule in enumerate(data.get("faults", {}).get(kind, [])):
            _fault_window(case, ("faults", kind, j), rule)
    if "span" in data.get("world", {}):
        _positive_duration(case, ("world", "span"), data["world"]["span"])
    if "flush_interval" in data.get("current", {}):
        _duration(case, ("current", "flush_interval"), data["current"]["flush_interval"])
    for i, step in enumerate(data.get("steps", [])):
        _step(case, ("steps", i), step, cohorts, base)
    for i, expectation in enumerate(data.get("expect", [])):
        _expectation(case, ("expect", i), expectation, cohorts)


def _step(case: Case, path: KeyPath, step: dict[str, Any], cohorts: set[int], base: Path) -> None:
    (kind, value), = step.items()
    where_ = (*path, kind)
    if kind == "advance":
        _positive_duration(case, where_, value)
    elif kind == "at":
        _time(case, where_, value)
    elif kind == "deliver":
        for j, source in enumerate(value.get("events", [])):
            _file(case, (*where_, "events", j), source, base)
    elif kind in ("rename_cohort", "redefine_cohort", "delete_cohort", "stop_sync"):
        cohort = value["cohort"] if isinstance(value, dict) else value
        if cohort not in cohorts:
            raise case.error(f"cohort {cohort} is not defined in cohorts", where_)
        if kind == "redefine_cohort":
            _definition(case, (*where_, "definition"), value["definition"])
    elif kind == "sync":
        _definition(case, (*where_, "definition"), value["definition"])
        cohorts.add(value["id"])
    elif kind == "identify" and not ({"device_id", "braze_id"} & set(value)):
        raise case.error("give device_id or braze_id of the profile to identify", where_)
    elif kind == "faults":
        for fake, rules in value.items():
            for j, rule in enumerate(rules):
                _fault_window(case, (*where_, fake, j), rule)
    elif kind == "expect":
        for j, expectation in enumerate(value):
            _expectation(case, (*where_, j), expectation, cohorts)


def _expectation(case: Case, path: KeyPath, expectation: dict[str, Any], cohorts: set[int]) -> None:
    (kind, value), = expectation.items()
    if isinstance(value, dict):
        if "cohort" in value and value["cohort"] not in cohorts:
            raise case.error(f"cohort {value['cohort']} is not defined in cohorts", (*path, kind, "cohort"))
        if "at" in value:
            _time(case, (*path, kind, "at"), value["at"])
        checks = [k for k in ("equals", "includes", "excludes", "count") if k in value]
        if kind in ("cohort_members", "segment") and not checks:
            raise case.error("say what to check: equals, includes, excludes or count", (*path, kind))


def _definition(case: Case, path: KeyPath, definition: Any) -> None:
    try:
        parse_definition(definition)
    except CohortDefinitionError as exc:
        raise case.error(f"bad cohort definition: {exc}", path) from None


def _file(case: Case, path: KeyPath, source: dict[str, Any], base: Path) -> None:
    if "file" in source and not (base / source["file"]).is_file():
        raise case.error(f"file {source['file']!r} not found (paths are relative to the scenario file)",
                         (*path, "file"))


def _fault_window(case: Case, path: KeyPath, rule: dict[str, Any]) -> None:
    for key in ("from", "until"):
        if key in rule:
            _time(case, (*path, key), rule[key])


def _duration(case: Case, path: KeyPath, value: Any) -> float:
    try:
        return parse_duration(value)
    except TimeSpecError as exc:
        raise case.error(str(exc), path) from None


def _positive_duration(case: Case, path: KeyPath, value: Any) -> float:
    seconds = _duration(case, path, value)
    if seconds < 0:
        raise case.error("expected a duration of zero or more", path)
    return seconds


def _time(case: Case, path: KeyPath, value: Any) -> None:
    try:
        if is_iso_time(value):
            parse_iso(str(value))
        else:
            parse_time(value, 0.0)
    except TimeSpecError as exc:
        raise case.error(str(exc), path) from None


__all__ = ["Case", "ScenarioError", "discover", "format_path", "load_cases", "load_file", "scenario_schema"]
