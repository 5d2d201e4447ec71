"""Fixtures for the reconcile tests: both sides built once per module from the generator."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # `export_builder` helpers (pytest runs in importlib mode)
