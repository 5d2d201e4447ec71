"""`harness serve`: run every fake on loopback until SIGINT/SIGTERM (DESIGN.md §5).

Prints one line per fake, `<name>: <base URL>`, in registry order (mixpanel, then braze), flushed at once so
a script can read them. Port 0 picks a free port. With `--tls` each fake also listens on HTTPS (certificate
from a harness test CA): then `<name>-https: <URL>` lines and `tls-ca: <path of the CA PEM to trust>`. A fake
whose settings include `tls.cert`/`tls.key`/`tls.port` (mixpanel-ingestion.md §2.3) gets HTTPS from them.
The fakes run as one `fakes.fleet.FakeFleet`, so they share one simulated clock. With `--state-dir`, each
fake's state (configuration, seed and, where the fake supports it, its data) is kept in an append-only log
under DIR (`fakes.core.durable`): every change is written before its answer is sent, restored at start, and a
stop (SIGINT, SIGTERM, SIGHUP, SIGQUIT) only closes the files. The reference connectors' control routes
(DESIGN.md §7.1, `harness.connector_routes`) are mounted on fake Mixpanel and fake Braze.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.cli.errors import CliError
from harness.cli.terminal import progress_enabled

if TYPE_CHECKING:  # imported when the command runs: building the CLI's parser stays light
    import ssl

    from fakes.core.durable import DurableStore
    from fakes.core.limits import ServerLimits
    from fakes.core.state import FakeState
    from fakes.fleet import FakeFleet, ServerTls

DEFAULT_PORTS = {"mixpanel": 8081, "braze": 8082}


def register(subparsers: argparse._SubParsersAction) -> None:
    from fakes.registry import FakeUnavailableError, fake_names

    parser = subparsers.add_parser(
        "serve",
        help="run the fake Mixpanel and Braze servers on loopback until interrupted",
        description="Run the fakes on loopback HTTP until SIGINT/SIGTERM/SIGHUP/SIGQUIT. "
                    "Prints '<name>: <base URL>' per fake.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1, loopback only)")
    parser.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                        help="also answer requests whose Host is NAME (a glob; repeatable): the fakes answer only "
                             "loopback, their real host names and these (a non-loopback --host address is added)")
    try:
        names = fake_names()
    except FakeUnavailableError:  # a broken HARNESS_FAKE_MODULES is reported when the command runs
        names = list(DEFAULT_PORTS)
    for name in names:
        parser.add_argument(
            f"--{name}-port", type=_port, default=DEFAULT_PORTS.get(name, 0), metavar="PORT",
            help=f"port of the fake {name} (default {DEFAULT_PORTS.get(name, 0)}; 0 picks a free port)",
        )
        parser.add_argument(
            f"--{name}-https-port", type=_port, default=0, metavar="PORT",
            help=f"HTTPS port of the fake {name} with --tls (default 0: a free port)",
        )
    parser.add_argument("--tls", action="store_true",
                        help="also serve HTTPS, with a certificate from a new harness test CA")
    parser.add_argument("--tls-dir", type=Path, default=None, metavar="DIR",
                        help="where --tls keeps harness-ca.pem and the server key pair, reused across runs "
                             "(default: DIR/tls under --state-dir, else a temporary directory)")
    parser.add_argument("--fakes", default=None, metavar="NAME[,NAME]",
                        help=f"run only these fakes (default: all: {', '.join(names)})")
    parser.add_argument("--config", type=Path, default=None, metavar="FILE",
                        help="YAML or JSON file with one section of settings per fake "
                             "(see fakes/core/config_sources.py); "
                             "HARNESS_<FAKE>__<KEY> variables override it")
    parser.add_argument("--seed", type=int, default=0, help="run seed (fault probabilities); default 0")
    parser.add_argument("--threads", type=int, default=8, help="worker threads per fake (default 8)")
    limits = parser.add_argument_group("availability limits (per fake; see fakes/core/limits.py)")
    limits.add_argument("--control-threads", type=int, default=None, metavar="N",
                        help="worker threads reserved for /_harness routes (default 2)")
    limits.add_argument("--connection-limit", type=int, default=None, metavar="N",
                        help="open connections on the plain port; at the limit the least recently active idle "
                             "one is closed (default 10000)")
    limits.add_argument("--tls-connection-limit", type=int, default=None, metavar="N",
                        help="open connections on the HTTPS port (default 10000)")
    limits.add_argument("--idle-timeout", type=int, default=None, metavar="SECONDS",
                        help="close a connection idle, or whose client reads nothing, this long (default 120)")
    limits.add_argument("--fault-wait-threads", type=int, default=None, metavar="N",
                        help="stand-in workers while requests wait in latency/hang faults (default 1000)")
    parser.add_argument("--state-dir", type=Path, default=None, metavar="DIR",
                        help="keep each fake's state in DIR: every change is on disk before its answer is sent, "
                             "and restored at start")
    parser.add_argument("--fsync", choices=("always", "everysec", "no"), default="everysec",
                        help="with --state-dir, when changes are forced to stable storage: before every answer, "
                             "once a second (default) or when the operating system decides")
    parser.add_argument("--state-rewrite-min-bytes", type=int, default=64 << 20, metavar="N",
                        help="with --state-dir, rewrite a fake's log once it has grown by N bytes and by as much "
                             "as its last rewrite (default 64 MiB)")
    parser.set_defaults(func=handler)


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port must be between 0 and 65535, got {value}")
    return value


def handler(args: argparse.Namespace) -> int:
    from fakes.fleet import FakeFleet
    from fakes.registry import FakeUnavailableError, fake_names

    try:
        all_names = fake_names()
    except FakeUnavailableError as exc:
        raise CliError(str(exc)) from None
    names = all_names if args.fakes is None else [n.strip() for n in args.fakes.split(",") if n.strip()]
    unknown = [n for n in names if n not in all_names]
    if unknown or not names:
        given = ", ".join(unknown) or "(none given)"
        raise CliError(f"--fakes: unknown fake(s) {given}; known: {', '.join(all_names)}")
    if args.threads < 1:
        raise CliError("--threads must be >= 1")
    server_limits = _server_limits(args)
    if args.state_rewrite_min_bytes < 0:
        raise CliError("--state-rewrite-min-bytes must be >= 0")
    state_dir: Path | None = args.state_dir
    if state_dir is not None:
        _check_state_dir(state_dir)
    _warn_if_not_loopback(args.host)
    file_config = _file_config(args.config, all_names)

    fleet = FakeFleet((), mode="loopback", seed=args.seed)  # one clock for every fake
    stores: list[DurableStore] = []
    stop = threading.Event()
    # Every change is on disk when answered, so a stop only closes files: a second signal loses nothing.
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in _STOP_SIGNALS}
    try:
        for name in names:
            try:
                handle = fleet.add(name)
            except FakeUnavailableError as exc:
                raise CliError(str(exc)) from None
            store = _prepare(name, handle.state, state_dir, file_config.get(name, {}), args)
            if store is not None:
                stores.append(store)
        _allow_hosts(fleet, args)
        _serve(args, fleet, names, state_dir, stop, server_limits)
    finally:
        for store in stores:
            store.close()
        for sig, handler_before in previous.items():
            signal.signal(sig, handler_before)
    return 0


_STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT")
                      if hasattr(signal, name))


def _serve(args: argparse.Namespace, fleet: FakeFleet, names: list[str], state_dir: Path | None,
           stop: threading.Event, server_limits: ServerLimits) -> None:
    from fakes.core import PortInUseError
    from fakes.core.limits import open_files_wanted, raise_open_file_limit
    from fakes.fleet import ServerOptions
    from harness.connector_routes import ConnectorControl

    connectors = ConnectorControl(fleet).mount_all()  # DESIGN.md §7.1; before the first request
    plans = _tls_plans(args, fleet, state_dir)
    ports = {name: getattr(args, f"{name.replace('-', '_')}_port", 0) for name in names}
    raise_open_file_limit(open_files_wanted(server_limits, servers=len(names), tls=plans.tls is not None))
    servers = ServerOptions(host=args.host, ports=ports, threads=args.threads, tls=plans.tls, limits=server_limits)
    try:
        try:
            fleet.start(servers=servers)
        except PortInUseError as exc:
            raise CliError(_port_advice(exc)) from None
        for handle in fleet:
            print(f"{handle.name}: {handle.base_url}", flush=True)
        for handle in fleet:
            if handle.https_base_url is not None:
                print(f"{handle.name}-https: {handle.https_base_url}", flush=True)
        if plans.ca_pem is not None:
            print(f"tls-ca: {plans.ca_pem}", flush=True)
        if progress_enabled(sys.stderr):
            print("harness serve: running; press Ctrl-C to stop", file=sys.stderr, flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        connectors.close()
        fleet.close()
        if plans.temporary_dir is not None:
            shutil.rmtree(plans.temporary_dir, ignore_errors=True)


_LIMIT_OPTIONS = {"control_threads": "control_threads", "connection_limit": "connection_limit",
                  "tls_connection_limit": "tls_connection_limit", "idle_timeout": "idle_timeout_s",
                  "fault_wait_threads": "fault_wait_threads"}


def _server_limits(args: argparse.Namespace) -> ServerLimits:
    """The availability options as `ServerLimits` (defaults for those not given); a bad value is one line."""
    from fakes.core.limits import ServerLimits

    given = {field: getattr(args, option) for option, field in _LIMIT_OPTIONS.items()
             if getattr(args, option, None) is not None}
    try:
        return ServerLimits(threads=args.threads, **given)
    except ValueError as exc:
        option = next((o for o, f in _LIMIT_OPTIONS.items() if str(exc).startswith(f + " ")), None)
        flag = f"--{option.replace('_', '-')}" if option else "--threads"
        raise CliError(f"{flag}: {str(exc).split(' ', 1)[1]}") from None


def _check_state_dir(state_dir: Path) -> None:
    """DIR itself is created when missing, its parent never: a typo in the path is an error, not a new tree."""
    if state_dir.is_dir():
        return
    if state_dir.exists():
        raise CliError(f"--state-dir {state_dir}: not a directory")
    parent = state_dir.absolute().parent
    if not parent.is_dir():
        raise CliError(f"--state-dir {state_dir}: its parent directory {parent} does not exist "
                       "(create it first, or check the path)")
    try:
        state_dir.mkdir()
    except OSError as exc:
        raise CliError(f"--state-dir {state_dir}: {exc.strerror or exc}") from None


def _warn_if_not_loopback(host: str) -> None:
    import ipaddress

    try:
        loopback = host == "localhost" or ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: loopback only if it is localhost
        loopback = False
    if not loopback:
        print(f"harness serve: warning: --host {host} is not a loopback address: other machines can reach the "
              "fakes, which accept the default test credentials", file=sys.stderr, flush=True)


def _port_advice(exc: Exception) -> str:
    """The port-in-use line, with the option that moves that port (0 picks a free one)."""
    name = getattr(exc, "server", None)
    if not name:
        return str(exc)
    option = f"--{name}-https-port" if getattr(exc, "https", False) else f"--{name}-port"
    return f"{exc}; choose another with {option} PORT, or {option} 0 for a free port"


def _allow_hosts(fleet: FakeFleet, args: argparse.Namespace) -> None:
    """--allow-host names, and a concrete non-loopback --host address, are answered (fakes/core/access.py)."""
    from fakes.core.access import allow_hosts, is_loopback

    names = [n.strip() for n in args.allow_host if n.strip()]
    bound = args.host.strip().strip("[]").lower()
    if bound not in ("", "0.0.0.0", "::") and not is_loopback(bound):
        names.append(bound)
    for handle in fleet:
        allow_hosts(handle.app, names)


def _file_config(path: Path | None, known: list[str]) -> dict[str, dict[str, Any]]:
    """The --config file's sections (one per fake); an unknown section is an error."""
    from fakes.core.config_sources import ConfigSourceError, load_config_file

    if path is None:
        return {}
    try:
        file_config = load_config_file(path)
    except ConfigSourceError as exc:
        raise CliError(str(exc)) from None
    strays = sorted(set(file_config) - set(known))
    if strays:
        raise CliError(f"config file {path}: unknown fake section(s) {', '.join(strays)}; known: {', '.join(known)}")
    return file_config


