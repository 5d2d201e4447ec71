"""Fixtures of the connector tests: an in-process fleet whose clock stands just after the generated events."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # `currents_kit` helpers (pytest runs in importlib mode)

from currents_kit import ANCHOR

from fakes.fleet import FakeFleet


@pytest.fixture
def fleet() -> Iterator[FakeFleet]:
    with FakeFleet() as running:
        running.clock.set(ANCHOR + 60)  # events are never in Mixpanel's future (V6)
        yield running
