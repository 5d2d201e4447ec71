"""Fault rules (mixpanel-ingestion.md §13, braze-cohort-sync.md §4.12): the model, no HTTP.

A rule says which requests it matches (`match`, AND of fields, `*` globs, a list means any of), when it fires
(`times`, `nth`, `every`, seeded `probability`, a simulated-time window) and what it does (`action`). The fake
decides where rules are checked (one call, see `fakes.core.app.fire_faults`) and which extra request
attributes rules may match on. Rules are checked in installation order; the first that fires wins.

    {"id": "f1",
     "match": {"path": "/import", "method": "POST", "user_agent": "python-requests*"},
     "times": 3, "nth": [1, 2], "every": null, "probability": null, "ingest": false,
     "action": {"type": "status", "status": 503, "body": "...", "content_type": "text/plain",
                "headers": {}, "delay_ms": 0}}
"""

from __future__ import annotations

import fnmatch
import itertools
import math
import random
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from fakes.core.nesting import MAX_CONTROL_DEPTH, deeper_than

CORE_MATCH_FIELDS = ("path", "method", "host", "user_agent")
"""Attributes the core supplies for every request; a fake adds its own (project_id, region, cohort_id...)."""

ACTION_FIELDS: dict[str, frozenset[str]] = {
    "status": frozenset({"status", "body", "content_type", "headers", "delay_ms"}),
    "rate_limit": frozenset({"retry_after_s", "headers", "delay_ms"}),
    "latency": frozenset({"delay_ms"}),
    "drop_before_response": frozenset({"mode", "delay_ms"}),
    "drop_mid_response": frozenset({"status", "body", "content_type", "headers", "sent_bytes", "delay_ms"}),
    "slow_body": frozenset({"bytes_per_s", "status", "body", "content_type", "headers", "delay_ms"}),
    "hang": frozenset({"max_hang_ms"}),
}
"""Every action type and the fields it takes (besides `type`)."""

TRANSPORT_ACTIONS = frozenset({"drop_before_response", "drop_mid_response", "slow_body", "hang"})
RULE_FIELDS = frozenset(
    {"id", "match", "times", "nth", "every", "probability", "seed", "ingest", "stage",
     "active_from", "active_until", "action"}
)
DEFAULT_MAX_DELAY_MS = 120_000
DEFAULT_MAX_HANG_MS = 30_000


class FaultRuleError(ValueError):
    """An invalid rule; the message names the offending field (the control API answers 400 with it)."""


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class FaultAction:
    type: str
    status: int | None = None
    body: Any = None
    """None: no body given (the fake's answer or an empty body); a string is sent as is; else JSON."""
    has_body: bool = False
    content_type: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    delay_ms: int = 0
    retry_after_s: float | None = None
    mode: str = "fin"
    sent_bytes: int | None = None
    bytes_per_s: int | None = None
    max_hang_ms: int | None = None

    @property
    def is_transport(self) -> bool:
        return self.type in TRANSPORT_ACTIONS

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        allowed = ACTION_FIELDS[self.type]
        for name in ("status", "content_type", "retry_after_s", "sent_bytes", "bytes_per_s", "max_hang_ms"):
            if name in allowed and getattr(self, name) is not None:
                out[name] = getattr(self, name)
        if "body" in allowed and self.has_body:
            out["body"] = self.body
        if "headers" in allowed:
            out["headers"] = dict(self.headers)
        if "delay_ms" in allowed:
            out["delay_ms"] = self.delay_ms
        if "mode" in allowed:
            out["mode"] = self.mode
        return out


@dataclass
class FaultRule:
    id: str
    action: FaultAction
    match: dict[str, tuple[str, ...]] = field(default_factory=dict)
    times: int | None = None
    nth: frozenset[int] = frozenset()
    every: int | None = None
    probability: float | None = None
    seed: int | str | None = None
    ingest: bool = False
    stage: str = "default"
    active_from: float | None = None
    active_until: float | None = None
    matched: int = 0
    fired: int = 0
    _rng: random.Random | None = field(default=None, repr=False)

    def matches(self, attrs: Mapping[str, Any], now: float | None) -> bool:
        if now is not None:
            if self.active_from is not None and now < self.active_from:
                return False
            if self.active_until is not None and now >= self.active_until:
                return False
        for name, patterns in self.match.items():
            value = attrs.get(name)
            if value is None:
                return False
            text = _attr_text(value)
            if name == "method":
                text = text.upper()
                if not any(fnmatch.fnmatchcase(text, p.upper()) for p in patterns):
                    return False
            elif not any(fnmatch.fnmatchcase(text, p) for p in patterns):
                return False
        return True

    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "match": {k: (list(v) if len(v) > 1 else v[0]) for k, v in self.match.items()},
            "times": self.times,
            "nth": sorted(self.nth) or None,
            "every": self.every,
            "probability": self.probability,
            "seed": self.seed,
            "ingest": self.ingest,
            "stage": self.stage,
            "active_from": self.active_from,
            "active_until": self.active_until,
            "action": self.action.to_json(),
            "matched": self.matched,
            "fired": self.fired,
        }


