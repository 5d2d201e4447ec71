"""In-process mode (DESIGN.md §4): `requests` and `httpx` calls to a fake's real host names go into its
Flask app.

    with InProcessRoute(app, ["api.mixpanel.com", "api-eu.mixpanel.com"]):
        requests.post("https://api.mixpanel.com/import", ...)   # answered by the app, no socket
        httpx.post("https://api.mixpanel.com/import", ...)      # so is httpx (sync and async clients)

Host patterns are globs over the host name (`rest.*.braze.com`); any scheme and port match. Method, path,
query, headers and body bytes reach the app unchanged (a gzip body stays gzip). Transport faults become the
exceptions `requests` raises on a real connection: drops → `ConnectionError`, a cut body →
`ChunkedEncodingError`, a hang → `ReadTimeout` (raised at once: nothing sleeps in-process).

`requests` is routed by `responses`, `httpx` by `respx` (both well-kept mocking libraries); a client on
`urllib` or raw sockets is not intercepted and needs server mode. With httpx, the transport faults are the
errors httpx raises: drops → `RemoteProtocolError` (`ReadError` for a reset), a hang → `ReadTimeout`.

Several routes can share one `responses.RequestsMock` (pass `mock=`), which is how both fakes are routed
in one test. Every active route takes part in one process-wide respx router, the newest route first for a
host (as the newest `responses` mock wins); while any is active, an httpx call to a host no route serves
fails at once instead of reaching the network. Loopback URLs pass through, so a test can mix in-process and
server mode.
"""

from __future__ import annotations

import fnmatch
import re
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
import responses
from flask import Flask
from urllib3.exceptions import ProtocolError
from werkzeug.test import EnvironBuilder

from fakes.core import transport

if TYPE_CHECKING:  # httpx and respx are imported when an httpx route is first made
    import httpx
    import respx

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
LOOPBACK_PASSTHRU = (
    re.compile(r"^https?://127\.0\.0\.1(:\d+)?(/|$)"),
    re.compile(r"^https?://localhost(:\d+)?(/|$)"),
    re.compile(r"^https?://\[::1\](:\d+)?(/|$)"),
)


def host_regex(patterns: Iterable[str]) -> re.Pattern[str]:
    """A regex matching `scheme://host[:port][/...]` for any host matching one of the glob patterns."""
    alternatives = []
    for pattern in patterns:
        translated = fnmatch.translate(pattern.lower())  # '(?s:...)\\Z'
        core = translated[len("(?s:"):-len(")\\Z")] if translated.startswith("(?s:") else translated
        core = core.replace(".*", "[^/:?#]*")  # a glob star never crosses into the port or path
        alternatives.append(f"(?:{core})")
    return re.compile(r"^https?://(?:" + "|".join(alternatives) + r")(?::\d+)?(?:[/?#]|$)", re.IGNORECASE)


def call_app(app: Flask, request: requests.PreparedRequest) -> tuple[int, list[tuple[str, str]], bytes]:
    """Run one prepared request through the WSGI app; raise the `requests` exception of a transport fault."""
    body = request.body
    if body is None:
        data = b""
    elif isinstance(body, str):
        data = body.encode("utf-8")
    elif isinstance(body, (bytes, bytearray)):
        data = bytes(body)
    else:  # a file or generator body: read it all, as a socket would carry it
        data = b"".join(chunk if isinstance(chunk, bytes) else str(chunk).encode("utf-8") for chunk in body)
    code, headers, payload, fault = call_wsgi(app, request.method or "GET", request.url or "",
                                              list(request.headers.items()), data)
    if fault is not None:
        _raise_transport_fault(fault, request)
    return code, headers, payload


def call_app_httpx(app: Flask, request: httpx.Request) -> httpx.Response:
    """The same for an `httpx.Request` (respx's side effect): the app's answer as an `httpx.Response`."""
    import httpx

    code, headers, payload, fault = call_wsgi(app, request.method, str(request.url),
                                              list(request.headers.multi_items()), request.read())
    if fault is not None:
        _raise_httpx_fault(fault, request)
    return httpx.Response(code, headers=headers, content=payload)


def call_wsgi(app: Flask, method: str, url: str, headers: list[tuple[str, str]],
              data: bytes) -> tuple[int, list[tuple[str, str]], bytes, transport.TransportFault | None]:
    """One request through the WSGI app, whatever the client library: status, headers, body, and the
    transport fault the app asked for (the caller raises it as its client would see it)."""
    parts = urlsplit(url)
    sent = [(k, v) for k, v in headers if k.lower() != "content-length"]
    content_type = next((v for k, v in sent if k.lower() == "content-type"), None)
    builder = EnvironBuilder(
        path=parts.path or "/",
        base_url=f"{parts.scheme}://{parts.netloc}",
        query_string=parts.query,
        method=method,
        headers=[(k, v) for k, v in sent if k.lower() != "content-type"],
        data=data,
        content_type=content_type,
        environ_base={"REMOTE_ADDR": "127.0.0.1"},  # the client is this process
    )
    try:
        environ = builder.get_environ()
    finally:
        builder.close()
    environ[transport.MODE_KEY] = "in-process"
    started: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started["status"], started["headers"] = status, headers
        return lambda data: None

    app_iter = app(environ, start_response)  # the same environ dict: the app leaves transport faults in it
    try:
        payload = b"".join(app_iter)
    finally:
        close = getattr(app_iter, "close", None)
        if close is not None:
            close()
    code = int(started["status"].split(" ", 1)[0])
    answered = [(k, v) for k, v in started["headers"] if k.lower() != "x-harness-fault"]
    return code, answered, payload, transport.transport_fault(environ)


