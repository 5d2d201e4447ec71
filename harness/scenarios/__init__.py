"""Scenarios: the bundled library today; the model, loader and runner of DESIGN.md §7 grow here."""

from harness.scenarios.library import bundled_scenarios_dir

__all__ = ["bundled_scenarios_dir"]
