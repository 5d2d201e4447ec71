"""Fixtures of the pipeline tests: a fleet of both fakes, in-process or over loopback HTTP."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # `pipeline_kit` helpers (pytest runs in importlib mode)

from fakes.fleet import FakeFleet


@pytest.fixture(params=["in-process", "loopback"])
def fleet(request: pytest.FixtureRequest) -> Iterator[FakeFleet]:
    """Both fakes on one clock, in each of the two ways to run them (DESIGN.md §4)."""
    with FakeFleet(mode=request.param) as running:
        yield running
        assert running.scheduler.failures == [], running.scheduler.failures[0].traceback


@pytest.fixture
def in_process_fleet() -> Iterator[FakeFleet]:
    with FakeFleet() as running:
        yield running
        assert running.scheduler.failures == [], running.scheduler.failures[0].traceback