def _attr_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class FaultDecision:
    """A rule fired for this request: what to do and which rule (journalled by its id)."""

    rule_id: str
    action: FaultAction
    ingest: bool
    ordinal: int
    """This request's 1-based ordinal among the requests the rule matched."""

    def journal_view(self) -> dict[str, Any]:
        return {"id": self.rule_id, "action": self.action.type, "ingest": self.ingest, "ordinal": self.ordinal}


class FaultSet:
    """The installed rules of one fake. Thread-safe; `check` is O(rules) and never blocks on I/O."""

    def __init__(
        self,
        *,
        match_fields: Iterable[str] = (),
        stages: Sequence[str] = ("default",),
        seed: int | str = 0,
        max_delay_ms: int = DEFAULT_MAX_DELAY_MS,
        max_hang_ms: int = DEFAULT_MAX_HANG_MS,
    ) -> None:
        if not stages:
            raise ValueError("a fault set needs at least one stage")
        self.match_fields = frozenset(CORE_MATCH_FIELDS) | frozenset(match_fields)
        self.stages = tuple(stages)
        self.seed = seed
        self.max_delay_ms = max_delay_ms
        self.max_hang_ms = max_hang_ms
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._auto_ids = itertools.count(1)
        self._fired_total = 0

    # -- installing ----------------------------------------------------------------------------------
    def install(self, payload: Any) -> list[FaultRule]:
        """Install one rule (a JSON object) or a list of them: all are validated before any is added."""
        if isinstance(payload, Mapping):
            items, single = [payload], True
        elif isinstance(payload, list):
            items, single = payload, False
        else:
            raise FaultRuleError("fault rules must be a JSON object or an array of objects")
        if not items:
            raise FaultRuleError("no fault rule given (empty array)")
        with self._lock:
            taken = {r.id for r in self._rules}
            parsed: list[FaultRule] = []
            for index, item in enumerate(items):
                where = "fault" if single else f"faults[{index}]"
                rule = self._parse_rule(item, where)
                if rule.id in taken:
                    raise FaultRuleError(f"{where}.id: a rule with id {rule.id!r} is already installed")
                taken.add(rule.id)
                parsed.append(rule)
            for rule in parsed:
                rule._rng = random.Random(f"{self.seed if rule.seed is None else rule.seed}/{rule.id}")
            self._rules.extend(parsed)
        return parsed

    def _next_auto_id(self, taken: set[str]) -> str:
        while True:
            candidate = f"f{next(self._auto_ids)}"
            if candidate not in taken:
                return candidate

    def _parse_rule(self, item: Any, where: str) -> FaultRule:
        if not isinstance(item, Mapping):
            raise FaultRuleError(f"{where}: a rule must be a JSON object")
        unknown = sorted(set(item) - RULE_FIELDS)
        if unknown:
            allowed = ", ".join(sorted(RULE_FIELDS))
            raise FaultRuleError(f"{where}: unknown field(s) {', '.join(unknown)}; allowed: {allowed}")
        rule_id = item.get("id")
        if rule_id is None:
            rule_id = self._next_auto_id({r.id for r in self._rules})
        elif not isinstance(rule_id, str) or not rule_id.strip():
            raise FaultRuleError(f"{where}.id: must be a non-empty string")
        match = self._parse_match(item.get("match"), f"{where}.match")
        times = _optional_int(item.get("times"), f"{where}.times", minimum=1)
        every = _optional_int(item.get("every"), f"{where}.every", minimum=1)
        nth_raw = item.get("nth")
        if nth_raw is None:
            nth: frozenset[int] = frozenset()
        else:
            values = [nth_raw] if _is_int(nth_raw) else nth_raw
            if not isinstance(values, list) or not values or not all(_is_int(v) and v >= 1 for v in values):
                raise FaultRuleError(f"{where}.nth: must be a positive integer or a non-empty array of them")
            nth = frozenset(values)
        probability = item.get("probability")
        if probability is not None and not (_is_number(probability) and 0 <= probability <= 1):
            raise FaultRuleError(f"{where}.probability: must be a number between 0 and 1")
        seed = item.get("seed")
        if seed is not None and not (_is_int(seed) or isinstance(seed, str)):
            raise FaultRuleError(f"{where}.seed: must be an integer or a string")
        ingest = item.get("ingest", False)
        if not isinstance(ingest, bool):
            raise FaultRuleError(f"{where}.ingest: must be true or false")
        stage = item.get("stage", self.stages[0])
        if stage not in self.stages:
            raise FaultRuleError(f"{where}.stage: must be one of {', '.join(self.stages)}")
        active_from = item.get("active_from")
        active_until = item.get("active_until")
        for name, value in (("active_from", active_from), ("active_until", active_until)):
            if value is not None and not _is_number(value):
                raise FaultRuleError(f"{where}.{name}: must be an epoch time in seconds (simulated clock)")
        if active_from is not None and active_until is not None and active_until <= active_from:
            raise FaultRuleError(f"{where}.active_until: must be after active_from")
        action = self._parse_action(item.get("action"), f"{where}.action")
        if ingest and action.type == "hang":
            raise FaultRuleError(f"{where}.ingest: not available with a hang action")
        return FaultRule(
            id=rule_id, action=action, match=match, times=times, nth=nth, every=every,
            probability=None if probability is None else float(probability), seed=seed, ingest=ingest,
            stage=stage, active_from=active_from, active_until=active_until,
        )

    def _parse_match(self, raw: Any, where: str) -> dict[str, tuple[str, ...]]:
        if raw is None:
            return {}
        if not isinstance(raw, Mapping):
            raise FaultRuleError(f"{where}: must be a JSON object")
        out: dict[str, tuple[str, ...]] = {}
        for name, value in raw.items():
            if name not in self.match_fields:
                raise FaultRuleError(
                    f"{where}: unknown field {name!r}; this fake matches on {', '.join(sorted(self.match_fields))}"
                )
            values = value if isinstance(value, list) else [value]
            if not values or not all(isinstance(v, (str, int, float, bool)) for v in values):
                raise FaultRuleError(f"{where}.{name}: must be a string, a number or a non-empty array of them")
            out[name] = tuple(_attr_text(v) for v in values)
        return out

    def _parse_action(self, raw: Any, where: str) -> FaultAction:
        if not isinstance(raw, Mapping):
            raise FaultRuleError(f"{where}: required, a JSON object with a type")
        kind = raw.get("type")
        if kind not in ACTION_FIELDS:
            raise FaultRuleError(f"{where}.type: must be one of {', '.join(ACTION_FIELDS)}")
        allowed = ACTION_FIELDS[kind]
        unknown = sorted(set(raw) - allowed - {"type"})
        if unknown:
            raise FaultRuleError(
                f"{where}: field(s) {', '.join(unknown)} not valid for {kind}; allowed: {', '.join(sorted(allowed))}"
            )
        fields: dict[str, Any] = {"type": kind}
        if "status" in allowed:
            status = raw.get("status")
            if status is None:
                if kind == "status":
                    raise FaultRuleError(f"{where}.status: required for a status action")
                status = 200
            if not (_is_int(status) and 100 <= status <= 599):
                raise FaultRuleError(f"{where}.status: must be an integer between 100 and 599")
            fields["status"] = status
        if "body" in raw:
            if deeper_than(raw["body"], MAX_CONTROL_DEPTH):  # would crash json.dumps when the fault answers
                raise FaultRuleError(f"{where}.body: nested too deeply (at most {MAX_CONTROL_DEPTH} levels)")
            fields["body"] = raw["body"]
            fields["has_body"] = True
        if raw.get("content_type") is not None:
            ct = raw["content_type"]
            if not isinstance(ct, str) or "\n" in ct or "\r" in ct:
                raise FaultRuleError(f"{where}.content_type: must be a single-line string")
            fields["content_type"] = ct
        headers = raw.get("headers")
        if headers is not None:
            if not isinstance(headers, Mapping) or not all(
                isinstance(k, str) and k and isinstance(v, (str, int)) and not isinstance(v, bool)
                and "\n" not in f"{k}{v}" and "\r" not in f"{k}{v}" and ":" not in k
                for k, v in headers.items()
            ):
                raise FaultRuleError(f"{where}.headers: must be an object of header names to single-line strings")
            fields["headers"] = tuple((k, str(v)) for k, v in headers.items())
        delay = raw.get("delay_ms")
        if kind == "latency" and delay is None:
            raise FaultRuleError(f"{where}.delay_ms: required for a latency action")
        if delay is not None:
            if not (_is_int(delay) and 0 <= delay <= self.max_delay_ms):
                raise FaultRuleError(f"{where}.delay_ms: must be an integer between 0 and {self.max_delay_ms}")
            fields["delay_ms"] = delay
        if raw.get("retry_after_s") is not None:
            ra = raw["retry_after_s"]
            if not (_is_number(ra) and ra >= 0):
                raise FaultRuleError(f"{where}.retry_after_s: must be a number >= 0 or null")
            fields["retry_after_s"] = ra
        if "mode" in allowed and raw.get("mode") is not None:
            if raw["mode"] not in ("fin", "rst"):
                raise FaultRuleError(f'{where}.mode: must be "fin" or "rst"')
            fields["mode"] = raw["mode"]
        if raw.get("sent_bytes") is not None:
            fields["sent_bytes"] = _optional_int(raw["sent_bytes"], f"{where}.sent_bytes", minimum=0)
        if kind == "slow_body":
            bps = raw.get("bytes_per_s")
            if not (_is_int(bps) and bps >= 1):
                raise FaultRuleError(f"{where}.bytes_per_s: required, an integer >= 1")
            fields["bytes_per_s"] = bps
        if kind == "hang":
            hang = raw.get("max_hang_ms")
            if hang is None:
                hang = self.max_hang_ms
            if not (_is_int(hang) and hang >= 0):
                raise FaultRuleError(f"{where}.max_hang_ms: must be an integer >= 0")
            fields["max_hang_ms"] = min(hang, self.max_hang_ms)  # capped: a hang never outlives the cap
        return FaultAction(**fields)

    # -- evaluating ----------------------------------------------------------------------------------
    def check(
        self, attrs: Mapping[str, Any], *, stage: str | None = None, now: float | None = None
    ) -> FaultDecision | None:
        """Count this request against every matching rule of `stage`; return the first rule that fires."""
        stage = stage or self.stages[0]
        with self._lock:
            decision: FaultDecision | None = None
            for rule in self._rules:
                if rule.stage != stage or not rule.matches(attrs, now):
                    continue
                rule.matched += 1
                if decision is not None:
                    continue
                if self._fires(rule):
                    rule.fired += 1
                    self._fired_total += 1
                    decision = FaultDecision(rule.id, rule.action, rule.ingest, rule.matched)
            return decision

    @staticmethod
    def _fires(rule: FaultRule) -> bool:
        if rule.exhausted():
            return False
        if rule.nth and rule.matched not in rule.nth:
            return False
        if rule.every is not None and rule.matched % rule.every != 0:
            return False
        if rule.probability is not None:
            assert rule._rng is not None
            return rule._rng.random() < rule.probability
        return True

    # -- inspecting / clearing -----------------------------------------------------------------------
    @property
    def has_rules(self) -> bool:
        return bool(self._rules)  # a read of one reference: no lock needed for a yes/no hint

    def rules(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.to_json() for r in self._rules]

    @property
    def fired_total(self) -> int:
        with self._lock:
            return self._fired_total

    def remove(self, rule_id: str) -> bool:
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if r.id != rule_id]
            return len(self._rules) != before

    def clear(self) -> int:
        with self._lock:
            count = len(self._rules)
            self._rules = []
            self._auto_ids = itertools.count(1)
            self._fired_total = 0
            return count

    def reseed(self, seed: int | str) -> None:
        """New run seed; installed rules restart their random sequence from it."""
        with self._lock:
            self.seed = seed
            for rule in self._rules:
                rule._rng = random.Random(f"{seed if rule.seed is None else rule.seed}/{rule.id}")


def _optional_int(value: Any, where: str, *, minimum: int) -> int | None:
    if value is None:
        return None
    if not (_is_int(value) and value >= minimum):
        raise FaultRuleError(f"{where}: must be an integer >= {minimum} or null")
    return value
