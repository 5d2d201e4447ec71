"""Sets of simulated times as sorted, disjoint half-open intervals ``[start, end)``.

Membership over time is computed with these: every cohort rule holds on a union of ``[start, end)`` intervals
(an event counts from when it is visible until its window has passed it; a property value holds from its change
until the next one), and ``and`` / ``or`` / ``not`` are intersection, union and complement. Starts are the
times a distinct_id enters, ends the times it leaves. ``-inf`` and ``inf`` stand for "always".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from math import inf

Intervals = tuple[tuple[float, float], ...]
"""Sorted, disjoint, non-adjacent, non-empty ``[start, end)`` pairs."""

NEVER: Intervals = ()
ALWAYS: Intervals = ((-inf, inf),)


def since(start: float) -> Intervals:
    """``[start, inf)``."""
    return ((start, inf),)


def contains(intervals: Intervals, t: float) -> bool:
    return any(start <= t < end for start, end in intervals)


def complement(intervals: Intervals) -> Intervals:
    out: list[tuple[float, float]] = []
    previous = -inf
    for start, end in intervals:
        if start > previous:
            out.append((previous, start))
        previous = end
    if previous < inf:
        out.append((previous, inf))
    return tuple(out)


def intersect(a: Intervals, b: Intervals) -> Intervals:
    out: list[tuple[float, float]] = []
    i = j = 0
    while i < len(a) and j < len(b):
        start = max(a[i][0], b[j][0])
        end = min(a[i][1], b[j][1])
        if start < end:
            out.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return tuple(out)


def union(a: Intervals, b: Intervals) -> Intervals:
    return complement(intersect(complement(a), complement(b)))


def where_count(spans: Iterable[tuple[float, float]], holds: Callable[[int], bool]) -> Intervals:
    """The times at which the number of ``spans`` covering the time satisfies ``holds``.

    Each span ``[start, end)`` adds one to the count while it covers the time; between two consecutive
    boundaries the count is constant, so the answer is exact (no sampling).
    """
    deltas: dict[float, int] = {}
    for start, end in spans:
        if start < end:
            deltas[start] = deltas.get(start, 0) + 1
            deltas[end] = deltas.get(end, 0) - 1
    pieces: list[tuple[float, float, bool]] = []
    count, previous = 0, -inf
    for boundary in sorted(deltas):
        pieces.append((previous, boundary, holds(count)))
        count += deltas[boundary]
        previous = boundary
    pieces.append((previous, inf, holds(count)))
    return from_pieces(pieces)


def from_pieces(pieces: Iterable[tuple[float, float, bool]]) -> Intervals:
    """Merge consecutive ``(start, end, holds)`` pieces of the time axis into the intervals where it holds."""
    out: list[tuple[float, float]] = []
    for start, end, holds in pieces:
        if not holds or start >= end:
            continue
        if out and out[-1][1] == start:
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return tuple(out)
