"""Transport adapters: one narrow interface for code that drives a fake (a sync engine, an exporter,
a scenario step) so the same code runs in-process or against a loopback server (braze-cohort-sync.md §2).

    client = InProcessClient(app)                     # through the app's WSGI entry, no socket
    client = LoopbackClient("http://127.0.0.1:8082")  # real HTTP to a server
    status, headers, body = client.post("https://rest.iad-01.braze.com/partners/mixpanel/cohorts", json={...})

Both take the *real* URL: the host (and so the Host header the fake reads, e.g. to pick a Braze cluster or a
Mixpanel region) is kept; `LoopbackClient` only changes where the bytes go. Network faults surface as the
`requests` exceptions (`ConnectionError`, `ChunkedEncodingError`, `Timeout`) in both, so retry logic sees
the same thing either way.
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import requests

from fakes.core.inprocess import call_app

Answer = tuple[int, dict[str, str], bytes]


class FakeClient(Protocol):
    def request(self, method: str, url: str, *, json: Any = None, data: bytes | str | None = None,
                headers: Mapping[str, str] | None = None, timeout: float | None = None) -> Answer: ...

    def post(self, url: str, json: Any = None, **kwargs: Any) -> Answer: ...


def _prepare(
    method: str, url: str, json: Any, data: bytes | str | None, headers: Mapping[str, str] | None
) -> requests.PreparedRequest:
    if json is not None and data is not None:
        raise ValueError("give json or data, not both")
    body = data
    merged = dict(headers or {})
    if json is not None:
        body = jsonlib.dumps(json, separators=(",", ":"))
        merged.setdefault("Content-Type", "application/json")
    return requests.Request(method.upper(), url, data=body, headers=merged).prepare()


class InProcessClient:
    """Sends each request straight into a Flask app (the same wire code as server mode)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def request(self, method: str, url: str, *, json: Any = None, data: bytes | str | None = None,
                headers: Mapping[str, str] | None = None, timeout: float | None = None) -> Answer:
        status, answer_headers, body = call_app(self.app, _prepare(method, url, json, data, headers))
        return status, dict(answer_headers), body

    def post(self, url: str, json: Any = None, **kwargs: Any) -> Answer:
        return self.request("POST", url, json=json, **kwargs)


class LoopbackClient:
    """Real HTTP to a fake's server, addressed by the real URL: scheme/host/port are swapped for `base_url`
    and the original host travels in the Host header."""

    def __init__(self, base_url: str, *, session: requests.Session | None = None, verify: bool | str = True,
                 timeout: float = 30.0) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"not a base URL: {base_url!r}")
        self._scheme, self._netloc = parts.scheme, parts.netloc
        self.session = session or requests.Session()
        self.verify = verify
        self.timeout = timeout

    def request(self, method: str, url: str, *, json: Any = None, data: bytes | str | None = None,
                headers: Mapping[str, str] | None = None, timeout: float | None = None) -> Answer:
        parts = urlsplit(url)
        target = urlunsplit((self._scheme, self._netloc, parts.path or "/", parts.query, ""))
        merged = dict(headers or {})
        if parts.netloc:
            merged.setdefault("Host", parts.netloc)
        prepared = _prepare(method, target, json, data, merged)
        response = self.session.send(prepared, timeout=timeout or self.timeout, verify=self.verify)
        return response.status_code, dict(response.headers), response.content

    def post(self, url: str, json: Any = None, **kwargs: Any) -> Answer:
        return self.request("POST", url, json=json, **kwargs)

    def close(self) -> None:
        self.session.close()
