"""The scenario runner tests import their helpers (`scenario_kit`, `connectors`) from this folder."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # pytest runs in importlib mode
