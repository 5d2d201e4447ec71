"""The event store keeps rows encoded and its dedup view exact (mixpanel-ingestion.md §10; issue 13 item 7)."""

from __future__ import annotations

import sys

from fakes.mixpanel import storage
from fakes.mixpanel.storage import EventStore, RequestMeta, Row

META = RequestMeta("r1", "import", "us", 1_000, "json", "ua")


def _row(distinct: str, insert: str, value: int) -> Row:
    props = {"distinct_id": distinct, "$insert_id": insert, "time": 1, "v": value}
    row = Row(1, "e", distinct, 1000, insert, False, props, props)
    return row


def test_dedup_is_exact_even_when_every_key_hash_collides(monkeypatch):
    """§10: last ingested copy wins per key, first-seen order; distinct keys never merge, whatever the hash."""
    monkeypatch.setattr(storage, "_key_hash", lambda key: 42)
    store = EventStore()
    store.ingest([_row("a", "i1", 1), _row("b", "i2", 2), _row("a", "i1", 3), _row("c", "i3", 4)], META)
    store.ingest([_row("b", "i2", 5)], META)
    dedup = [(r.distinct_id, r.properties["v"]) for r in store.rows("dedup")]
    assert sorted(dedup) == [("a", 3), ("b", 5), ("c", 4)]
    assert store.counts() == {"raw": 5, "dedup": 3, "quarantine": 0}


def test_rows_are_stored_compactly_and_read_back_whole():
    """Issue 13 item 7: a stored row is its JSON bytes (no 4 KB buffer kept), decoded on read as it was."""
    store = EventStore()
    row = _row("u", "i", 7)
    store.ingest([row], META)
    blob = store.raw_as_it_stands()[0][0]
    assert isinstance(blob, bytes) and sys.getsizeof(blob) < 2 * len(blob) + 64
    back = store.rows("raw")[0]
    assert (back.event, back.distinct_id, back.insert_id, back.time_ms, back.properties, back.meta) == \
        ("e", "u", "i", 1000, row.properties, META)
