"""`DeliveryReport`: where every input event of a Current ended up, each in exactly one bucket.

DESIGN.md §7.1 and issue 9: delivered, rejected by the destination (with its message), not exported by a
mapping or selection rule (with the reason), discarded after the credential window, still pending. The
report is the "nothing lost" ledger: `accounted()` holds at every moment, and a move between buckets that
would break it raises instead of miscounting.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

PENDING = "pending"
DELIVERED = "delivered"
REJECTED = "rejected"
NOT_EXPORTED = "not_exported"
DISCARDED = "discarded"
BUCKETS = (DELIVERED, REJECTED, NOT_EXPORTED, DISCARDED, PENDING)
FINAL = frozenset({DELIVERED, REJECTED, NOT_EXPORTED, DISCARDED})


@dataclass(frozen=True)
class EventNote:
    """One input event in a bucket other than delivered: its position, Currents id, name and why."""

    seq: int
    event_id: str | None
    name: str | None
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "id": self.event_id, "event": self.name, "reason": self.reason}


class DeliveryReport:
    """The ledger of one Current. Input events are numbered by `seq` in the order they were submitted."""

    def __init__(self) -> None:
        self._bucket: list[str] = []
        self._counts: Counter[str] = Counter()
        self._notes: dict[int, EventNote] = {}
        self.delivered_by_event: Counter[str] = Counter()
        self.requests = 0
        self.retries = 0

    # -- moves (called by the Current) ---------------------------------------------------------------
    def admit(self) -> int:
        """A new input event, pending; returns its seq."""
        self._bucket.append(PENDING)
        self._counts[PENDING] += 1
        return len(self._bucket) - 1

    def settle(self, seq: int, bucket: str, *, event_id: str | None = None, name: str | None = None,
               reason: str | None = None) -> None:
        """Move a pending event to a final bucket (rejected, not exported and discarded need a reason)."""
        if bucket not in FINAL:
            raise ValueError(f"unknown bucket {bucket!r}")
        current = self._bucket[seq]
        if current != PENDING:
            raise RuntimeError(f"event #{seq} is already {current}; it cannot become {bucket} as well")
        self._bucket[seq] = bucket
        self._counts[PENDING] -= 1
        self._counts[bucket] += 1
        if bucket == DELIVERED:
            if name is not None:
                self.delivered_by_event[name] += 1
            return
        if not reason:
            raise ValueError(f"a {bucket} event needs a reason")
        self._notes[seq] = EventNote(seq, event_id, name, reason)

    # -- reading -------------------------------------------------------------------------------------
    @property
    def submitted(self) -> int:
        return len(self._bucket)

    def count(self, bucket: str) -> int:
        if bucket not in BUCKETS:
            raise ValueError(f"unknown bucket {bucket!r}; buckets: {', '.join(BUCKETS)}")
        return self._counts[bucket]

    @property
    def delivered(self) -> int:
        return self._counts[DELIVERED]

    @property
    def rejected(self) -> int:
        return self._counts[REJECTED]

    @property
    def not_exported(self) -> int:
        return self._counts[NOT_EXPORTED]

    @property
    def discarded(self) -> int:
        return self._counts[DISCARDED]

    @property
    def pending(self) -> int:
        return self._counts[PENDING]

    def bucket_of(self, seq: int) -> str:
        return self._bucket[seq]

    def notes(self, bucket: str) -> list[EventNote]:
        """The events of a bucket other than delivered, in submission order."""
        return [note for seq, note in sorted(self._notes.items()) if self._bucket[seq] == bucket]

    def reasons(self, bucket: str) -> Counter[str]:
        return Counter(note.reason for note in self.notes(bucket))

    def accounted(self) -> bool:
        """Every input event is in exactly one bucket and the counts add up to the input."""
        return sum(self._counts[b] for b in BUCKETS) == len(self._bucket) and all(
            self._counts[b] == sum(1 for x in self._bucket if x == b) for b in BUCKETS)

    def to_json(self, *, sample: int = 100) -> dict[str, Any]:
        """DESIGN.md §7.1: the five counts and `details` (reasons counted, the first `sample` notes each)."""
        details: dict[str, Any] = {"submitted": self.submitted, "requests": self.requests, "retries": self.retries,
                                   "delivered_by_event": dict(sorted(self.delivered_by_event.items()))}
        for bucket in (REJECTED, NOT_EXPORTED, DISCARDED):
            notes = self.notes(bucket)
            details[bucket] = {"reasons": dict(sorted(Counter(n.reason for n in notes).items())),
                               "events": [n.to_json() for n in notes[:sample]]}
        return {DELIVERED: self.delivered, REJECTED: self.rejected, NOT_EXPORTED: self.not_exported,
                DISCARDED: self.discarded, PENDING: self.pending, "details": details}
