"""A baseline fake for benchmarks: the core's full request path (journal, masking, fault check) around an
endpoint that only reads and parses the body. Compare a fake's real endpoint against `POST /bare`.

    from fakes.core.baseline import baseline_app
    app = baseline_app()          # POST /bare with a JSON (or gzip JSON) body -> {"status":1,"records":N}
"""

from __future__ import annotations

import gzip
import json
from typing import Any

from flask import Blueprint, Flask, Response, request

from fakes.core.app import create_fake_app, fire_faults
from fakes.core.state import FakeState


class BaselineState(FakeState):
    service = "baseline"


def _blueprint() -> Blueprint:
    bp = Blueprint("baseline", __name__)

    @bp.route("/bare", methods=["GET", "POST"])
    def bare() -> Response:
        raw = request.get_data()
        fire_faults()
        if request.headers.get("Content-Encoding", "").strip().lower() == "gzip":
            raw = gzip.decompress(raw)
        records = 0
        if raw.strip():
            try:
                parsed: Any = json.loads(raw)
            except ValueError:
                return Response('{"status":0,"error":"invalid JSON"}', 400, content_type="application/json")
            records = len(parsed) if isinstance(parsed, list) else 1
        return Response(json.dumps({"status": 1, "records": records}, separators=(",", ":")), 200,
                        content_type="application/json")

    return bp


def baseline_app(state: BaselineState | None = None) -> Flask:
    return create_fake_app(state or BaselineState(), [_blueprint()])


def plain_wsgi_app(environ: dict, start_response: Any) -> list[bytes]:
    """No Flask at all: reads the body and answers a constant (the server's own ceiling)."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if length:
        environ["wsgi.input"].read(length)
    body = b'{"status":1}'
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
