"""Request journal: newest last, limit, capped size (DESIGN.md §4 GET /_harness/requests)."""

import pytest

from fakes.core.journal import RequestJournal


def test_newest_last_limit_and_cap():
    journal = RequestJournal(capacity=3)
    for i in range(5):
        journal.append({"n": i})
    assert [e["n"] for e in journal.entries()] == [2, 3, 4]
    assert [e["n"] for e in journal.entries(2)] == [3, 4]
    assert journal.entries(0) == []
    assert journal.total_recorded == 5
    assert [e["id"] for e in journal.entries()] == [3, 4, 5]


def test_resize_keeps_newest_and_clear_restarts_ids():
    journal = RequestJournal(capacity=5)
    for i in range(5):
        journal.append({"n": i})
    journal.resize(2)
    assert [e["n"] for e in journal.entries()] == [3, 4]
    journal.clear()
    assert len(journal) == 0
    assert journal.append({})["id"] == 1


def test_find_and_bad_capacity():
    journal = RequestJournal()
    journal.append({"path": "/a", "status": 200})
    journal.append({"path": "/b", "status": 200})
    assert [e["path"] for e in journal.find(status=200, path="/b")] == ["/b"]
    with pytest.raises(ValueError):
        RequestJournal(capacity=0)