def _prepare(name: str, state: FakeState, state_dir: Path | None, file_values: dict[str, Any],
             args: argparse.Namespace) -> DurableStore | None:
    """Restore the saved state, then apply the config file's section and the environment on top."""
    from fakes.core.config import ConfigError
    from fakes.core.config_sources import config_from_env

    config_path: Path | None = args.config
    store = None if state_dir is None else _open_store(name, state, state_dir, args)
    restored = store is not None and store.restored
    if state_dir is not None:
        print(f"harness serve: {name}: restored state from {state_dir}" if restored else
              f"harness serve: {name}: no saved state in {state_dir}, starting empty", file=sys.stderr, flush=True)
    configured = False
    sources = ((f"config file {config_path}", file_values), ("environment", config_from_env(name, os.environ)))
    for source, values in sources:
        if not values:
            continue
        try:
            state.update_config(values)
        except ConfigError as exc:
            raise CliError(f"{name}: {source}: {exc}") from None
        configured = True
    if configured and not restored:
        state.reset()  # a fresh state built from the configuration (default worlds, credentials)
    if store is not None:
        state.commit_changes()
    return store


def _open_store(name: str, state: FakeState, state_dir: Path, args: argparse.Namespace) -> DurableStore:
    """Replay DIR's log of this fake (or import the DIR/<name>.json of earlier versions) and keep it open."""
    from fakes.core.durable import DurableStore
    from fakes.core.durable_log import LogCorrupt

    store = DurableStore(state, state_dir, name=name, fsync=args.fsync,
                         rewrite_min_bytes=args.state_rewrite_min_bytes)
    legacy = state_dir / f"{name}.json"
    imported = not store.exists and legacy.exists() and _restore(name, state, legacy)
    try:
        store.restored = store.open() or imported
    except LogCorrupt as exc:
        raise CliError(f"cannot restore {name} state: {exc}") from None
    except OSError as exc:
        raise CliError(f"cannot open {name} state in {state_dir}: {exc.strerror or exc}") from None
    if imported:
        legacy.replace(legacy.with_name(legacy.name + ".imported"))  # now in the log; not read again
    return store


