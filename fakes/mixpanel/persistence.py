"""What `harness serve --state-dir` writes for the fake Mixpanel, and how it is read back.

A record's data part: `ev` (the events stored since the last record, their JSON as blobs), `pr` / `gp` (the
user / group profiles changed: each whole, or a deletion), `lt` (every lookup table, when one changed).
`capture` gives the whole model as such parts (the events in chunks); `replay` checks every row.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .model import IngestionModel


class MixpanelChanges:
    """Remembers what was last written (the lookup tables' version) for one model."""

    def __init__(self, model: IngestionModel) -> None:
        self.model = model
        self._tables_version = model.lookup_tables.version

    def take(self) -> tuple[dict[str, Any], list[bytes]] | None:
        model = self.model
        head: dict[str, Any] = {}
        blobs: list[bytes] = []
        events = model.store.take_changes()
        if events is not None:
            head["ev"], blobs = events
        for part, store in (("pr", model.profiles), ("gp", model.group_profiles)):
            changed = store.take_changes()
            if changed:
                head[part] = changed
        if model.lookup_tables.version != self._tables_version:
            head["lt"] = model.lookup_tables.snapshot()
            self._tables_version = model.lookup_tables.version
        return (head, blobs) if head else None

    def capture(self) -> Iterator[tuple[dict[str, Any], list[bytes]]]:
        """Called under the state's lock; the events are walked later (the store's lists only grow)."""
        model = self.model
        first = {"pr": model.profiles.snapshot(), "gp": model.group_profiles.snapshot(),
                 "lt": model.lookup_tables.snapshot()}
        events = model.store.capture()

        def parts() -> Iterator[tuple[dict[str, Any], list[bytes]]]:
            yield first, []
            for head, blobs in events:
                yield {"ev": head}, blobs
        return parts()

    def replay(self, head: Mapping[str, Any], blobs: bytes) -> None:
        model = self.model
        unknown = set(head) - {"ev", "pr", "gp", "lt"}
        if unknown:
            raise ValueError(f"unknown data part(s) {', '.join(sorted(unknown))}")
        if "ev" in head:
            end = model.store.replay(head["ev"], blobs)
            if end != len(blobs):
                raise ValueError(f"events: {len(blobs) - end} bytes left over after the rows")
            model.reseed_insert_ids()
        if "pr" in head:
            model.profiles.restore(head["pr"], "profiles")
        if "gp" in head:
            model.group_profiles.restore(head["gp"], "group_profiles")
        if "lt" in head:
            model.lookup_tables.restore(head["lt"], "lookup_tables")
        self._tables_version = model.lookup_tables.version
