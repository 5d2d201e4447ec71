"""Fixtures for the core tests: the stand-in fake (tests/core/stand_in_fake) as state, app, server."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import stand_in_fake  # noqa: E402

from fakes.core import FakeServer  # noqa: E402


@pytest.fixture
def state():
    return stand_in_fake.new_state()


@pytest.fixture
def app(state):
    return stand_in_fake.create_app(state)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def server(app):
    with FakeServer(app, port=0, name="standin") as srv:
        yield srv