@dataclass
class _TlsPlans:
    tls: dict[str, ServerTls] = field(default_factory=dict)
    """fake name -> its HTTPS front door (certificate and port)"""
    ca_pem: Path | None = None
    temporary_dir: Path | None = None


def _tls_plans(args: argparse.Namespace, fleet: FakeFleet, state_dir: Path | None) -> _TlsPlans:
    """Which fakes listen on HTTPS and with which certificate.

    A fake gets HTTPS with `--tls`, or when its own settings ask for it (`tls.cert` + `tls.key`: the user's
    certificate; `tls.port`: the port). Without a certificate of its own it uses the harness test CA.
    """
    from fakes.core.tls import server_context
    from fakes.fleet import ServerTls

    plans = _TlsPlans()
    harness_context: ssl.SSLContext | None = None
    for handle in fleet:
        name, config = handle.name, handle.state.config
        cert = config.get("tls.cert") if "tls.cert" in config else None
        key = config.get("tls.key") if "tls.key" in config else None
        configured_port = config.get("tls.port") if "tls.port" in config else None
        if not (args.tls or cert or configured_port is not None):
            continue
        port = getattr(args, f"{name.replace('-', '_')}_https_port", 0) or configured_port or 0
        if bool(cert) != bool(key):
            raise CliError(f"{name}: tls.cert and tls.key must be given together")
        if cert and key:
            try:
                context = server_context(Path(cert), Path(key))
            except (OSError, ValueError) as exc:
                raise CliError(f"{name}: cannot load tls.cert {cert} / tls.key {key}: {exc}") from None
            plans.tls[name] = ServerTls(context, int(port))
            continue
        if harness_context is None:
            harness_context = _harness_tls_context(args, fleet, state_dir, plans)
        plans.tls[name] = ServerTls(harness_context, int(port), plans.ca_pem)
    return plans


