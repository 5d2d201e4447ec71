"""Shared bits of the scenario runner tests: the small scenario files in `data/`, and the connectors under test."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # `connectors` (pytest runs in importlib mode)

DATA = Path(__file__).parent / "data"
