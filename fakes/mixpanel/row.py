"""One stored event as the store's readers see it (`Row`), and what its request shares (`RequestMeta`).

The store keeps rows encoded (`row_codec`) and gives out decoded `Row` objects."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RequestMeta:
    """Shared by every row of one request (one allocation per request, not per event)."""

    request_id: str
    endpoint: str
    region: str
    received_ms: int
    dialect: str
    user_agent: str
    host: str = ""


class Row:
    """One accepted event. `properties` is the normalised copy shown by the views; `raw_properties`
    is what the client sent (the same object when nothing was normalised)."""

    __slots__ = ("project_id", "event", "distinct_id", "time_ms", "insert_id", "insert_id_generated",
                 "properties", "raw_properties", "dropped", "quarantine", "meta", "seq")

    def __init__(self, project_id: int | None, event: str, distinct_id: str, time_ms: int, insert_id: str,
                 insert_id_generated: bool, properties: dict[str, Any], raw_properties: dict[str, Any],
                 dropped: str | None = None, quarantine: str | None = None) -> None:
        self.project_id = project_id
        self.event = event
        self.distinct_id = distinct_id
        self.time_ms = time_ms
        self.insert_id = insert_id
        self.insert_id_generated = insert_id_generated
        self.properties = properties
        self.raw_properties = raw_properties
        self.dropped = dropped
        self.quarantine = quarantine
        self.meta: RequestMeta | None = None
        self.seq = 0

    @property
    def dedup_key(self) -> tuple[Any, ...]:
        return (self.project_id, self.event, self.distinct_id, self.time_ms, self.insert_id)

    def public(self, view: str) -> dict[str, Any]:
        """The `/_harness/events` shape: raw rows show what was sent, views the normalised copy."""
        props = self.raw_properties if view == "raw" else self.properties
        return {"event": self.event, "properties": props}

    def metadata(self) -> dict[str, Any]:
        meta = self.meta
        out: dict[str, Any] = {
            "seq": self.seq,
            "project_id": self.project_id,
            "distinct_id": self.distinct_id,
            "time_ms": self.time_ms,
            "insert_id": self.insert_id,
            "insert_id_generated": self.insert_id_generated,
            "dropped": self.dropped,
            "quarantine": self.quarantine,
        }
        if meta is not None:
            out.update(request_id=meta.request_id, endpoint=meta.endpoint, region=meta.region,
                       received_ms=meta.received_ms, dialect=meta.dialect, user_agent=meta.user_agent)
        return out