def _harness_tls_context(args: argparse.Namespace, fleet: FakeFleet, state_dir: Path | None,
                         plans: _TlsPlans) -> ssl.SSLContext:
    from fakes.core.tls import load_or_issue_certificates, server_context

    if args.tls_dir is not None:
        tls_dir = args.tls_dir
    elif state_dir is not None:
        tls_dir = state_dir / "tls"
    else:
        tls_dir = plans.temporary_dir = Path(tempfile.mkdtemp(prefix="harness-tls-"))
    try:
        files = load_or_issue_certificates(tls_dir, fleet.tls_hostnames())
        context = server_context(files.cert_pem, files.key_pem)
    except (OSError, ValueError) as exc:
        raise CliError(f"--tls: cannot create the test certificates in {tls_dir}: {exc}") from None
    plans.ca_pem = files.ca_pem
    return context


def _restore(name: str, state: Any, path: Path) -> bool:
    """Load DIR/<name>.json if present; the config file and environment are applied on top afterwards."""
    if not path.exists():
        return False
    try:
        snapshot = json.loads(path.read_text(encoding="utf-8"))
        state.restore(snapshot)
    except RecursionError:  # a hostile or corrupt file: nested too deeply to be a state snapshot
        raise CliError(f"cannot restore {name} state from {path}: JSON nested too deeply") from None
    except (OSError, ValueError, KeyError, TypeError, NotImplementedError) as exc:
        raise CliError(f"cannot restore {name} state from {path}: {exc}") from None
    return True
