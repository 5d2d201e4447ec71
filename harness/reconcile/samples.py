"""The shape of a sample in the report: the dedup key of one event and where it was read."""

from __future__ import annotations

from typing import Any


def display_time(ms: int) -> int | float:
    """Milliseconds back to Mixpanel's `time` unit (seconds) for display."""
    return ms // 1000 if ms % 1000 == 0 else ms / 1000


def source_of(side: str, file: str, number: int) -> dict[str, Any]:
    """Where an event was read: a Currents file's record number, or an export file's line number."""
    return {"side": side, "file": file, "record" if side == "currents" else "line": number}


def key_sample(event: str, distinct_id: str, time_ms: int, insert_id: str | None,
               source: dict[str, Any]) -> dict[str, Any]:
    return {"event": event, "distinct_id": distinct_id, "time": display_time(time_ms), "$insert_id": insert_id,
            "source": source}


def mismatch_sample(event: str, distinct_id: str, time_ms: int, insert_id: str | None, currents: dict[str, Any],
                    mixpanel: dict[str, Any], differences: dict[str, Any]) -> dict[str, Any]:
    sample = key_sample(event, distinct_id, time_ms, insert_id, {"currents": currents, "mixpanel": mixpanel})
    sample["differences"] = differences
    return sample


def duplicate_sample(event: str, distinct_id: str, time_ms: int, insert_id: str | None, copies: int,
                     explained: int, sources: list[dict[str, Any]]) -> dict[str, Any]:
    sample = key_sample(event, distinct_id, time_ms, insert_id, {"side": "mixpanel", "copies": sources})
    sample["copies"] = copies
    sample["currents_copies"] = explained
    return sample
