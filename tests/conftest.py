"""Project-wide test setup: hypothesis profiles and the path to the shared reference data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# `ci` is deterministic (derandomized, no example database) so a CI run is repeatable;
# `dev` explores more. CI=true selects `ci`; HYPOTHESIS_PROFILE overrides either.
settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    max_examples=50,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))

REPO_ROOT = Path(__file__).resolve().parent.parent


def shared_dir() -> Path:
    """`../shared` beside the checkout (as in CI), or HARNESS_SHARED_DIR."""
    return Path(os.environ.get("HARNESS_SHARED_DIR") or REPO_ROOT.parent / "shared")


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    """Braze's public sample Currents data: avro/, storage-json/, custom-http/ (read in place, never copied)."""
    path = shared_dir() / "reference" / "currents-samples"
    if not path.is_dir():
        pytest.skip(f"Braze sample data not found at {path} (set HARNESS_SHARED_DIR)")
    return path
