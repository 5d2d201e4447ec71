"""Nothing but the catalog names an event type (DESIGN.md §2; issue 8 "Done when").

A quoted string that starts like a Currents type id ("users.…", "agentconsole.…") outside
`harness/catalog/` means a module hard-codes an event type: it should ask the catalog instead
(`Catalog.type_for(channel, role)`). The check is a grep over the source text, so docstrings and help
texts count too.

Scope: issue 8 asks this of all of `harness/` and `fakes/`; parts restructured by other work join
`ASSERTED_SCOPE` when they are clean, until it equals `SEARCHED`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.catalog import load_catalog

ROOT = Path(__file__).resolve().parents[2]
SEARCHED = ("harness", "fakes")
EXEMPT = ("harness/catalog",)  # the one declared place
# Widen to SEARCHED once the mapping and the fakes are clean too.
ASSERTED_SCOPE = ("harness/generate", "harness/strategies.py", "harness/cli/commands/generate.py")

# The first segment of every type id the catalog knows ("users", "agentconsole").
_NAMESPACES = sorted({t.type_id.split(".", 1)[0] for t in load_catalog().all_types()})
TYPE_NAME_LITERAL = re.compile("[\"'](?:" + "|".join(map(re.escape, _NAMESPACES)) + r")\.")


def _sources(scope: tuple[str, ...]) -> list[Path]:
    files: list[Path] = []
    for entry in scope:
        path = ROOT / entry
        files.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return [f for f in files if not any(f.is_relative_to(ROOT / exempt) for exempt in EXEMPT)]


def _literals(path: Path) -> list[str]:
    return [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if TYPE_NAME_LITERAL.search(line)]


def test_asserted_scope_lies_within_the_searched_tree():
    assert all(entry.split("/", 1)[0] in SEARCHED for entry in ASSERTED_SCOPE)
    assert _sources(ASSERTED_SCOPE)


@pytest.mark.parametrize("path", _sources(ASSERTED_SCOPE), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_event_type_name_literals_outside_the_catalog(path):
    assert _literals(path) == []


def test_the_grep_finds_a_type_name_literal():
    """The pattern itself: it would catch what the lifecycle tables used to hold."""
    assert TYPE_NAME_LITERAL.search('emit("users.messages.email.Open", t, ctx)')
    assert TYPE_NAME_LITERAL.search("'agentconsole.ToolInvocation'")
    assert not TYPE_NAME_LITERAL.search("catalog.type_for(CHANNEL_EMAIL, 'open')")
