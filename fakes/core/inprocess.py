"""In-process mode (DESIGN.md §4): `requests` calls to a fake's real host names go into its Flask app.

    with InProcessRoute(app, ["api.mixpanel.com", "api-eu.mixpanel.com"]):
        requests.post("https://api.mixpanel.com/import", ...)   # answered by the app, no socket

Host patterns are globs over the host name (`rest.*.braze.com`); any scheme and port match. Method, path,
query, headers and body bytes reach the app unchanged (a gzip body stays gzip). Transport faults become the
exceptions `requests` raises on a real connection: drops → `ConnectionError`, a cut body →
`ChunkedEncodingError`, a hang → `ReadTimeout` (raised at once: nothing sleeps in-process).

Several routes can share one `responses.RequestsMock` (pass `mock=`), which is how both fakes are routed
in one test. Loopback URLs pass through to the network, so a test can mix in-process and server mode.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import requests
import responses
from flask import Flask
from urllib3.exceptions import ProtocolError
from werkzeug.test import EnvironBuilder

from fakes.core import transport

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
    parts = urlsplit(request.url or "")
    body = request.body
    if body is None:
        data = b""
    elif isinstance(body, str):
        data = body.encode("utf-8")
    elif isinstance(body, (bytes, bytearray)):
        data = bytes(body)
    else:  # a file or generator body: read it all, as a socket would carry it
        data = b"".join(chunk if isinstance(chunk, bytes) else str(chunk).encode("utf-8") for chunk in body)
    headers = [(k, v) for k, v in request.headers.items() if k.lower() not in ("content-length",)]
    content_type = request.headers.get("Content-Type")
    builder = EnvironBuilder(
        path=parts.path or "/",
        base_url=f"{parts.scheme}://{parts.netloc}",
        query_string=parts.query,
        method=request.method or "GET",
        headers=[(k, v) for k, v in headers if k.lower() != "content-type"],
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
    fault = transport.transport_fault(environ)
    if fault is not None:
        _raise_transport_fault(fault, request)
    code = int(started["status"].split(" ", 1)[0])
    headers = [(k, v) for k, v in started["headers"] if k.lower() != "x-harness-fault"]
    return code, headers, payload


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
        if self._own_mock:
            self.mock.stop()
            self.mock.reset()
        self._active = False

    def __enter__(self) -> InProcessRoute:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
