"""DESIGN.md §7: ``harness/cohorts/`` imports no I/O at all. The rule is written in its README and kept here.

Every module of the package is parsed (not imported) and each import must be the package itself or a pure
standard-library module; calls that reach the outside world (``open``, ``exec``, ``__import__``...) fail too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "harness" / "cohorts"

PURE_STANDARD_LIBRARY = frozenset({
    "__future__", "abc", "bisect", "collections", "dataclasses", "enum", "fnmatch", "functools", "heapq",
    "itertools", "json", "math", "numbers", "operator", "re", "typing",
})
FORBIDDEN_CALLS = frozenset({"open", "exec", "eval", "compile", "__import__", "input", "breakpoint"})


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def imported_modules(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.append((node.lineno, "." * node.level + (node.module or "")))
    return found


def allowed(module: str) -> bool:
    if module.startswith("."):
        return True  # relative: inside the package
    return module == "harness.cohorts" or module.startswith("harness.cohorts.") or \
        module.split(".")[0] in PURE_STANDARD_LIBRARY


def test_the_package_has_modules_to_check():
    assert len(modules()) >= 5


@pytest.mark.parametrize("path", modules(), ids=lambda p: p.name)
def test_imports_only_pure_standard_library_and_itself(path):
    bad = [f"{path.name}:{line}: import {module}" for line, module in imported_modules(path) if not allowed(module)]
    assert not bad, "harness/cohorts is pure (README.md): " + "; ".join(bad)


@pytest.mark.parametrize("path", modules(), ids=lambda p: p.name)
def test_calls_nothing_that_does_io(path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    bad = [f"{path.name}:{node.lineno}: {node.func.id}()" for node in ast.walk(tree)
           if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FORBIDDEN_CALLS]
    assert not bad, "; ".join(bad)


def test_readme_states_the_rule_and_the_window_default():
    text = (PACKAGE / "README.md").read_text(encoding="utf-8")
    assert "no I/O" in text
    assert "(t − D·86400, t]" in text


def test_the_walker_catches_an_io_import(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import json\nfrom fakes.mixpanel import state\nimport requests\nfrom time import time\n")
    assert [m for _, m in imported_modules(sample) if not allowed(m)] == ["fakes.mixpanel", "requests", "time"]
