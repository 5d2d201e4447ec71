"""`harness list events | scenarios`: what the catalog and the scenario library hold (DESIGN.md §5)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from harness.catalog import PROFILES, load_catalog
from harness.cli.errors import CliError
from harness.scenarios.library import bundled_scenarios_dir
from harness.scenarios.loader import FRAGMENT_DIR


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("list", help="list catalog event types or bundled scenarios",
                                   description="List what the event catalog or the scenario library holds.")
    what = parser.add_subparsers(dest="what", metavar="{events,scenarios}")
    what.required = True
    events = what.add_parser("events", help="Currents event types: group, exported?, Mixpanel event name")
    events.add_argument("--profile", choices=PROFILES, default="current", help="mapping profile (default current)")
    events.add_argument("--exported", action="store_true", help="only the types exported under the profile")
    events.add_argument("--json", action="store_true", help="JSON array instead of a table")
    events.set_defaults(func=list_events)
    scenarios = what.add_parser("scenarios", help="scenario files (*.yaml) with their description")
    scenarios.add_argument("--dir", type=Path, default=None,
                           help="scenario folder (default: the bundled scenarios/ shipped with the harness)")
    scenarios.add_argument("--json", action="store_true", help="JSON array instead of a table")
    scenarios.set_defaults(func=list_scenarios)


def _display_name(name: str | None) -> str:
    if name is None:
        return "-"
    # Names with surrounding spaces (RCS "Abort ") are quoted so the space stays visible.
    return json.dumps(name, ensure_ascii=False) if name != name.strip() else name


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join(lines)


def list_events(args: argparse.Namespace) -> int:
    catalog = load_catalog()
    types = list(catalog) + [t for t in catalog.legacy_only if t.exported(args.profile)]
    entries: list[dict[str, Any]] = []
    for t in types:
        mapping = t.mapping(args.profile)
        if args.exported and not mapping.exported:
            continue
        entries.append({
            "type": t.type_id,
            "group": t.group,
            "exported": mapping.exported,
            "status": mapping.status,
            "mixpanel_event": mapping.event_name,
            "in_samples": t.in_samples,
        })
    if args.json:
        print(json.dumps(entries, ensure_ascii=False, indent=2))
        return 0
    rows = [[e["type"], e["group"], "yes" if e["exported"] else f"no ({e['status']})",
             _display_name(e["mixpanel_event"])] for e in entries]
    print(_table(["TYPE", "GROUP", "EXPORTED", "MIXPANEL EVENT"], rows))
    exported = sum(e["exported"] for e in entries)
    print(f"{len(entries)} types, {exported} exported under profile {args.profile}", file=sys.stderr)
    return 0


def _description(path: Path) -> str:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return f"(unreadable: {type(exc).__name__})"
    if isinstance(document, dict) and document.get("description") is not None:
        return " ".join(str(document["description"]).split())
    return "(no description)"


def list_scenarios(args: argparse.Namespace) -> int:
    folder: Path = args.dir if args.dir is not None else bundled_scenarios_dir()
    if folder.exists() and not folder.is_dir():
        raise CliError(f"{folder}: not a directory")
    files = sorted(p for p in folder.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()
                   and FRAGMENT_DIR not in p.relative_to(folder).parts) if folder.is_dir() else []
    entries = [{"name": str(p.relative_to(folder)), "description": _description(p)} for p in files]
    if args.json:
        print(json.dumps(entries, ensure_ascii=False, indent=2))
        return 0
    if not entries:
        print(f"no scenarios found in {folder}")
        return 0
    print(_table(["SCENARIO", "DESCRIPTION"], [[e["name"], e["description"]] for e in entries]))
    return 0
