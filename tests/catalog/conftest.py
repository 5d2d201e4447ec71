"""Fixtures reading the spec itself (currents-to-mixpanel.md §5, §7.3 and its CSV), so that catalog tests
compare the packaged data with the spec text, not with the code under test."""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

# Field groups of spec §5 ("used only when every member has exactly the type shown").
SOURCE_GROUPS = {
    "ID4": ["id:string", "user_id:string", "external_user_id:string?", "time:int"],
    "CAMP": [f"{n}:string?" for n in ("campaign_id", "campaign_name", "message_variation_id", "message_variation_name")],
    "CV6": [
        f"{n}:string?"
        for n in ("canvas_id", "canvas_name", "canvas_step_id", "canvas_step_name", "canvas_variation_id", "canvas_variation_name")
    ],
    "AD3": ["ad_id:string?", "ad_id_type:string?", "ad_tracking_enabled:boolean?"],
    "DEVS": ["platform:string?", "os_version:string?", "device_model:string?"],
    "ABRT": ["abort_log:string?", "abort_type:string?"],
}
KEY_GROUPS = {
    "CAMP": ["campaign_id", "campaign_name", "message_variation_id", "message_variation_name"],
    "CV6": ["canvas_id", "canvas_name", "canvas_step_id", "canvas_step_name", "canvas_variation_id", "canvas_variation_name"],
    "AD3": ["ad_id", "ad_id_type", "ad_tracking_enabled"],
    "DEV": ["$device", "$os", "platform"],
    "ABRT": ["abort_log", "abort_type"],
}


def _spec_dir() -> Path:
    return Path(os.environ.get("HARNESS_SHARED_DIR") or REPO_ROOT.parent / "shared") / "spec"


@pytest.fixture(scope="session")
def spec_dir() -> Path:
    path = _spec_dir()
    if not (path / "currents-to-mixpanel.md").is_file():
        pytest.skip(f"spec not found at {path} (set HARNESS_SHARED_DIR)")
    return path


def _table_rows(text: str, start: str, stop: str) -> list[list[str]]:
    inside, rows = False, []
    for line in text.splitlines():
        if line.startswith(start):
            inside = True
        elif line.startswith(stop):
            inside = False
        elif inside and re.match(r"\| \d+ \|", line):
            rows.append([c.strip() for c in line.strip().strip("|").split("|")])
    return rows


def _unquote(cell: str) -> str:
    cell = cell.strip()
    cell = re.sub(r"\s*\(as printed\)$", "", cell)
    m = re.fullmatch(r'`"?(.*?)"?`', cell)
    return m.group(1) if m else cell


def _expand(cell: str, groups: dict) -> list[str]:
    if cell.strip() == "—":
        return []
    out = []
    for part in (p.strip() for p in cell.split(",")):
        out.extend(groups.get(part, [part.replace("`", "")]))
    return out


@pytest.fixture(scope="session")
def spec_catalogue(spec_dir) -> dict[str, dict]:
    """Spec §5, one entry per type: current name (None if not exported), legacy name, fields, keys."""
    text = (spec_dir / "currents-to-mixpanel.md").read_text(encoding="utf-8")
    out = {}
    for cells in _table_rows(text, "## 5.", "## 6."):
        type_id = _unquote(cells[1])
        current = None if cells[2].startswith("*") else _unquote(cells[2])
        legacy = {"same": current, "—": None}.get(cells[3], _unquote(cells[3]))
        fields = {}
        for item in _expand(cells[4], SOURCE_GROUPS):
            name, typ = item.split(":", 1)
            fields[name] = typ
        keys = [k for k in _expand(cells[5], KEY_GROUPS)]
        out[type_id] = {"current": current, "legacy": legacy, "fields": fields, "keys": keys, "notes": cells[6]}
    assert len(out) == 97
    return out


@pytest.fixture(scope="session")
def spec_legacy_table(spec_dir) -> dict[str, dict]:
    """Spec §7.3, one entry per type: legacy event, printed heading, keys."""
    text = (spec_dir / "currents-to-mixpanel.md").read_text(encoding="utf-8")
    out = {}
    for cells in _table_rows(text, "### 7.3", "### 7.4"):
        type_id = cells[1].split("`")[1]
        keys = [k.strip().strip("`") for k in cells[4].split(",")]
        out[type_id] = {"event": _unquote(cells[2]), "heading": _unquote(cells[3]), "keys": keys, "current": cells[5]}
    assert len(out) == 41
    return out


@pytest.fixture(scope="session")
def spec_csv_rows(spec_dir) -> list[dict[str, str]]:
    with open(spec_dir / "currents-catalog.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))
