"""The house rules of DESIGN.md §2 and §7 that code review alone does not keep (issue 8).

- no import cycles among the modules of harness/ and fakes/ (late imports inside functions and imports
  under ``TYPE_CHECKING`` count: they are how a cycle hides);
- fakes/ never imports harness/ (the fakes are usable without the harness library);
- no module above the size at which it stops holding one concept;
- nothing but the catalog names an event type.
"""

from __future__ import annotations

import ast
import fnmatch
import sys
from pathlib import Path

import pytest

from harness.catalog import load_catalog

sys.path.insert(0, str(Path(__file__).parent))
from imports import REPO, cycles, module_files, project_imports

MAX_MODULE_LINES = 500
TYPE_IDS = tuple(t.type_id for t in load_catalog().all_types())
NAMESPACES = tuple(sorted({type_id.split(".", 1)[0] + "." for type_id in TYPE_IDS}))  # "users.", "agentconsole."


def _project_edges() -> dict[str, set[str]]:
    known = set(module_files())
    edges: dict[str, set[str]] = {name: set() for name in known}
    for imp in project_imports():
        # Imports for type checking only count too: a module that names its caller's types depends on it.
        if imp.imported in known and imp.imported != imp.importer:
            edges[imp.importer].add(imp.imported)
    return edges


def test_the_import_graph_of_harness_and_fakes_has_no_cycles():
    found = cycles(_project_edges())
    assert found == [], "import cycles:\n" + "\n".join(" <-> ".join(c) for c in found)


def test_the_cycle_finder_finds_a_cycle():
    """The check above can fail: a two-module and a three-module circle are both found."""
    assert cycles({"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"e"}, "e": {"c"}, "f": set()}) == [
        ["a", "b"], ["c", "d", "e"]]


def test_fakes_import_nothing_from_harness():
    offenders = [f"{i.importer}:{i.line} imports {i.imported}" for i in project_imports()
                 if i.importer.startswith("fakes") and (i.imported == "harness" or i.imported.startswith("harness."))]
    assert offenders == []


@pytest.mark.parametrize("name,path", sorted(module_files().items()))
def test_no_module_is_larger_than_one_concept(name: str, path: Path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{name} has {lines} lines: split it by concept"


def names_event_types(text: str) -> bool:
    """A string that spells a catalog type id, a prefix of some (`users.messages.email.`) or a pattern that
    matches some (`users.messages.email.*`). Setting names such as `users.identify_conflict` do not."""
    if not text.startswith(NAMESPACES):
        return False
    stem = text.split("*", 1)[0]
    return any(type_id.startswith(stem) or fnmatch.fnmatchcase(type_id, text) for type_id in TYPE_IDS)


def _event_type_literals(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [f"{path.relative_to(REPO)}:{node.lineno}: {node.value!r}" for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and names_event_types(node.value)]


def test_no_event_type_name_outside_the_catalog():
    """DESIGN.md §2: the catalog is the one source of event names; code asks it (`Catalog.type_for(channel,
    role)`), never spells a type. Docstrings and help texts count too."""
    found = [hit for name, path in module_files().items() if not name.startswith("harness.catalog")
             for hit in _event_type_literals(path)]
    assert found == [], "event type names outside harness/catalog/:\n" + "\n".join(found)


def test_the_event_type_check_catches_names_prefixes_and_patterns_only():
    assert names_event_types("users.messages.email.Open")
    assert names_event_types("users.messages.email.")
    assert names_event_types("users.messages.*.Send")
    assert names_event_types("agentconsole.ToolInvocation")
    assert not names_event_types("users.identify_conflict")
    assert not names_event_types("email open")
