"""What one request did (mixpanel-ingestion.md §14): the answer plus the facts the journal and the stats
report. A handler fills an outcome as it goes; a field left at None was not reached and is not journalled."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .answers import PLAIN, Answer

# The answer of an outcome no handler has answered yet; the model refuses to return it (a harness bug).
NO_ANSWER = Answer(500, b"", PLAIN)


@dataclass(eq=False)
class IngestOutcome:
    """One `/import`, `/track`, `/engage` or `/groups` request."""

    dialect: str  # §3 R3
    deviations: list[str]  # where the harness departs from (or interprets) the spec, for this request
    payload: list[Any]  # the first decoded records (capped)
    answer: Answer = field(default_factory=lambda: NO_ANSWER)
    project_id: int | None = None  # /import: the authenticated project
    auth: str | None = None  # /import: how it authenticated (service_account, secret, token, bearer)
    strict: bool | None = None
    verbose: bool | None = None
    ip: bool | None = None
    test: bool | None = None
    project_ids: list[int] | None = None  # /track: the projects the events' tokens name
    problem: str | None = None  # why nothing was decoded (`problem_noted`: journalled, even when None)
    problem_noted: bool = False
    records_accepted: int | None = None
    records_dropped: int | None = None
    records_failed: int | None = None
    updated_project_ids: list[int] | None = None  # /engage, /groups: the projects whose profiles changed

    def answered(self, answer: Answer) -> IngestOutcome:
        self.answer = answer
        return self

    def note_problem(self, problem: str | None) -> None:
        self.problem, self.problem_noted = problem, True

    def stats_project(self) -> int | str | None:
        """The stats row's project: the authenticated one, else the ids joined by commas."""
        if self.project_id is not None:
            return self.project_id
        ids = self.project_ids if self.project_ids is not None else self.updated_project_ids
        return ",".join(str(p) for p in ids) if ids else None

    def journal_fields(self) -> dict[str, Any]:
        """The request journal's fields, in a fixed order (§14)."""
        fields: dict[str, Any] = {"dialect": self.dialect, "deviations": self.deviations, "payload": self.payload}
        _put(fields, (("project_id", self.project_id), ("auth", self.auth), ("strict", self.strict),
                      ("verbose", self.verbose), ("ip", self.ip), ("test", self.test),
                      ("project_ids", self.project_ids)))
        if self.problem_noted:
            fields["problem"] = self.problem
        _put(fields, (("records_accepted", self.records_accepted), ("records_dropped", self.records_dropped),
                      ("records_failed", self.records_failed), ("project_ids", self.updated_project_ids)))
        return fields


@dataclass(eq=False)
class LookupOutcome:
    """One `GET /lookup-tables` or `PUT /lookup-tables/{id}` request (§9)."""

    answer: Answer
    project_id: int | None = None
    rows: int | None = None  # rows of a successful replacement

    def journal_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        _put(fields, (("project_id", self.project_id), ("rows", self.rows)))
        return fields


@dataclass(eq=False)
class ExportOutcome:
    """One raw-export request: an error `answer`, or the export's `lines` (streamed, in chunks of lines)."""

    answer: Answer | None = None
    lines: Iterator[bytes] | None = None
    content_encoding: str | None = None  # "gzip" when the lines are compressed
    project_id: int | None = None
    auth: str | None = None
    window: list[str] | None = None  # [from_date, to_date]
    events: list[str] | None = None
    limit: int | None = None

    def journal_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        _put(fields, (("project_id", self.project_id), ("auth", self.auth), ("window", self.window),
                      ("events", self.events), ("limit", self.limit)))
        return fields


def _put(fields: dict[str, Any], pairs: tuple[tuple[str, Any], ...]) -> None:
    for name, value in pairs:
        if value is not None:
            fields[name] = value
