"""DESIGN.md §7 layering: `fakes/` imports nothing from `harness/`, and the shared core (with the registry
and the fleet) has no import cycle, not even one dodged by an import inside a function (issue 8)."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FAKES = REPO / "fakes"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, submodules: frozenset[str] = frozenset()) -> set[str]:
    """Every module `path` imports, at module level or inside a function: `from a import b` is `a.b` when
    that is one of `submodules`, else `a`."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                names.add(full if full in submodules else node.module)
    return names


def test_fakes_import_nothing_from_harness():
    offenders = {
        module_name(path): sorted(n for n in imported_modules(path) if n == "harness" or n.startswith("harness."))
        for path in FAKES.rglob("*.py")
    }
    assert {name: found for name, found in offenders.items() if found} == {}


def test_the_core_the_registry_and_the_fleet_have_no_import_cycle():
    files = [*sorted((FAKES / "core").glob("*.py")), FAKES / "registry.py", FAKES / "fleet.py"]
    modules = {module_name(path): path for path in files}
    known = frozenset(modules)
    graph = {name: sorted(imported_modules(path, known) & known - {name}) for name, path in modules.items()}

    def cycle_from(start: str, path: list[str]) -> list[str] | None:
        for nxt in graph[start]:
            if nxt in path:
                return [*path[path.index(nxt):], nxt]
            found = cycle_from(nxt, [*path, nxt])
            if found:
                return found
        return None

    # the package's __init__ re-exports its modules; a module importing the package itself would close a loop
    cycles = [c for name in graph if (c := cycle_from(name, [name]))]
    assert cycles == []
