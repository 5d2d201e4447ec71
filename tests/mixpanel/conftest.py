"""Fixtures for the fake Mixpanel tests: a state on a frozen clock, its Flask app and test client."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # `mpkit` helpers (pytest runs in importlib mode)

from mpkit import NOW, Api

from fakes.core import SimulatedClock
from fakes.mixpanel import create_app, new_state


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(NOW)


@pytest.fixture
def state(clock):
    return new_state(clock=clock)


@pytest.fixture
def app(state):
    return create_app(state)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def api(client) -> Api:
    return Api(client)
