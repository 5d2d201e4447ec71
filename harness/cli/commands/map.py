"""`harness map`: Currents events -> Mixpanel events (NDJSON), by the reference mapping (DESIGN.md §5).

Input files (or stdin when none or `-`) may be Custom HTTP JSON (one event, an array, `{"events": [...]}`),
NDJSON, storage JSON or Avro; the format is detected per file. Mapped events go to stdout or `-o FILE`, one
JSON object per line; the counts (mapped / not exported / dropped for lack of an external id / unknown / ...)
go to stderr. Exit status: 0 when every record was read; 1 when some NDJSON lines were malformed (they are
counted and reported, the rest is mapped); 2 for a missing, unreadable or unrecognisable file.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, BinaryIO

from harness.catalog import PROFILES, load_catalog
from harness.cli.errors import CliError
from harness.cli.terminal import progress_enabled
from harness.currents_io import CurrentsInputError, CurrentsReader
from harness.mapping import DEFAULT_TOKEN, MappingConfig, MappingReport
from harness.mapping.pipeline import auto_jobs, map_ndjson, map_records
from harness.mapping.result import REASON_INVALID_RECORD

_PROGRESS_EVERY = 50_000
_NOT_SETTABLE = ("profile", "token", "float_tolerance")  # own options, or not a mapping setting
_SETTABLE = {f.name: f for f in fields(MappingConfig) if f.init and f.name not in _NOT_SETTABLE}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "map",
        help="map Currents events (Custom HTTP JSON, NDJSON, storage JSON, Avro) to Mixpanel events (NDJSON)",
        description="Map Braze Currents records to the Mixpanel events the reference mapping produces "
                    "(currents-to-mixpanel.md). Input formats are detected per file: Custom HTTP JSON (one event, "
                    "an array, or {\"events\": [...]}), NDJSON, storage JSON, Avro. Output: one Mixpanel event "
                    "per line. Counts go to stderr. Exit status 0; 1 if some NDJSON lines were malformed; "
                    "2 for a missing or unreadable file or a bad option.",
    )
    parser.add_argument("files", nargs="*", metavar="FILE", help="input files; none or '-' reads stdin")
    parser.add_argument("--profile", choices=PROFILES, default="current",
                        help="mapping profile (default: current; legacy = the older Mixpanel page)")
    parser.add_argument("--token", default=DEFAULT_TOKEN, help=f"Mixpanel project token (default {DEFAULT_TOKEN})")
    parser.add_argument("-o", "--output", metavar="FILE", help="write the NDJSON here instead of stdout")
    parser.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE",
                        help="another mapping setting of spec §11, e.g. null_policy=emit_null (repeatable)")
    parser.add_argument("--report-json", metavar="FILE", help="also write the counts as JSON to FILE")
    parser.add_argument("-j", "--jobs", type=_jobs, default=None, metavar="N",
                        help="worker processes for NDJSON input; default 'auto': workers only for a large input "
                             "(8 MB or more) with at least two idle CPUs, else one process (on a busy machine "
                             "workers cost more than they save)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print no counts")
    parser.set_defaults(func=handler)


def _jobs(text: str) -> int | None:
    if text == "auto":
        return None
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of processes or 'auto', got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1 process, got {value}")
    return value


def _coerce(name: str, text: str) -> Any:
    kind = _SETTABLE[name].type
    kind = kind if isinstance(kind, str) else getattr(kind, "__name__", str(kind))
    if kind == "bool":
        lowered = text.strip().lower()
        if lowered in ("true", "1", "yes", "on"):
            return True
        if lowered in ("false", "0", "no", "off"):
            return False
        raise CliError(f"--set {name}: expected true or false, got {text!r}")
    if kind == "int":
        try:
            return int(text)
        except ValueError:
            raise CliError(f"--set {name}: expected an integer, got {text!r}") from None
    if kind == "float":
        try:
            return float(text)
        except ValueError:
            raise CliError(f"--set {name}: expected a number, got {text!r}") from None
    return text


def build_config(args: argparse.Namespace) -> MappingConfig:
    values: dict[str, Any] = {"profile": args.profile, "token": args.token}
    for item in args.settings:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep:
            raise CliError(f"--set expects KEY=VALUE, got {item!r}")
        if name not in _SETTABLE:
            raise CliError(f"--set: unknown setting {name!r} (known: {', '.join(sorted(_SETTABLE))})")
        values[name] = _coerce(name, text)
    try:
        return MappingConfig(**values)
    except ValueError as exc:
        raise CliError(str(exc)) from None


def _open_output(path: str | None) -> BinaryIO:
    if path is None or path == "-":
        return sys.stdout.buffer
    try:
        return open(path, "wb")
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror or exc}") from None


@dataclass(frozen=True)
class _Found:
    """A file found under a directory argument: read when its turn comes (an export may not fit in memory)."""

    path: Path
    type_from_path: str | None  # the `event_type=` segment of Braze's storage layout, if any


def _inputs(files: list[str], output: str | None) -> list[CurrentsReader | _Found]:
    """Named files are read up front, so a missing or unrecognisable one stops the run before anything is
    written; directories are walked (Braze's storage layout is nested folders) and their files read in turn."""
    from harness.reconcile.errors import ReconcileInputError
    from harness.reconcile.layout import discover_currents_files

    if not files and sys.stdin is not None and sys.stdin.isatty():
        raise CliError("no input: give FILE arguments or pipe Currents events into stdin ('-' reads a terminal)")
    inputs: list[CurrentsReader | _Found] = []
    for name in files or ["-"]:
        if name != "-" and Path(name).is_dir():
            try:
                found = discover_currents_files([name])
            except ReconcileInputError as exc:
                raise CliError(str(exc)) from None
            _refuse_to_overwrite(output, [f.path for f in found])
            inputs += [_Found(f.path, f.type_from_path) for f in found]
            continue
        if name != "-":
            _refuse_to_overwrite(output, [Path(name)])
        inputs.append(_open(name))
    return inputs


def _refuse_to_overwrite(output: str | None, inputs: list[Path]) -> None:
    if output is None or output == "-":
        return
    target = Path(output)
    for path in inputs:
        same = target.exists() and path.exists() and os.path.samefile(target, path)
        if same or target.resolve() == path.resolve():
            raise CliError(f"-o {output} is also an input ({path}): writing it would destroy what is being read; "
                           "give another output file")


def _open(name: str | _Found) -> CurrentsReader:
    try:
        if name == "-":
            reader = CurrentsReader.from_stream(sys.stdin.buffer, "<stdin>", flatten_custom_http=False)
        elif isinstance(name, _Found):
            reader = CurrentsReader.from_path(name.path, flatten_custom_http=False)
            if reader.type_hint is None and name.type_from_path in load_catalog():
                reader.type_hint = name.type_from_path
        else:
            reader = CurrentsReader.from_path(name, flatten_custom_http=False)
    except CurrentsInputError as exc:
        raise CliError(str(exc)) from None
    if reader.looks_like_mixpanel_events():
        raise CliError(f"{reader.name}: these look like Mixpanel events ({{\"event\": ..., \"properties\": ...}}), "
                       "not Braze Currents events; `harness map` reads Currents exports or captures")
    return reader


def map_readers(inputs: list[CurrentsReader | _Found], config: MappingConfig, out: BinaryIO,
                report: MappingReport, progress: Any = None, jobs: int | None = None,
                opened: list[CurrentsReader] | None = None) -> None:
    """The whole pipeline: read, map, write. NDJSON inputs go through `map_ndjson` (chunks, optionally in
    `jobs` worker processes; None = automatic by input size and idle CPUs, `auto_jobs`). Raises
    CurrentsInputError for a file that breaks mid-way. Every reader used is appended to `opened` (its
    malformed lines are reported after)."""
    write = out.write
    for item in inputs:
        reader = item if isinstance(item, CurrentsReader) else _open(item)
        if opened is not None:
            opened.append(reader)
        if reader.format == "ndjson":
            workers = auto_jobs(len(reader.data)) if jobs is None else jobs
            for outcome in map_ndjson(reader.data, reader.type_hint, config, workers):
                write(outcome.output)
                report.merge(outcome.report)
                reader.note_malformed(outcome.malformed, outcome.malformed_count)
                if progress is not None:
                    progress(report.total)
            continue
        total_before = report.total

        def counted_write(line: bytes) -> None:
            write(line)
            if progress is not None and report.total % _PROGRESS_EVERY == 0:
                progress(report.total)

        map_records(reader, config, report, counted_write if progress is not None else write,
                    storage_json=reader.may_hold_unions)
        if progress is not None and report.total != total_before:
            progress(report.total)


def handler(args: argparse.Namespace) -> int:
    config = build_config(args)
    inputs = _inputs(list(args.files), args.output)
    readers: list[CurrentsReader] = []
    report = MappingReport()
    show_progress = not args.quiet and progress_enabled(sys.stderr)

    def progress(total: int) -> None:
        print(f"\rmapped {report.mapped:,} of {total:,} records", end="", file=sys.stderr, flush=True)

    out = _open_output(args.output)
    failure: str | None = None
    try:
        map_readers(inputs, config, out, report, progress if show_progress else None, jobs=args.jobs,
                    opened=readers)
    except CurrentsInputError as exc:
        failure = str(exc)
    except CliError as exc:  # a file found under a directory that cannot be mapped
        failure = str(exc)
    except BrokenPipeError:
        raise
    except OSError as exc:  # e.g. the output disk filled up
        failure = f"cannot write {args.output or 'stdout'}: {exc.strerror or exc}"
    finally:
        try:
            out.flush()
            if out is not sys.stdout.buffer:
                out.close()
        except BrokenPipeError:
            raise
        except OSError as exc:
            failure = failure or f"cannot write {args.output or 'stdout'}: {exc.strerror or exc}"
        if show_progress:
            print(file=sys.stderr)

    malformed = [(r.name, number, message) for r in readers for number, message in r.malformed]
    empty = [r.name for r in readers if r.is_empty]
    if not failure and report.total == 0:  # nothing read at all: say so rather than print zero counts
        raise CliError(f"no Currents records in the input: {empty[0]} is empty" if len(empty) == 1 else
                       "no Currents records in the input (every file is empty)" if empty else
                       "no Currents records in the input")
    if not args.quiet:
        for name in empty:
            print(f"harness map: warning: {name} is empty (no records)", file=sys.stderr)
    if not args.quiet:
        for line in report.summary_lines():
            print(line, file=sys.stderr)
        for name, number, message in malformed:
            print(f"malformed record: {name} line {number}: {message}", file=sys.stderr)
    if args.report_json:
        try:
            Path(args.report_json).write_text(json.dumps(report.as_dict(), indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            raise CliError(f"cannot write {args.report_json}: {exc.strerror or exc}") from None
    if failure:
        raise CliError(failure)
    return 1 if report.reasons[REASON_INVALID_RECORD] else 0
