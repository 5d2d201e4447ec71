"""The README's code must stay true: its pytest example runs here against the real fixture."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_pytest_example_passes(mixpanel_fake):
    blocks = [b for b in _python_blocks() if "def test_my_exporter(mixpanel_fake)" in b]
    assert len(blocks) == 1, "the README's pytest example is gone or duplicated"
    namespace: dict = {}
    exec(compile(blocks[0], str(README), "exec"), namespace)
    namespace["test_my_exporter"](mixpanel_fake)


def test_readme_connector_example_runs():
    blocks = [b for b in _python_blocks() if "MixpanelCurrent(fleet.scheduler)" in b]
    assert len(blocks) == 1, "the README's connector example is gone or duplicated"
    exec(compile(blocks[0], str(README), "exec"), {})


def test_readme_commands_name_existing_subcommands():
    from harness.cli import build_parser

    subcommands = set(build_parser()._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    used = set(re.findall(r"\bharness (generate|map|serve|list|reconcile|run)\b", README.read_text(encoding="utf-8")))
    assert used - {"run"} <= subcommands
