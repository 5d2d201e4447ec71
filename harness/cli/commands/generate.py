"""`harness generate`: emit generated Currents events (DESIGN.md §5, issue 5 §5).

    harness generate [--type T ... | --all] [-n N] [--seed N]
                     [--format custom-http | storage-json | avro | mixpanel] [-o FILE]

The same options and seed give the same bytes. Formats: `custom-http` (a JSON array, or NDJSON with
`--ndjson` or an `.ndjson`/`.jsonl` file name), `storage-json` (NDJSON with `event_type`; to a directory,
a file per type), `avro` (`-o` is a directory: a file per type, written with the catalog schema),
`mixpanel` (NDJSON of the reference mapping's output; dropped records are counted on stderr).
"""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.catalog import CHANNEL_EMAIL, PROFILES, load_catalog
from harness.cli.errors import CliError
from harness.cli.terminal import progress_enabled

if TYPE_CHECKING:
    from harness.generate.records import RecordFactory
    from harness.generate.streams import StreamConfig, StreamReport
    from harness.generate.world import WorldConfig
    from harness.generate.writers import AtomicFiles, WriteSummary

# The generator (and Faker under it) is imported when the command runs or its help is shown, not when the
# `harness` parser is built: every other command starts without paying for it.

DEFAULT_EVENTS = 100
_PROGRESS_MIN_EVENTS = 50_000
_PROGRESS_MIN_USERS = 50_000
_DURATION = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")
_UNIT_S = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86_400}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "generate",
        help="emit generated Currents events (Custom HTTP, storage JSON, Avro or mapped to Mixpanel)",
        description="Generate a realistic Braze Currents event stream from one seed: a world of users, apps, "
                    "campaigns and Canvases, and events that obey the lifecycle and dispatch_id rules "
                    "(currents-to-mixpanel.md §8, §9). The same options and seed give the same bytes.",
    )
    which = parser.add_mutually_exclusive_group()
    types = which.add_argument("--type", dest="types", action="extend", nargs="+", default=[], metavar="T",
                               help=_TYPES_HELP.format(example="a type id"))
    which.add_argument("--all", action="store_true", help="every type in the catalog (the default)")
    parser.add_argument("-n", "--events", default=str(DEFAULT_EVENTS), metavar="N",
                        help=f"number of events (default {DEFAULT_EVENTS})")
    parser.add_argument("--seed", default="0", metavar="N", help="seed of the world and the stream (default 0)")
    formats = parser.add_argument("--format", default="custom-http", metavar="FORMAT",
                                  help="output format (default custom-http)")
    parser.add_argument("-o", "--output", metavar="PATH",
                        help="output file (default stdout); a directory for avro and per-type storage-json")
    parser.add_argument("--ndjson", action="store_true", help="custom-http: one event per line instead of a JSON array")
    parser.add_argument("--users", metavar="N", help="users in the world (default scales with -n: 200..2000)")
    parser.add_argument("--anonymous-share", metavar="P", help="share of users without external_user_id (default 0.15)")
    parser.add_argument("--anchor", metavar="TIME",
                        help="no event after this time: Unix seconds or ISO 8601 (default 2026-01-01T00:00:00Z)")
    parser.add_argument("--span", metavar="DURATION",
                        help="time span before the anchor, e.g. 3600, 12h, 7d (default 7d)")
    parser.add_argument("--rate", dest="rates", action="append", default=[], metavar="NAME=P",
                        help="an edge-case rate, e.g. push_open_before_send=0.01, duplicate=0.05 (repeatable)")
    mix = parser.add_argument("--mix", action="append", default=[], metavar="KIND=W",
                              help="weight of a story kind, repeatable")
    modes = parser.add_argument("--canvas-dispatch-mode", default="default", metavar="MODE",
                                help="Canvas step dispatch ids (§8 D4)")
    parser.add_argument("--profile", default="current", metavar="PROFILE",
                        help=f"mixpanel format: mapping profile ({', '.join(PROFILES)})")
    parser.add_argument("--token", default=None, help="mixpanel format: project token (default harness-token)")
    parser.add_argument("--cover", nargs="?", const="1", default="0", metavar="K",
                        help="every selected type at least K times (default 1) within -n events, lifecycle and "
                             "dispatch_id rules intact; exit 1 naming the types it could not fit")
    parser.add_argument("-q", "--quiet", action="store_true", help="no summary on stderr")
    parser.set_defaults(func=handler)
    format_help = parser.format_help

    def format_help_with_choices() -> str:
        """The help texts that list the generator's own choices are completed when help is shown."""
        from harness.generate.streams import CANVAS_DISPATCH_MODES, DEFAULT_MIX
        from harness.generate.writers import FORMATS

        types.help = _TYPES_HELP.format(example=_type_pattern_example())
        formats.help = f"output format: {', '.join(FORMATS)} (default custom-http)"
        mix.help = f"weight of a story kind ({', '.join(DEFAULT_MIX)}), repeatable"
        modes.help = f"Canvas step dispatch ids (§8 D4): {', '.join(CANVAS_DISPATCH_MODES)}"
        return format_help()

    parser.format_help = format_help_with_choices


