"""A guard that makes any attempt to reach the network fail loudly: a connection or a name lookup for anything
but loopback (127.0.0.0/8, ::1, localhost) raises `NetworkGuardError`, and the attempt is remembered so a test
that swallowed the exception still fails with one line.

    with NetworkGuard() as guard:
        ...                      # requests to api.mixpanel.com must be answered in-process, or it fails
    guard.violations             # ["api.mixpanel.com:443", ...]

The harness's fakes answer the real host names in-process (through `responses`) and listen on loopback, so a
test that reaches past them is talking to the real Mixpanel or Braze: exactly what must never happen.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from typing import Any

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})


class NetworkGuardError(RuntimeError):
    """Raised where a test tried to reach a non-loopback address (not an OSError: retries must not hide it)."""


def is_loopback(host: Any) -> bool:
    if host is None:
        return True  # getaddrinfo(None, port): the local host
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    text = str(host).strip("[]").lower()
    if text in LOOPBACK_NAMES or text == "":
        return True
    try:
        return ipaddress.ip_address(text.split("%")[0]).is_loopback
    except ValueError:
        return False


class NetworkGuard:
    """Patches `socket` while active; nests, and is safe across threads (one patch, counted)."""

    _lock = threading.Lock()
    _depth = 0
    _saved: dict[str, Any] = {}
    _active: list[NetworkGuard] = []

    def __init__(self) -> None:
        self.violations: list[str] = []

    def __enter__(self) -> NetworkGuard:
        with NetworkGuard._lock:
            if NetworkGuard._depth == 0:
                NetworkGuard._install()
            NetworkGuard._depth += 1
            NetworkGuard._active.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        with NetworkGuard._lock:
            NetworkGuard._active.remove(self)
            NetworkGuard._depth -= 1
            if NetworkGuard._depth == 0:
                NetworkGuard._uninstall()

    @property
    def message(self) -> str:
        first = self.violations[0]
        more = f" (and {len(self.violations) - 1} more)" if len(self.violations) > 1 else ""
        return (f"network guard: the test tried to reach {first}{more}; tests reach only loopback and the fakes "
                "(in-process fakes answer the real Mixpanel and Braze host names)")

    # -- the patch -----------------------------------------------------------------------------------
    @classmethod
    def _refuse(cls, what: str) -> None:
        for guard in cls._active:
            guard.violations.append(what)
        raise NetworkGuardError(f"network guard: refused to reach {what} (only loopback is allowed in tests)")

    @classmethod
    def _install(cls) -> None:
        saved = cls._saved
        saved["connect"] = socket.socket.connect
        saved["connect_ex"] = socket.socket.connect_ex
        saved["getaddrinfo"] = socket.getaddrinfo

        def _address(address: Any) -> tuple[Any, Any]:
            if isinstance(address, tuple) and address:
                return address[0], address[1] if len(address) > 1 else None
            return None, None  # a Unix socket path: local

        def connect(sock: socket.socket, address: Any) -> Any:
            host, port = _address(address)
            if sock.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(host):
                cls._refuse(f"{host}:{port}")
            return saved["connect"](sock, address)

        def connect_ex(sock: socket.socket, address: Any) -> Any:
            host, port = _address(address)
            if sock.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(host):
                cls._refuse(f"{host}:{port}")
            return saved["connect_ex"](sock, address)

        def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
            if not is_loopback(host):
                cls._refuse(f"{host}:{port}")
            return saved["getaddrinfo"](host, port, *args, **kwargs)

        socket.socket.connect = connect  # type: ignore[method-assign,assignment]
        socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]
        socket.getaddrinfo = getaddrinfo

    @classmethod
    def _uninstall(cls) -> None:
        socket.socket.connect = cls._saved["connect"]  # type: ignore[method-assign]
        socket.socket.connect_ex = cls._saved["connect_ex"]  # type: ignore[method-assign]
        socket.getaddrinfo = cls._saved["getaddrinfo"]
