"""Server mode over real loopback HTTP (mixpanel-ingestion.md §2.3, §3, §5): every body dialect, malformed
and hostile bodies answered quickly with bounded memory, pipelining, and the server keeps serving."""

from __future__ import annotations

import base64
import functools
import gzip
import json
import socket
import time
import tracemalloc
import zlib

import pytest
import requests
from mpkit import NOW, SECRET_AUTH, TOKEN, event

from fakes.core import FakeServer

STRICT = {"strict": "1"}


@pytest.fixture
def base(app):
    with FakeServer(app, name="mixpanel") as srv:
        yield srv.base_url


def post(base, path, data, headers=None, params=None):
    return requests.post(base + path, data=data, headers=headers or {}, params=params, timeout=30)


def test_dialects_json_ndjson_gzip_form_base64(base):
    """§3 R3/R4/R6: JSON array, NDJSON, gzip, form and base64 bodies all import."""
    h = {**SECRET_AUTH, "Content-Type": "application/json"}
    assert post(base, "/import", json.dumps([event(n=0)]), h, STRICT).json()["num_records_imported"] == 1
    nd = "\n".join(json.dumps(event(n=i)) for i in (1, 2))
    assert post(base, "/import", nd, h, STRICT).json()["num_records_imported"] == 2
    gzh = {**h, "Content-Encoding": "gzip"}
    assert post(base, "/import", gzip.compress(json.dumps([event(n=3)]).encode()), gzh, STRICT).status_code == 200
    form = {"data": json.dumps([event(n=4)]), "strict": "1"}
    assert post(base, "/import", form, SECRET_AUTH).json()["num_records_imported"] == 1
    b64 = {"data": base64.b64encode(json.dumps([event(n=5)]).encode()).decode(), "strict": "1"}
    assert post(base, "/import", b64, SECRET_AUTH).json()["num_records_imported"] == 1
    assert requests.get(base + "/_harness/events", timeout=5).json()["count"] == 6


@functools.lru_cache(maxsize=1)
def gzip_bomb() -> bytes:
    """200 MiB of JSON whitespace, gzipped once (about 200 KiB)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = b" " * (1 << 20)
    return packer.compress(b"[") + b"".join(packer.compress(chunk) for _ in range(200)) + packer.compress(b"]") + \
        packer.flush()


@functools.lru_cache(maxsize=1)
def hostile_bodies():
    deep = b"[" * 100_000 + b"]" * 100_000
    return {
        "broken json": (b"[{\"event\": ", {}, 400),
        "wrong types": (json.dumps([{"event": 5, "properties": "x"}]).encode(), {}, 400),
        "empty": (b"", {}, 400),
        "invalid base64": (b"data=%%%not-base64%%%", {"Content-Type": "application/x-www-form-urlencoded"}, 400),
        "invalid gzip": (b"\x1f\x8b\x08garbage", {"Content-Encoding": "gzip"}, 400),
        "oversized": (b"[" + b" " * (10485760 + 10) + b"]", {}, 413),
        "2001 events": (json.dumps([event(n=i) for i in range(2001)]).encode(), {}, 400),
        "non-utf8": (b'[{"event":"e","properties":{"time":1,"x":"\xff"}}]', {}, 400),
        "absurd nesting": (deep, {}, 400),
        "gzip bomb": (gzip_bomb(), {"Content-Encoding": "gzip"}, 413),
    }


@pytest.mark.parametrize("name", list(hostile_bodies()))
def test_malformed_bodies_get_documented_answer_and_server_keeps_serving(base, name):
    """§3, §5.2, §5.4: each hostile body gets its documented 4xx JSON answer quickly; the next request works."""
    body, headers, status = hostile_bodies()[name]
    started = time.monotonic()
    resp = post(base, "/import", body, {**SECRET_AUTH, "Content-Type": "application/json", **headers}, STRICT)
    elapsed = time.monotonic() - started
    assert resp.status_code == status, resp.text
    assert resp.headers["Content-Type"] == "application/json" and resp.json()["code"] == status
    assert elapsed < 20  # generous: the machine is shared; a bomb is never fully inflated
    ok = post(base, "/import", json.dumps([event(n=9)]), {**SECRET_AUTH, "Content-Type": "application/json"}, STRICT)
    assert ok.status_code == 200


def test_gzip_bomb_memory_stays_bounded(state):
    """§3 R7: decoding a 200 MB gzip bomb allocates about the limit, not the inflated size."""
    from fakes.mixpanel.ingest import IngestRequest
    bomb = gzip_bomb()
    tracemalloc.start()
    answer = state.model.handle(IngestRequest("import", query=STRICT, body=bomb,
                                              headers={"authorization": SECRET_AUTH["Authorization"],
                                                       "content-encoding": "gzip"})).answer
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert answer.status == 413
    assert peak < 40 * 1024 * 1024


def test_track_engage_keep_200_for_bad_data_over_http(base):
    """§6–8: data problems on /track, /engage, /groups are HTTP 200 `0`."""
    for path in ("/track", "/engage", "/groups"):
        resp = post(base, path, b"{{{", {"Content-Type": "application/json"})
        assert (resp.status_code, resp.content) == (200, b"0")


def _raw(port: int, payload: bytes, expect: int, timeout: float = 10) -> list[tuple[int, bytes]]:
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        sock.sendall(payload)
        fp = sock.makefile("rb")
        out = []
        for _ in range(expect):
            status = int(fp.readline().split()[1])
            length = 0
            while True:
                line = fp.readline()
                if line in (b"\r\n", b""):
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            out.append((status, fp.read(length)))
        return out
    finally:
        sock.close()


def test_2_3_twenty_pipelined_requests_answered_in_order(app):
    """§2.3: 20 pipelined requests on one connection, answered in order, each with Content-Length."""
    with FakeServer(app, name="mixpanel") as srv:
        reqs = b""
        for i in range(20):
            body = json.dumps([event(n=i)]).encode() if i % 2 == 0 else b"[]"
            reqs += (f"POST /import?strict=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     f"Authorization: {SECRET_AUTH['Authorization']}\r\n"
                     f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
        answers = _raw(srv.port, reqs, 20)
        assert [status for status, _ in answers] == [200 if i % 2 == 0 else 400 for i in range(20)]
        assert answers[0][1] == b'{"code":200,"num_records_imported":1,"status":"OK"}'


def test_2_3_body_fully_read_before_401_on_pipelined_connection(app):
    """§2.3: a 401 still reads the body, so the next pipelined request is intact."""
    with FakeServer(app, name="mixpanel") as srv:
        body = json.dumps([event()]).encode()
        first = (f"POST /import HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                 f"Content-Length: {len(body)}\r\n\r\n").encode() + body
        second = b"GET /_harness/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        answers = _raw(srv.port, first + second, 2)
        assert answers[0][0] == 401 and answers[1] == (200, b'{"status":"ok","service":"mixpanel"}')


def test_track_form_and_get_over_http(base):
    """§6 / §12.3: POST form (Python SDK) and GET with base64 query data (Node SDK single call)."""
    ev = {"event": "e", "properties": {"token": TOKEN, "distinct_id": "h", "time": NOW}}
    assert post(base, "/track", {"data": json.dumps(ev), "verbose": "1"}).json() == {"error": None, "status": 1}
    resp = requests.get(base + "/track", params={"data": base64.b64encode(json.dumps(ev).encode()).decode(),
                                                 "verbose": "0"}, timeout=5)
    assert resp.content == b"1"