def _raise_httpx_fault(fault: transport.TransportFault, request: httpx.Request) -> None:
    """The errors httpx raises on a real connection that breaks the same way."""
    import httpx

    why = f"harness fault {fault.rule_id}: {fault.type}"
    if fault.type == "drop_before_response":
        if fault.mode == "rst":
            raise httpx.ReadError(f"[Errno 104] Connection reset by peer ({why})", request=request)
        raise httpx.RemoteProtocolError(f"Server disconnected without sending a response. ({why})", request=request)
    if fault.type == "drop_mid_response":
        raise httpx.RemoteProtocolError(f"peer closed connection without sending complete message body ({why})",
                                        request=request)
    if fault.type == "hang":
        raise httpx.ReadTimeout(f"timed out ({why})", request=request)


def _raise_transport_fault(fault: transport.TransportFault, request: requests.PreparedRequest) -> None:
    why = f"harness fault {fault.rule_id}: {fault.type}"
    if fault.type == "drop_before_response":
        reset = ConnectionResetError(104, "Connection reset by peer") if fault.mode == "rst" else None
        reason = reset or ConnectionAbortedError(f"Remote end closed connection without response ({why})")
        raise requests.exceptions.ConnectionError(ProtocolError("Connection aborted.", reason), request=request)
    if fault.type == "drop_mid_response":
        raise requests.exceptions.ChunkedEncodingError(
            ProtocolError(f"Connection broken: IncompleteRead ({why})"), request=request
        )
    if fault.type == "hang":
        raise requests.exceptions.ReadTimeout(f"Read timed out ({why})", request=request)
    # slow_body: the whole body arrives in-process (nothing sleeps); nothing to raise


class _HttpxRouting:
    """The one respx router of the process and the in-process routes it serves, newest last."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._routes: list[InProcessRoute] = []
        self._router: respx.MockRouter | None = None

    def add(self, route: InProcessRoute) -> None:
        with self._lock:
            if self._router is None:
                self._router = self._new_router()
                self._router.start()
            self._routes.append(route)

    def remove(self, route: InProcessRoute) -> None:
        with self._lock:
            if route in self._routes:
                self._routes.remove(route)
            if not self._routes and self._router is not None:
                self._router.stop()
                self._router = None

    def _new_router(self) -> respx.MockRouter:
        import respx

        router = respx.MockRouter(assert_all_called=False, assert_all_mocked=True)
        for prefix in LOOPBACK_PASSTHRU:
            router.route(url__regex=prefix).pass_through()
        router.route().mock(side_effect=self._dispatch)
        return router

    def _dispatch(self, request: httpx.Request) -> httpx.Response:
        import httpx

        url = str(request.url)
        with self._lock:
            route = next((r for r in reversed(self._routes) if r.url_pattern.match(url)), None)
        if route is None:
            raise httpx.ConnectError(f"harness in-process mode: no fake serves {request.url.host} "
                                     "(not sent: requests leave the process only for loopback)", request=request)
        return call_app_httpx(route.app, request)


_HTTPX = _HttpxRouting()


class InProcessRoute:
    """Routes `requests` calls for `hosts` into `app` while active (a context manager)."""

    def __init__(
        self,
        app: Flask,
        hosts: Iterable[str],
        *,
        mock: responses.RequestsMock | None = None,
        passthru_loopback: bool = True,
    ) -> None:
        self.app = app
        self.hosts = tuple(hosts)
        if not self.hosts:
            raise ValueError("an in-process route needs at least one host pattern")
        self.url_pattern = host_regex(self.hosts)
        self._own_mock = mock is None
        self.mock = mock if mock is not None else responses.RequestsMock(assert_all_requests_are_fired=False)
        self._passthru_loopback = passthru_loopback
        self._registered: list[Any] = []
        self._active = False

    def _callback(self, request: requests.PreparedRequest) -> tuple[int, list[tuple[str, str]], bytes]:
        return call_app(self.app, request)


    def start(self) -> InProcessRoute:
        if self._active:
            return self
        for method in METHODS:
            self._registered.append(
                # responses' stubs want a header mapping, but its CallbackResponse takes a list of pairs as
                # well (and keeps repeated headers such as Set-Cookie, which a mapping would merge)
                self.mock.add_callback(method, self.url_pattern,
                                       callback=self._callback,  # type: ignore[arg-type]
                                       content_type=None)
            )
        if self._passthru_loopback:
            existing = set(map(str, self.mock.passthru_prefixes))
            for prefix in LOOPBACK_PASSTHRU:
                if str(prefix) not in existing:
                    self.mock.add_passthru(prefix)
        _HTTPX.add(self)
        if self._own_mock:
            self.mock.start()
        self._active = True
        return self

    def stop(self) -> None:
        if not self._active:
            return
        for registered in self._registered:
            try:
                self.mock.remove(registered)
            except Exception:  # already reset by its owner
                pass
        self._registered = []
        _HTTPX.remove(self)
        if self._own_mock:
            self.mock.stop()
            self.mock.reset()
        self._active = False

    def __enter__(self) -> InProcessRoute:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
