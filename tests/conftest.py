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

# Braze's sample files cannot live in the repository (their licence forbids redistribution), so a clone has
# none: the tests that need Braze's own bytes skip, and the run ends with one line counting them. Under
# HARNESS_REQUIRE_SAMPLES=1 (set by .ci/run, where ../shared sits beside the clone) such a skip fails instead.
REQUIRE_SAMPLES = "HARNESS_REQUIRE_SAMPLES"
CURRENTS_EXAMPLES = "HARNESS_CURRENTS_EXAMPLES"
MISSING_SAMPLES = "Braze sample data not found"
MISSING_SPEC = "spec not found"
WHERE_TO_GET_SAMPLES = (
    "set HARNESS_SHARED_DIR to a folder holding reference/currents-samples/, or HARNESS_CURRENTS_EXAMPLES to a "
    "checkout of Braze's public currents-examples repository (github.com/Appboy/currents-examples)")
# The public repository's folder for each of our sample shapes (the shared copy renames them, nothing else).
_CHECKOUT_FOLDERS = {"avro": "Avro", "storage-json": "JSON", "custom-http": "Custom HTTP"}


def shared_dir() -> Path:
    """`../shared` beside the checkout (as in CI), or HARNESS_SHARED_DIR."""
    return Path(os.environ.get("HARNESS_SHARED_DIR") or REPO_ROOT.parent / "shared")


def _checkout_view(checkout: Path, into: Path) -> Path | None:
    """Our layout (avro/, storage-json/, custom-http/) over a currents-examples checkout, by symbolic links:
    Braze's files are read in place, never copied."""
    data = checkout / "sample-data"
    if not all((data / folder).is_dir() for folder in _CHECKOUT_FOLDERS.values()):
        return None
    into.mkdir(parents=True, exist_ok=True)
    for ours, theirs in _CHECKOUT_FOLDERS.items():
        link = into / ours
        if not link.exists():
            link.symlink_to(data / theirs, target_is_directory=True)
    return into


@pytest.fixture(scope="session")
def samples_dir(tmp_path_factory) -> Path:
    """Braze's public sample Currents data: avro/, storage-json/, custom-http/ (read in place, never copied)."""
    path = shared_dir() / "reference" / "currents-samples"
    if path.is_dir():
        return path
    checkout = os.environ.get(CURRENTS_EXAMPLES)
    if checkout:
        view = _checkout_view(Path(checkout), tmp_path_factory.mktemp("currents-samples"))
        if view is not None:
            return view
        pytest.skip(f"{MISSING_SAMPLES} in {CURRENTS_EXAMPLES}={checkout} (no sample-data/Avro, JSON, Custom HTTP)")
    pytest.skip(f"{MISSING_SAMPLES} at {path} ({WHERE_TO_GET_SAMPLES})")


@pytest.fixture(scope="session")
def shapes_dir(request, tmp_path_factory) -> Path:
    """The samples' layout (avro/, storage-json/, custom-http/) for tests that need only the shapes of the event
    types, not Braze's own bytes: Braze's samples where present, else one record per catalog type built by the
    generator and written in the three shapes (Avro with the catalog's schema), so such tests run everywhere."""
    try:
        return request.getfixturevalue("samples_dir")
    except pytest.skip.Exception:
        pass
    import json

    from harness.catalog import SHAPE_CUSTOM_HTTP, load_catalog
    from harness.generate import RecordFactory, StreamConfig, build_world, generate_records
    from harness.generate.writers import write_avro_dir, write_storage_json_dir

    root = tmp_path_factory.mktemp("catalog-built-shapes")
    world, factory = build_world(1), RecordFactory()
    for event_type in load_catalog():
        type_id = event_type.type_id
        records = list(generate_records(world, StreamConfig(events=1, types=(type_id,))))
        if factory.plan(type_id).has_storage_schema:
            write_avro_dir(records, root / "avro", factory, seed=1)
            write_storage_json_dir(records, root / "storage-json", factory)
        if SHAPE_CUSTOM_HTTP in event_type.shapes:
            path = root / "custom-http" / f"{type_id}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(factory.to_custom_http(type_id, records[0][1]), indent=2), encoding="utf-8")
    return root


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr or "")


def _wants_shared_data(reason: str) -> bool:
    reason = reason.removeprefix("Skipped: ")
    return reason.startswith(MISSING_SAMPLES) or reason.startswith(MISSING_SPEC)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under HARNESS_REQUIRE_SAMPLES a skip for want of the shared data (samples or spec) is a failure."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get(REQUIRE_SAMPLES) and _wants_shared_data(_skip_reason(report)):
        report.outcome = "failed"
        report.longrepr = f"{_skip_reason(report)}; {REQUIRE_SAMPLES} is set, so missing shared data fails the run"


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """One closing line: how many tests skipped for want of Braze's samples (or the spec) and where to get them."""
    reasons = [_skip_reason(r) for r in terminalreporter.stats.get("skipped", [])]
    samples = sum(1 for r in reasons if r.removeprefix("Skipped: ").startswith(MISSING_SAMPLES))
    spec = sum(1 for r in reasons if r.removeprefix("Skipped: ").startswith(MISSING_SPEC))
    if samples or spec:
        parts = [f"{samples} tests skipped for want of Braze's sample files"] if samples else []
        if spec:
            parts.append(f"{spec} for want of the spec (shared/spec)")
        terminalreporter.write_line(f"{', '.join(parts)}: {WHERE_TO_GET_SAMPLES}; "
                                    f"{REQUIRE_SAMPLES}=1 makes this a failure", yellow=True, bold=True)
