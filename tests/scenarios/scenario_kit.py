"""Shared bits of the scenario runner tests: the small scenario files in `data/`."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).parent / "data"
