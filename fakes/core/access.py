"""Who may reach a fake (issue 13 item 5): the Host check against DNS rebinding, and the control API's refusal
of browser cross-origin writes.

- A request over a socket is answered only when its `Host` is loopback (`localhost`, `*.localhost`,
  `127.0.0.0/8`, `::1`), a real upstream name the fake serves (its `HOST_PATTERNS` / `TLS_HOSTNAMES`, given to
  `create_fake_app(hosts=...)`, the fleet and `InProcessRoute` add theirs), or a configured name (the core
  setting `server.allowed_hosts`, globs; `harness serve --allow-host`). Otherwise 421 and nothing happens. A
  web page that rebinds its own name to 127.0.0.1 still sends its own name as `Host`, so it is refused.
  In-process requests (`responses`, `call_app`) never cross a socket and are not checked.
- A write to the control API (`/_harness...`, POST/PUT/PATCH/DELETE) is refused (403) when it carries an
  `Origin` that is not loopback (a web page's script: browsers send `Origin` on every cross-origin write), and
  (415) when its Content-Type is one a browser may send cross-origin without a preflight (`text/plain`,
  `application/x-www-form-urlencoded`, `multipart/form-data`): control bodies are JSON.
"""

from __future__ import annotations

import fnmatch
import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import Flask

HOSTS_EXTENSION = "harness_allowed_hosts"
"""Key in `app.extensions` of the set of host globs the app answers besides loopback and configuration."""

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SIMPLE_CONTENT_TYPES = ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data")
"""The Content-Types a browser sends cross-origin without asking first (a CORS "simple request")."""


def allow_hosts(app: Flask, patterns: Iterable[str]) -> None:
    """Let `app` answer these host names (globs, case-insensitive) besides loopback and its configuration."""
    known: set[str] = app.extensions.setdefault(HOSTS_EXTENSION, set())
    known.update(p.lower() for p in patterns if p)


def host_name(host: str) -> str:
    """A `Host` value's name without the port, lower case: `[::1]:80` -> `::1`, `A.Example:443` -> `a.example`."""
    host = host.strip().lower()
    if host.startswith("["):
        end = host.find("]")
        return host[1:end] if end > 0 else host
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


def is_loopback(name: str) -> bool:
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def host_allowed(host: str, patterns: Iterable[str]) -> bool:
    name = host_name(host)
    if not name:
        return False
    return is_loopback(name) or any(fnmatch.fnmatchcase(name, p.lower()) for p in patterns)


def origin_allowed(origin: str) -> bool:
    """An `Origin` of a loopback page (`http://localhost:3000`, `http://127.0.0.1`); `null` is not."""
    try:
        parts = urlsplit(origin.strip())
        name = parts.hostname or ""
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and is_loopback(name.lower())


def refusal(environ: Mapping[str, Any], path: str, method: str, configured: Iterable[str],
            app_hosts: Iterable[str], in_process: bool) -> tuple[int, str] | None:
    """(status, message) when the request must be refused, else None."""
    host = environ.get("HTTP_HOST")
    if host is not None and not in_process and not host_allowed(host, [*app_hosts, *configured]):
        return 421, (f"this fake does not answer the host {host_name(host)!r}: use a loopback address or the real "
                     "host name, or allow it (setting server.allowed_hosts, harness serve --allow-host)")
    if method in WRITE_METHODS and (path == "/_harness" or path.startswith("/_harness/")):
        origin = environ.get("HTTP_ORIGIN")
        if origin is not None and not origin_allowed(origin):
            return 403, f"control API writes are refused from the origin {origin!r} (only loopback pages may write)"
        content_type = (environ.get("CONTENT_TYPE") or "").split(";", 1)[0].strip().lower()
        if content_type in SIMPLE_CONTENT_TYPES:
            return 415, (f"control API bodies are JSON: send Content-Type: application/json, not {content_type} "
                         "(a type browsers send cross-origin)")
    return None
