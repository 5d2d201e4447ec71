"""What running a scenario case leaves: plain data that crosses process boundaries (`-j N`) as JSON and feeds
every report writer (JUnit, JSON, HTML)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Status = Literal["passed", "failed", "error"]


@dataclass
class Outcome:
    """An assertion's answer, in the shape of `responses`' matchers: passed, and why not."""

    passed: bool
    reason: str = ""
    diff: list[str] = field(default_factory=list)

    @classmethod
    def ok(cls, reason: str = "") -> Outcome:
        return cls(True, reason)

    @classmethod
    def fail(cls, reason: str, diff: list[str] | None = None) -> Outcome:
        return cls(False, reason, list(diff or []))


@dataclass
class CheckResult:
    """One expectation, where it stands in the file and what it found."""

    where: str
    """Key path in the scenario file (`expect[2]`, `steps[4].expect[0]`)."""
    kind: str
    spec: Any
    line: int | None
    at: float
    outcome: Outcome


@dataclass
class StepResult:
    index: int
    kind: str
    spec: Any
    line: int | None
    started_at: float
    finished_at: float
    outcome: Outcome | None = None
    """Steps that check something (`request` with `expect`) carry the outcome; others None."""


@dataclass
class TimelineEntry:
    at: float
    lane: str
    """`step`, `mixpanel`, `braze`, `delivery`, `sync`, `fault`, `membership`."""
    text: str
    level: str = "info"
    """`info`, `ok`, `warn` (a retry, a fault), `fail`."""


@dataclass
class CaseResult:
    case_id: str
    name: str
    file: str
    line: int | None
    seed: int
    status: Status
    sut: str
    description: str = ""
    tags: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    start: float = 0.0
    """Simulated time of the start."""
    end: float = 0.0
    wall_s: float = 0.0
    steps: list[StepResult] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)
    error: str | None = None
    """The traceback of a scenario that crashed (status `error`)."""
    timeline: list[TimelineEntry] = field(default_factory=list)
    journal: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """A masked excerpt of each fake's journal."""
    summary: dict[str, Any] = field(default_factory=dict)
    replay: str = ""

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @property
    def failures(self) -> list[CheckResult | StepResult]:
        failed: list[CheckResult | StepResult] = [
            s for s in self.steps if s.outcome is not None and not s.outcome.passed]
        return failed + [c for c in self.checks if not c.outcome.passed]

    def failure_text(self, *, max_lines: int = 60) -> str:
        """The failures as readable lines (for a terminal, a JUnit message or a pytest report)."""
        if self.status == "error":
            return self.error or "the scenario crashed"
        lines: list[str] = []
        for item in self.failures:
            where = item.where if isinstance(item, CheckResult) else f"steps[{item.index}].{item.kind}"
            at = f"{self.file}:{item.line}: " if item.line else ""
            assert item.outcome is not None
            lines.append(f"{at}{where}: {item.outcome.reason}")
            lines += [f"    {d}" for d in item.outcome.diff]
        if len(lines) > max_lines:
            lines = lines[:max_lines] + [f"... and {len(lines) - max_lines} more lines"]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CaseResult:
        values = dict(data)
        values["steps"] = [StepResult(**{**s, "outcome": Outcome(**s["outcome"]) if s.get("outcome") else None})
                           for s in data.get("steps", [])]
        values["checks"] = [CheckResult(**{**c, "outcome": Outcome(**c["outcome"])}) for c in data.get("checks", [])]
        values["timeline"] = [TimelineEntry(**t) for t in data.get("timeline", [])]
        return cls(**values)


@dataclass
class RunResult:
    """A whole `harness run`: every case's result, in selection order."""

    cases: list[CaseResult]
    wall_s: float = 0.0
    seed: int | None = None
    sut: str = "reference"

    @property
    def counts(self) -> dict[str, int]:
        out = {"passed": 0, "failed": 0, "error": 0}
        for case in self.cases:
            out[case.status] += 1
        return out

    @property
    def ok(self) -> bool:
        return all(c.passed for c in self.cases)
