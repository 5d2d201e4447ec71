"""Fixtures of the sync engine tests: fake Braze in an in-process fleet, the clock at T0, a world factory."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # `sync_kit` helpers (pytest runs in importlib mode)

from sync_kit import IN_PROCESS_URL, T0, SyncWorld

from fakes.fleet import FakeFleet
from harness.connectors.cohort_sync import CohortSyncConfig


@pytest.fixture
def fleet() -> Iterator[FakeFleet]:
    with FakeFleet(["braze"]) as running:
        running.clock.set(T0)
        yield running
        assert running.scheduler.failures == [], running.scheduler.failures[0].traceback


@pytest.fixture
def make_world(fleet) -> Callable[..., SyncWorld]:
    """`make_world(dynamic_interval_s=900, ...)`: a world whose engine has those `mixpanel.*` settings."""
    def make(**config: Any) -> SyncWorld:
        return SyncWorld(fleet, IN_PROCESS_URL, CohortSyncConfig(**config))
    return make


@pytest.fixture
def world(make_world) -> SyncWorld:
    return make_world()
