"""`harness reconcile`: did everything Braze's Currents export holds arrive in Mixpanel, exactly as it should?

    harness reconcile CURRENTS_PATH ... --mixpanel EXPORT_PATH|URL [--from T] [--to T] [--profile P]
                      [--set KEY=VALUE] [--json FILE] [--html FILE] [--engine duckdb|dask]
                      [--scheduler ADDRESS] [--mixpanel-secret SECRET|USER:SECRET] [--mixpanel-project-id N]

`--mixpanel http(s)://BASE_URL` reads a live Mixpanel (a running fake, or Mixpanel itself): its raw export
for the `--from`/`--to` days is downloaded first (`harness.reconcile.export_download`), with the project
secret of `--mixpanel-secret` (default: the fake's `harness-secret`).

The counts go to stderr; `--json` and `--html` write the reports. Exit status: 0 clean, 1 differences
found, 2 bad input (a missing, unreadable or wrong kind of file or an empty directory: one line naming it;
or some unreadable lines, which are counted and listed while the rest is still compared).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from harness.catalog import PROFILES
from harness.cli.commands.map import build_config
from harness.cli.errors import CliError
from harness.cli.terminal import progress_enabled
from harness.mapping import DEFAULT_TOKEN
from harness.reconcile import ENGINES, HtmlReportWriter, JsonReportWriter, ReconcileInputError, parse_window, reconcile
from harness.reconcile.export_download import DEFAULT_SECRET, ExportCredentials, download_export, is_export_url
from harness.reconcile.window import TimeWindow

PROGRESS_INTERVAL_S = 0.25


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "reconcile",
        help="compare a Braze Currents export with a Mixpanel raw export, event by event",
        description="Compare a Braze Currents export (Avro storage layout event_type=/date=/..., Custom HTTP "
                    "JSON or NDJSON captures; directories walked recursively) with a Mixpanel raw export "
                    "(JSON lines, optionally gzip), keyed by Mixpanel's dedup key (event, distinct_id, time, "
                    "$insert_id), with the reference mapping saying what should have arrived. Exit status 0 "
                    "clean, 1 differences found, 2 bad input.",
    )
    parser.add_argument("currents", nargs="+", metavar="CURRENTS_PATH", help="Currents files or directories")
    parser.add_argument("--mixpanel", dest="exports", action="append", required=True, metavar="EXPORT_PATH|URL",
                        help="a Mixpanel raw export file or a directory of them, or http(s)://BASE_URL of a live "
                             "Mixpanel or fake whose /api/2.0/export is downloaded for the --from/--to days "
                             "(repeatable)")
    parser.add_argument("--mixpanel-secret", default=DEFAULT_SECRET, metavar="SECRET|USER:SECRET",
                        help="--mixpanel URL: the project secret, or a service account's USER:SECRET "
                             f"(default {DEFAULT_SECRET}, the fake's)")
    parser.add_argument("--mixpanel-project-id", metavar="N",
                        help="--mixpanel URL: the project id (needed with a service account)")
    parser.add_argument("--from", dest="window_from", metavar="T",
                        help="compare events from this time on: Unix seconds, a date or ISO 8601 (inclusive)")
    parser.add_argument("--to", dest="window_to", metavar="T",
                        help="compare events up to this time (inclusive; a date covers its whole day)")
    parser.add_argument("--profile", choices=PROFILES, default="current", help="mapping profile (default current)")
    parser.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE",
                        help="another mapping setting of spec §11, e.g. null_policy=emit_null (repeatable)")
    parser.add_argument("--json", dest="json_path", metavar="FILE", help="write the JSON report here")
    parser.add_argument("--html", dest="html_path", metavar="FILE", help="write the HTML report here")
    parser.add_argument("--engine", choices=ENGINES, default="duckdb",
                        help="duckdb (default: one machine, embedded) or dask (optional extra: "
                             "pip install '.[dask]')")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="--engine dask: a distributed scheduler's address (default: local processes)")
    parser.add_argument("--samples", type=_samples, default=20, metavar="N",
                        help="samples kept per bucket (default 20)")
    parser.add_argument("--memory-limit", default="2GB", metavar="SIZE",
                        help="memory the engine may use before spilling to disk (default 2GB)")
    parser.add_argument("-j", "--jobs", type=_jobs, default=None, metavar="N",
                        help="worker processes mapping the Currents side ('auto', the default: by input size "
                             "and CPUs; 1 = this process only)")
    parser.add_argument("--workdir", metavar="DIR", help="where the run's temporary files go (default: system temp)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print no counts")
    parser.set_defaults(func=handler, token=DEFAULT_TOKEN)


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


def _samples(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, got {value}")
    return value


def _export_paths(args: argparse.Namespace, window: TimeWindow, downloads: Path, show_progress: bool) -> list[str]:
    """The `--mixpanel` values with every URL replaced by its downloaded export (in `downloads`)."""
    credentials = ExportCredentials(args.mixpanel_secret, args.mixpanel_project_id)
    paths = []
    for given in args.exports:
        if is_export_url(given):
            if show_progress:
                print(f"\r\x1b[2Kdownloading the export of {given}", end="", file=sys.stderr, flush=True)
            given = str(download_export(given, window, credentials, downloads))
        paths.append(given)
    return paths


def handler(args: argparse.Namespace) -> int:
    config = build_config(args)  # the mapping's own option parsing, shared with `harness map`
    if args.scheduler and args.engine != "dask":
        raise CliError("--scheduler is for --engine dask")
    try:
        window = parse_window(args.window_from, args.window_to)
    except ValueError as exc:
        raise CliError(f"--from/--to: {exc}") from None
    show_progress = not args.quiet and progress_enabled(sys.stderr)

    shown_stage, shown_at = "", 0.0

    def progress(stage: str, count: int) -> None:
        nonlocal shown_stage, shown_at
        now = time.monotonic()
        if stage == shown_stage and now - shown_at < PROGRESS_INTERVAL_S:
            return  # a terminal line a few times a second is enough
        shown_stage, shown_at = stage, now
        label = {"currents": "Currents records read", "mixpanel": "Mixpanel rows read"}.get(stage)
        text = f"{label}: {count:,}" if label else f"comparing {count:,} events"
        print(f"\r\x1b[2K{text}", end="", file=sys.stderr, flush=True)

    try:
        with tempfile.TemporaryDirectory(prefix="harness-reconcile-export-", dir=args.workdir) as downloads:
            exports = _export_paths(args, window, Path(downloads), show_progress)
            result = reconcile(args.currents, exports, config, window, sample_limit=args.samples,
                               workdir=args.workdir, memory_limit=args.memory_limit, jobs=args.jobs,
                               engine=args.engine, scheduler=args.scheduler,
                               progress=progress if show_progress else None)
    except ReconcileInputError as exc:
        raise CliError(str(exc)) from None
    finally:
        if show_progress:
            print("\r\x1b[2K", end="", file=sys.stderr, flush=True)
    for path, writer in ((args.json_path, JsonReportWriter()), (args.html_path, HtmlReportWriter())):
        if path:
            try:
                writer.write(result, path)
            except OSError as exc:
                raise CliError(f"cannot write {path}: {exc.strerror or exc}") from None
    if not args.quiet:
        for line in result.summary_lines():
            print(line, file=sys.stderr)
    return result.exit_status
