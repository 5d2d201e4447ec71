"""`harness list events | scenarios`: what the catalog and the scenario library hold (DESIGN.md §5)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from harness.catalog import (
    EXPORT_SET_GLOSSARY,
    EXPORT_SET_PARTNER_PAGE,
    EXPORT_SETS,
    PROFILES,
    STATUS_EXPORTED,
    load_catalog,
)
from harness.cli.errors import CliError
from harness.mapping import MappingConfig
from harness.mapping.reference import export_rule
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
    events.add_argument("--export-set", choices=EXPORT_SETS, default=EXPORT_SET_GLOSSARY,
                        help="the mapping's export_set: glossary (default) or partner_page, Braze's Mixpanel "
                             "partner page list of 55 types (currents-to-mixpanel.md §5 summary)")
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
    config = MappingConfig(profile=args.profile, export_set=args.export_set)
    types = list(catalog) + [t for t in catalog.legacy_only if t.exported(args.profile)]
    entries: list[dict[str, Any]] = []
    for t in types:
        mapping = t.mapping(args.profile)
        exported = export_rule(t, config) is not None  # the mapping's own decision, export_set included
        if args.exported and not exported:
            continue
        entries.append({
            "type": t.type_id,
            "group": t.group,
            "exported": exported,
            # a type the profile exports but the chosen export set leaves out says so
            "status": mapping.status if exported or mapping.status != STATUS_EXPORTED else "not_in_export_set",
            "export_sets": [name for name in EXPORT_SETS if name in t.export_sets],
            "mixpanel_event": mapping.event_name,
            "in_samples": t.in_samples,
        })
    if args.json:
        print(json.dumps(entries, ensure_ascii=False, indent=2))
        return 0
    rows = [[e["type"], e["group"], "yes" if e["exported"] else f"no ({e['status']})",
             "yes" if EXPORT_SET_PARTNER_PAGE in e["export_sets"] else "no",
             _display_name(e["mixpanel_event"])] for e in entries]
    print(_table(["TYPE", "GROUP", "EXPORTED", "PARTNER PAGE", "MIXPANEL EVENT"], rows))
    exported_count = sum(e["exported"] for e in entries)
    print(f"{len(entries)} types, {exported_count} exported under profile {args.profile}"
          f" (export_set {args.export_set})", file=sys.stderr)
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