_TYPES_HELP = "Currents type ids (several, repeatable, comma lists and * patterns allowed, e.g. '{example}')"


def _type_pattern_example() -> str:
    """A pattern for every e-mail type, built from the catalog (which alone names event types)."""
    send = load_catalog().type_for(CHANNEL_EMAIL, "send")
    return send.rsplit(".", 1)[0] + ".*"


def _int(option: str, text: str, minimum: int = 0) -> int:
    try:
        value = int(text)
    except (TypeError, ValueError):
        raise CliError(f"{option} expects an integer, got {text!r}") from None
    if value < minimum:
        raise CliError(f"{option} must be at least {minimum}, got {value}")
    return value


def _share(option: str, text: str) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise CliError(f"{option} expects a number between 0 and 1, got {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise CliError(f"{option} must be between 0 and 1, got {text}")
    return value


def parse_anchor(text: str) -> int:
    """Unix seconds, or an ISO 8601 time (UTC when no offset is given)."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise CliError(f"--anchor expects Unix seconds or an ISO 8601 time, got {text!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return int(when.timestamp())


def parse_duration(text: str) -> int:
    match = _DURATION.match(text)
    if not match or int(match.group(1)) < 1:
        raise CliError(f"--span expects a positive duration such as 3600, 90m, 12h or 7d, got {text!r}")
    return int(match.group(1)) * _UNIT_S[match.group(2)]


def _pairs(option: str, items: list[str], known: dict[str, float], what: str) -> dict[str, float]:
    values = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep:
            raise CliError(f"{option} expects NAME=VALUE, got {item!r}")
        if name not in known:
            raise CliError(f"{option}: unknown {what} {name!r} (known: {', '.join(sorted(known))})")
        try:
            values[name] = float(text)
        except ValueError:
            raise CliError(f"{option} {name}: expected a number, got {text!r}") from None
    return values


def resolve_types(patterns: list[str], *, needs_storage: bool) -> tuple[str, ...] | None:
    """Type ids from --type values (exact ids, comma lists, * patterns); None = every type.

    For storage formats a pattern drops the types without a storage schema; naming only such types fails."""
    catalog = load_catalog()
    if not patterns:
        # Every format sees the same stream for a seed; storage formats skip (and count) the few
        # Custom-HTTP-only records.
        return None
    chosen: list[str] = []
    for pattern in (p.strip() for item in patterns for p in item.split(",")):
        if not pattern:
            continue
        matches = list(catalog.match_types(pattern))
        if not matches:
            raise CliError(f"--type {pattern!r} matches no Currents event type (see `harness list events`)")
        if needs_storage:
            without = [t for t in matches if not catalog[t].has_storage_schema]
            if without and len(without) == len(matches):
                raise CliError(f"{without[0]} has no storage schema (it exists only in the Custom HTTP shape)")
            matches = [t for t in matches if catalog[t].has_storage_schema]
        chosen.extend(t for t in matches if t not in chosen)
    if not chosen:
        raise CliError("--type names no event type")
    return tuple(chosen)


def _config(args: argparse.Namespace, fmt: str) -> tuple[int, WorldConfig, StreamConfig]:
    from harness.generate.streams import (
        CANVAS_DISPATCH_MODES,
        DEFAULT_ANCHOR,
        DEFAULT_MIX,
        DEFAULT_RATES,
        DEFAULT_SPAN_S,
        StreamConfig,
    )
    from harness.generate.world import WorldConfig

    events = _int("-n", args.events)
    seed = _int("--seed", args.seed)
    users = _int("--users", args.users, 1) if args.users is not None else min(2000, max(200, events // 500))
    world_config = WorldConfig(users=users)
    if args.anonymous_share is not None:
        world_config.anonymous_share = _share("--anonymous-share", args.anonymous_share)
        world_config.identified_later_share = min(world_config.identified_later_share,
                                                  1.0 - world_config.anonymous_share)
    if args.canvas_dispatch_mode not in CANVAS_DISPATCH_MODES:
        raise CliError(f"--canvas-dispatch-mode must be one of {', '.join(CANVAS_DISPATCH_MODES)}, "
                       f"got {args.canvas_dispatch_mode!r}")
    stream_config = StreamConfig(
        events=events,
        anchor=parse_anchor(args.anchor) if args.anchor is not None else DEFAULT_ANCHOR,
        span_s=parse_duration(args.span) if args.span is not None else DEFAULT_SPAN_S,
        types=resolve_types(args.types, needs_storage=fmt in ("avro", "storage-json")),
        mix=_pairs("--mix", args.mix, DEFAULT_MIX, "story kind"),
        rates=_pairs("--rate", args.rates, DEFAULT_RATES, "rate"),
        canvas_dispatch_mode=args.canvas_dispatch_mode,
        cover=_int("--cover", args.cover),
    )
    return seed, world_config, stream_config


def _mapping_config(args: argparse.Namespace) -> Any:
    from harness.mapping import DEFAULT_TOKEN, MappingConfig

    if args.profile not in PROFILES:
        raise CliError(f"--profile must be one of {', '.join(PROFILES)}, got {args.profile!r}")
    return MappingConfig(profile=args.profile, token=args.token or DEFAULT_TOKEN)


def _progress(total: int) -> Any:
    if total < _PROGRESS_MIN_EVENTS or not progress_enabled(sys.stderr):
        return None

    def show(done: int) -> None:
        print(f"\rharness generate: {done:,}/{total:,} events", end="", file=sys.stderr, flush=True)

    return show


def _world_progress(users: int) -> Any:
    if users < _PROGRESS_MIN_USERS or not progress_enabled(sys.stderr):
        return None

    def show(done: int, total: int) -> None:
        print(f"\rharness generate: building the world: {done:,}/{total:,} users", end="", file=sys.stderr,
              flush=True)

    return show


def handler(args: argparse.Namespace) -> int:
    from harness.generate.records import RecordFactory
    from harness.generate.streams import GenerationError, StreamReport, generate_records
    from harness.generate.world import build_world
    from harness.generate.writers import FORMATS, AtomicFiles, is_directory_target

    fmt = args.format
    if fmt not in FORMATS:
        raise CliError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if args.profile not in PROFILES:
        raise CliError(f"--profile must be one of {', '.join(PROFILES)}, got {args.profile!r}")
    seed, world_config, stream_config = _config(args, fmt)
    mapping_config = _mapping_config(args) if fmt == "mixpanel" else None
    output = args.output
    if fmt == "avro" and not output:
        raise CliError("--format avro writes one file per type: give -o DIRECTORY")
    if output and fmt == "avro" and Path(output).exists() and not Path(output).is_dir():
        raise CliError(f"-o {output}: not a directory (--format avro writes one file per type)")
    if output and fmt != "avro" and not (fmt == "storage-json" and is_directory_target(output)):
        if Path(output).is_dir():
            raise CliError(f"-o {output} is a directory; give a file name")
        if not Path(output).parent.is_dir():
            raise CliError(f"-o {output}: directory {Path(output).parent} does not exist")

    if stream_config.anchor > time.time() + 3600 and not args.quiet:
        print("harness generate: warning: --anchor is in the future; Mixpanel rejects events dated more than "
              "1 h ahead (mixpanel-ingestion.md §5.4 V6)", file=sys.stderr)
    try:
        world_progress = _world_progress(world_config.users)
        world = build_world(seed, world_config, progress=world_progress)
        if world_progress is not None:
            print("\r\x1b[2K", end="", file=sys.stderr, flush=True)
        factory = RecordFactory()
        report = StreamReport()
        progress = _progress(stream_config.events)
        records = generate_records(world, stream_config, seed=seed, factory=factory, report=report, progress=progress)
    except (GenerationError, ValueError) as exc:
        raise CliError(str(exc)) from None

    files = AtomicFiles()  # -o files appear whole, when the run completes, or not at all
    existed = output is not None and Path(output).exists()
    try:
        summary = _write(fmt, records, output, factory, seed, args, mapping_config, files)
        files.commit()
    except KeyboardInterrupt:
        files.discard()
        if output and not existed and Path(output).is_dir():
            with contextlib.suppress(OSError):
                Path(output).rmdir()  # the directory this run created, left empty
        raise KeyboardInterrupt(f"nothing written to {output}" if output else "the output is incomplete") from None
    except GenerationError as exc:
        raise CliError(str(exc)) from None
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise CliError(f"cannot write {exc.filename or output}: {exc.strerror or exc}") from None
    finally:
        files.discard()
        if progress is not None:
            print(file=sys.stderr)
    if not args.quiet:
        _print_summary(fmt, report, summary, output)
    if report.uncovered:
        short = ", ".join(f"{t} ({n})" for t, n in list(report.uncovered.items())[:5])
        more = f" and {len(report.uncovered) - 5} more" if len(report.uncovered) > 5 else ""
        print(f"harness generate: --cover {stream_config.cover}: {len(report.uncovered)} types fell short within "
              f"{stream_config.events} events: {short}{more}; raise -n", file=sys.stderr)
        return 1
    return 0


def _write(fmt: str, records: Any, output: str | None, factory: RecordFactory, seed: int,
           args: argparse.Namespace, mapping_config: Any, files: AtomicFiles) -> WriteSummary:
    from harness.generate.writers import is_directory_target, write_avro_dir, write_storage_json_dir

    if fmt == "avro":
        assert output, "the handler refuses --format avro without -o"
        return write_avro_dir(records, Path(output), factory, seed=seed, files=files)
    if fmt == "storage-json" and output and is_directory_target(output):
        return write_storage_json_dir(records, Path(output), factory, files=files)
    ndjson = args.ndjson or bool(output and output.endswith((".ndjson", ".jsonl")))
    if output:
        return _write_stream(fmt, records, files.open(Path(output)), factory, ndjson, mapping_config)
    stdout = sys.stdout.buffer
    summary = _write_stream(fmt, records, stdout, factory, ndjson, mapping_config)
    stdout.flush()
    return summary


def _write_stream(fmt: str, records: Any, out: Any, factory: RecordFactory, ndjson: bool,
                  mapping_config: Any) -> WriteSummary:
    from harness.generate.writers import write_custom_http, write_mixpanel, write_storage_json

    if fmt == "custom-http":
        return write_custom_http(records, out, factory, ndjson=ndjson)
    if fmt == "storage-json":
        return write_storage_json(records, out, factory)
    return write_mixpanel(records, out, factory, mapping_config)


def _print_summary(fmt: str, report: StreamReport, summary: WriteSummary, output: str | None) -> None:
    where = f" to {output}" if output else ""
    line = f"harness generate: {report.events} Currents events, {summary.written} written as {fmt}{where}"
    if summary.files:
        line += f" ({len(summary.files)} files)"
    if summary.skipped:
        line += "; not written: " + ", ".join(f"{reason}={n}" for reason, n in sorted(summary.skipped.items()))
    print(line, file=sys.stderr)
