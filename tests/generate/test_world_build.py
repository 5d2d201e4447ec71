"""Building a world (issue 5 §2; issue 12 item 11): fast, the same world for a seed, progress on a terminal.

Speed is measured by bench/bench_world.py, not here; these tests pin what the faster build must keep."""

from __future__ import annotations

import hashlib

import pytest

from harness.cli import main
from harness.generate.person_draws import PersonDraws
from harness.generate.providers import make_faker
from harness.generate.world import PROGRESS_EVERY, WorldConfig, build_world


def _world_hash(world) -> str:
    return hashlib.sha256(repr((world.users, world.campaigns, world.canvases, world.apps)).encode()).hexdigest()


# Taken with the Faker-only build (commit 50f7cb1), before PersonDraws: the same seed gives the same world.
PINNED_WORLD = "9b01bcb769a23c73a73040781aed0270edb6082c6e329793c9ee1533651abe1a"


def test_a_seeded_world_is_pinned():
    assert _world_hash(build_world(3, WorldConfig(users=5000))) == PINNED_WORLD


@pytest.mark.parametrize("seed", [0, 1, 7, 12345])
def test_person_draws_are_fakers_own(seed):
    """PersonDraws makes exactly Faker's random calls: the same values, and the generator left in the same
    state (so everything drawn after them is unchanged too)."""
    faker, fast = make_faker(seed), make_faker(seed)
    draws = PersonDraws(fast)
    for _ in range(2000):
        assert faker.first_name() == draws.first_name()
        assert faker.last_name() == draws.last_name()
        assert faker.user_name() == draws.user_name()
        assert faker.email(safe=True) == draws.email()
        assert faker.country_code() == draws.country_code()
    assert faker.random.getstate() == fast.random.getstate()


def test_build_world_reports_progress():
    calls: list[tuple[int, int]] = []
    users = 2 * PROGRESS_EVERY + 5
    world = build_world(1, WorldConfig(users=users), progress=lambda done, total: calls.append((done, total)))
    assert len(world.users) == users
    assert calls == [(PROGRESS_EVERY, users), (2 * PROGRESS_EVERY, users)]


def test_generate_shows_world_progress_only_on_a_terminal(monkeypatch, capsysbinary):
    """DESIGN.md §5: progress on a terminal, quiet otherwise (CI, pipes)."""
    from harness.cli.commands import generate as command

    monkeypatch.setattr(command, "_PROGRESS_MIN_USERS", 1)
    argv = ["generate", "-n", "5", "--users", str(PROGRESS_EVERY + 1), "-q"]
    assert main(argv) == 0
    assert b"building the world" not in capsysbinary.readouterr().err
    monkeypatch.setattr(command, "progress_enabled", lambda stream: True)
    assert main(argv) == 0
    captured = capsysbinary.readouterr()
    assert f"\rharness generate: building the world: {PROGRESS_EVERY:,}/{PROGRESS_EVERY + 1:,} users".encode() \
        in captured.err
    assert b"building" not in captured.out
