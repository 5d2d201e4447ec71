"""The Mixpanel side: stream every raw-export file, stage each in-window row as it arrived.

Rows dated outside the window are counted as `outside_window`; unreadable lines are counted and listed;
everything else goes to the engine, duplicates included (a raw export is not deduplicated).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from harness.reconcile.mixpanel_export import MixpanelExportReader
from harness.reconcile.properties import compared_properties, time_ms
from harness.reconcile.result import BadLine, Tally
from harness.reconcile.staging import EventSink
from harness.reconcile.window import TimeWindow

PROGRESS_EVERY = 1 << 16


class FoundSide:
    """Counts of the Mixpanel side (of one file, or merged over all of them)."""

    def __init__(self, tally: Tally) -> None:
        self.tally = tally
        self.rows = 0
        self.bad_lines: list[BadLine] = []
        self.bad_line_count = 0

    def merge(self, other: FoundSide) -> None:
        self.tally.merge(other.tally)
        self.rows += other.rows
        self.bad_lines.extend(other.bad_lines)
        self.bad_line_count += other.bad_line_count


def stage_found(files: list[Path], window: TimeWindow, sink: EventSink, side: FoundSide,
                progress: Callable[[], None] | None = None) -> None:
    """Stage every good row of `files` (file index = position in `files`)."""
    for index, path in enumerate(files):
        stage_export_file(index, path, window, sink, side, progress)


def stage_export_file(index: int, path: Path, window: TimeWindow, sink: EventSink, side: FoundSide,
                      progress: Callable[[], None] | None = None) -> None:
    """Hand each in-window row of one export file to `sink`, counting into `side`."""
    tally = side.tally
    contains = window.contains
    add = sink.add
    reader = MixpanelExportReader(path)
    for number, name, properties in reader:
        side.rows += 1
        if progress is not None and not side.rows % PROGRESS_EVERY:
            progress()
        moment = time_ms(properties["time"])
        if moment is None or not contains(moment):
            tally.add("outside_window", name)
            if tally.wants_sample("outside_window"):
                tally.sample("outside_window", {
                    "event": name, "distinct_id": properties.get("distinct_id"), "time": properties["time"],
                    "$insert_id": properties.get("$insert_id"),
                    "source": {"side": "mixpanel", "file": str(path), "line": number}})
            continue
        distinct_id = properties.get("distinct_id")
        insert_id = properties.get("$insert_id")
        add(index, number, name,
            distinct_id if type(distinct_id) is str else "" if distinct_id is None else str(distinct_id),
            moment,
            insert_id if type(insert_id) is str or insert_id is None else str(insert_id),
            compared_properties(properties))
    side.bad_line_count += reader.bad_count
    side.bad_lines.extend(BadLine(str(path), line, why) for line, why in reader.bad_lines)
