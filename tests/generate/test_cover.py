"""`harness generate --cover [K]` (issue 10 item 7): every selected type at least K times within -n events, with
the lifecycle and dispatch_id rules intact; without it the stream is unchanged (the seeded pins)."""

from __future__ import annotations

import hashlib
import json
from collections import Counter

import pytest

from harness.catalog import load_catalog
from harness.cli import main
from harness.generate import StreamConfig, build_world
from harness.generate.config import StreamReport
from harness.generate.invariants import dispatch_violations, flatten, lifecycle_violations
from harness.generate.streams import generate_events


def _types_in(path) -> Counter[str]:
    return Counter(json.loads(line)["event_type"] for line in path.read_text().splitlines() if line.strip())


def test_cover_puts_every_catalog_type_in_3000_events_where_the_plain_stream_misses_some(tmp_path):
    plain, covered = tmp_path / "plain.ndjson", tmp_path / "covered.ndjson"
    assert main(["generate", "--all", "-n", "3000", "--seed", "7", "-q", "-o", str(plain)]) == 0
    assert main(["generate", "--all", "-n", "3000", "--seed", "7", "-q", "--cover", "-o", str(covered)]) == 0
    every = set(load_catalog().type_ids)
    assert every - set(_types_in(plain))  # what the issue measured: the plain mix misses types
    assert set(_types_in(covered)) == every
    assert sum(_types_in(covered).values()) == 3000


@pytest.mark.parametrize("seed", [1, 7, 23])
def test_a_covered_stream_keeps_the_lifecycle_and_dispatch_id_rules(seed):
    world = build_world(seed)
    report = StreamReport()
    events = list(generate_events(world, StreamConfig(events=5000, cover=2), report=report))
    flat = flatten(events)
    assert dispatch_violations(flat, world) == []
    assert lifecycle_violations(flat, world) == []
    assert report.uncovered == {}
    assert min(Counter(e["event_type"] for e in events).values()) >= 2


def test_cover_is_seeded_like_everything_else(tmp_path):
    digests = set()
    for name in ("a", "b"):
        out = tmp_path / f"{name}.ndjson"
        assert main(["generate", "--all", "-n", "2000", "--seed", "3", "-q", "--cover", "-o", str(out)]) == 0
        digests.add(hashlib.sha256(out.read_bytes()).hexdigest())
    assert len(digests) == 1


def test_cover_with_a_type_pattern_covers_the_selected_types(tmp_path):
    email = sorted(t for t in load_catalog().type_ids if t.startswith("users.messages.email."))
    out = tmp_path / "email.ndjson"
    assert main(["generate", "--type", "users.messages.email.*", "-n", "400", "--seed", "4", "-q", "--cover", "3",
                 "-o", str(out)]) == 0
    counts = _types_in(out)
    assert sorted(counts) == email and min(counts.values()) >= 3


def test_cover_that_cannot_fit_exits_1_naming_the_types(tmp_path, capsys):
    code = main(["generate", "--all", "-n", "50", "--seed", "7", "-q", "--cover", "-o", str(tmp_path / "x.ndjson")])
    assert code == 1
    assert "types fell short within 50 events" in capsys.readouterr().err


def test_cover_refuses_a_bad_count(capsys):
    assert main(["generate", "-n", "5", "--cover", "some"]) == 2
    assert "--cover expects an integer, got 'some'" in capsys.readouterr().err
