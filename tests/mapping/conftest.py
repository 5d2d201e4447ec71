"""Mapping test fixtures: the spec tables (shared with tests/catalog) and the samples in every shape."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

_path = Path(__file__).resolve().parents[1] / "catalog" / "conftest.py"
_spec = importlib.util.spec_from_file_location("_catalog_spec_fixtures_for_mapping", _path)
_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fixtures)
spec_dir = _fixtures.spec_dir
spec_catalogue = _fixtures.spec_catalogue
spec_legacy_table = _fixtures.spec_legacy_table
spec_csv_rows = _fixtures.spec_csv_rows


@pytest.fixture(scope="session")
def custom_http_paths(samples_dir) -> dict[str, Path]:
    """Custom HTTP sample path per type id (read from each file's `event_type`)."""
    out = {}
    for path in sorted((samples_dir / "custom-http").rglob("*.json")):
        out[json.loads(path.read_text(encoding="utf-8"))["event_type"]] = path
    return out


@pytest.fixture(scope="session")
def sample_paths(samples_dir, custom_http_paths) -> dict[str, dict[str, Path]]:
    """type id -> {"avro": path, "storage-json": path, "custom-http": path} for the shapes that exist."""
    out: dict[str, dict[str, Path]] = {}
    for path in (samples_dir / "avro").glob("*.avro"):
        out.setdefault(path.stem, {})["avro"] = path
    for path in (samples_dir / "storage-json").glob("*.json"):
        out.setdefault(path.stem, {})["storage-json"] = path
    for type_id, path in custom_http_paths.items():
        out.setdefault(type_id, {})["custom-http"] = path
    return out


@pytest.fixture(scope="session")
def csv_sources(spec_csv_rows) -> dict[str, dict[str, str]]:
    """type id -> {Mixpanel key: source field} from currents-catalog.csv (plain keys only)."""
    out: dict[str, dict[str, str]] = {}
    for row in spec_csv_rows:
        key = row["mixpanel_property"]
        if key and not key.startswith("["):
            out.setdefault(row["currents_type"], {})[key] = row["source_field"]
    return out


@pytest.fixture(scope="session")
def shape_paths(shapes_dir) -> dict[str, dict[str, Path]]:
    """Like `sample_paths` over `shapes_dir`: Braze's samples where present, else catalog-built records, for
    tests that need only the shapes of the event types."""
    return _paths_by_type(shapes_dir)


def _paths_by_type(root: Path) -> dict[str, dict[str, Path]]:
    out: dict[str, dict[str, Path]] = {}
    for path in (root / "avro").glob("*.avro"):
        out.setdefault(path.stem, {})["avro"] = path
    for path in (root / "storage-json").glob("*.json"):
        out.setdefault(path.stem, {})["storage-json"] = path
    for path in sorted((root / "custom-http").rglob("*.json")):
        out.setdefault(json.loads(path.read_text(encoding="utf-8"))["event_type"], {})["custom-http"] = path
    return out
