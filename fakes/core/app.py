"""Building a fake's Flask app around its state: journalling, fault firing, error handling.

    app = create_fake_app(state, [my_blueprint], http_error_response=my_404_405)

Every request outside `/_harness` gets one journal entry (masked). Handlers call `annotate(...)` to add
fake-specific fields and `fire_faults(...)` once, at the point the fake chooses, to apply fault rules.
An exception a handler lets escape is journalled and answered with a JSON 500 naming it (a bug in the fake,
made visible rather than hidden).
"""

from __future__ import annotations

import json
import logging
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException

from fakes.core import transport
from fakes.core.access import HOSTS_EXTENSION, allow_hosts, refusal
from fakes.core.body_limit import DECLARED_KEY
from fakes.core.context import STATE_EXTENSION, annotate, bind_state, current_state
from fakes.core.control import CONTROL_PREFIX, control_blueprint
from fakes.core.durable import StateNotSaved
from fakes.core.errors import ControlError
from fakes.core.faults import FaultDecision
from fakes.core.masking import SecretMasker
from fakes.core.route_map import near_misses
from fakes.core.state import FakeState

__all__ = [  # annotate, current_state and STATE_EXTENSION live in fakes.core.context; re-exported here
    "STATE_EXTENSION",
    "FaultFired",
    "HttpErrorRenderer",
    "NEAR_MISSES_HEADER",
    "annotate",
    "create_fake_app",
    "current_state",
    "fire_faults",
    "journal_text",
    "render_fault",
]

log = logging.getLogger("fakes.core")

NEAR_MISSES_HEADER = "X-Harness-Near-Misses"
"""On a 404 for a path no route knows: the nearest known routes, `GET|POST /import, POST /track`."""

HttpErrorRenderer = Callable[[HTTPException], "Response | tuple | None"]
"""Renders 404/405/... for the fake's own paths; returning None falls back to the core's JSON body."""


class FaultFired(Exception):
    """Raised by `fire_faults` to end the handler and answer with the fault (no processing)."""

    def __init__(self, decision: FaultDecision) -> None:
        super().__init__(decision.rule_id)
        self.decision = decision


def create_fake_app(
    state: FakeState,
    blueprints: Iterable[Blueprint] = (),
    *,
    import_name: str | None = None,
    http_error_response: HttpErrorRenderer | None = None,
    hosts: Iterable[str] = (),
) -> Flask:
    """`hosts`: the real upstream host names (globs) the fake serves, answered besides loopback and the
    names configured in `server.allowed_hosts` (fakes/core/access.py)."""
    app = Flask(import_name or f"fakes.{state.service}")
    bind_state(app, state)
    allow_hosts(app, hosts)
    app.config["MAX_CONTENT_LENGTH"] = None  # limits are the fake's business (e.g. Mixpanel's 413 body)
    if isinstance(app.json, DefaultJSONProvider):
        app.json.sort_keys = False  # answers keep the key order the fake (or the spec) gives
    app.register_blueprint(control_blueprint())
    for bp in blueprints:
        app.register_blueprint(bp)

    app.before_request(_check_access)  # first: a refused request is neither journalled nor handled
    app.before_request(_begin_request)
    app.after_request(_finish_request)

    @app.errorhandler(FaultFired)
    def _fault_fired(exc: FaultFired) -> Response:
        return render_fault(exc.decision, None)

    @app.errorhandler(ControlError)
    def _control_error(exc: ControlError) -> Response:
        return _json_response(exc.body(), exc.status)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        # A path no route knows: name the nearest known routes ("near misses"), in a header on every such
        # 404 (a fake's own 404 body, fixed by its spec, stays as it is) and in the core's JSON body.
        unknown_path = exc.code == 404 and request.url_rule is None
        near = near_misses(app, request.path, CONTROL_PREFIX) if unknown_path else []
        if not request.path.startswith(CONTROL_PREFIX) and http_error_response is not None:
            rendered = http_error_response(exc)
            if rendered is not None:
                response = app.make_response(rendered)
                if near:
                    response.headers[NEAR_MISSES_HEADER] = ", ".join(near)
                return response
        body: dict[str, Any] = {"error": exc.name, "status": exc.code}
        if unknown_path:
            body["near_misses"] = near
            if request.path.startswith(CONTROL_PREFIX):
                body["index"] = f"GET {CONTROL_PREFIX} lists every control route"
        response = _json_response(body, exc.code or 500)
        if near:
            response.headers[NEAR_MISSES_HEADER] = ", ".join(near)
        valid_methods = getattr(exc, "valid_methods", None)  # set on MethodNotAllowed
        if exc.code == 405 and valid_methods:
            response.headers["Allow"] = ", ".join(valid_methods)
        return response

    @app.errorhandler(Exception)
    def _unhandled(exc: Exception) -> Response:
        if isinstance(exc, HTTPException):  # pragma: no cover - routed above
            return _http_error(exc)
        masker = state.masker  # stderr is a journal too: the path and the exception may hold a secret
        log.error("unhandled exception in fake %s on %s %s\n%s", state.service, request.method,
                  masker.mask_text(request.path), masker.mask_text(traceback.format_exc()))
        detail = masker.mask_text(f"{type(exc).__name__}: {exc}") or type(exc).__name__
        entry = g.get("harness_entry")
        if entry is not None:
            entry["error"] = detail
        return _json_response({"error": "internal error in the fake (a harness bug)", "detail": detail}, 500)

    return app


# -- access ------------------------------------------------------------------------------------------
def _check_access() -> Response | None:
    req = request._get_current_object()  # type: ignore[attr-defined]  # a LocalProxy (see _begin_request)
    environ = req.environ
    state = current_state()
    refused = refusal(environ, req.path, req.method, state.config["server.allowed_hosts"],
                      current_app.extensions.get(HOSTS_EXTENSION, ()),
                      in_process=environ.get(transport.MODE_KEY) == "in-process")
    if refused is None:
        return None
    status, message = refused
    return _json_response({"error": message, "status": status}, status)


# -- journalling --------------------------------------------------------------------------------------
def _begin_request() -> None:
    # Read the whole body now: it is then read before every answer, whatever the handler does, and the
    # form/JSON parsers reuse the cached bytes. Handlers must use request.get_data(), not request.stream.
    # one proxy lookup instead of one per attribute (hot path); flask types `request` as the Request it
    # stands for, but it is a werkzeug LocalProxy, which has _get_current_object
    req = request._get_current_object()  # type: ignore[attr-defined]
    ctx = g._get_current_object()
    body = req.get_data(cache=True)
    ctx.harness_fault = None
    ctx.harness_started = time.perf_counter()
    if req.path.startswith(CONTROL_PREFIX):
        ctx.harness_entry = None
        return
    state = current_state()
    masker = state.masker
    headers = req.headers
    entry: dict[str, Any] = {
        "id": state.journal.next_id(),
        "at": state.clock.now(),
        "method": req.method,
        "path": masker.mask_text(req.path) or req.path,  # a key in the path (/partners/<key>/...) is a secret too
        "query": masker.mask_query(req.args.items(multi=True)),
        "headers": masker.mask_headers(list(headers.items())),
        "remote_addr": req.remote_addr,
        "body_bytes": req.environ.get(DECLARED_KEY, len(body)),
    }
    if DECLARED_KEY in req.environ:
        entry["body_note"] = "over the size limit: refused before it was read"
    entry.update(_body_view(body, headers.get("Content-Encoding"), masker, state.config["journal.max_body_chars"]))
    ctx.harness_entry = entry
    ctx.harness_annotations = {}


def _body_view(body: bytes, encoding: str | None, masker: SecretMasker, max_chars: int) -> dict[str, Any]:
    if not body:
        return {"body": ""}
    if encoding and encoding.strip().lower() not in ("identity", ""):
        return {"body": None, "body_note": f"{encoding.strip()}-encoded, not shown"}
    text, truncated = journal_text(body, masker, max_chars)
    return {"body_truncated": True, "body": text} if truncated else {"body": text}


def journal_text(data: bytes, masker: SecretMasker, max_chars: int) -> tuple[str, bool]:
    """`(masked text, truncated)` of a body as the journal keeps it: at most `max_chars` characters.

    Only the bytes that can reach the journal are decoded and masked: a UTF-8 character takes at most
    four bytes, so the `window` characters `mask_capped` reads lie in the first `4 * window + 4` bytes
    (a character the byte cut splits decodes past them). Undecodable bytes show as U+FFFD."""
    limit = 4 * masker.window_chars(max_chars) + 4
    text = (data if len(data) <= limit else data[:limit]).decode("utf-8", errors="replace")
    return masker.mask_capped(text, max_chars)


def _finish_request(response: Response) -> Response:
    try:  # with --state-dir: this request's changes are on disk before its answer leaves
        current_state().commit_changes()
    except StateNotSaved as exc:
        log.error("%s", exc)
        response = _json_response({"error": "the fake could not save this change", "detail": str(exc)}, 503)
    ctx = g._get_current_object()
    decision: FaultDecision | None = getattr(ctx, "harness_fault", None)
    if decision is not None and not getattr(ctx, "harness_fault_rendered", False):
        # ingest:true (and latency): the request was processed; now the fault answers instead
        response = render_fault(decision, response)
    _ensure_content_length(response)
    entry = getattr(ctx, "harness_entry", None)
    if entry is None:
        return response
    state = current_state()
    masker = state.masker
    annotations = getattr(ctx, "harness_annotations", None)
    if annotations:
        values, max_depth = masker.current_values(), state.config["journal.max_depth"]
        # each annotated field counts its own depth: payload=[...] shows journal.max_depth levels
        entry.update({k: masker.mask_value(v, k, values, max_depth=max_depth) for k, v in annotations.items()})
    fault = transport.transport_fault(request.environ)
    dropped = fault is not None and fault.type in ("drop_before_response", "hang")
    entry["status"] = None if dropped else response.status_code
    if fault is not None:
        entry["transport_fault"] = fault.type
    entry["response_content_type"] = response.headers.get("Content-Type")
    entry["fault"] = decision.journal_view() if decision is not None else None
    if dropped:
        entry["response_body"] = None  # nothing was sent
    elif not response.is_streamed:
        text, truncated = journal_text(response.get_data(), masker, state.config["journal.max_body_chars"])
        if truncated:
            entry["response_truncated"] = True
        entry["response_body"] = text
    entry["duration_ms"] = round((time.perf_counter() - getattr(ctx, "harness_started", time.perf_counter())) * 1000, 3)
    state.journal.append(entry)
    return response


def _ensure_content_length(response: Response) -> None:
    # Every answer carries Content-Length (mixpanel-ingestion.md §2.3): no chunked responses.
    if not response.is_streamed and "Content-Length" not in response.headers:
        response.headers["Content-Length"] = str(len(response.get_data()))


# -- faults -------------------------------------------------------------------------------------------
def fire_faults(*, stage: str | None = None, **attrs: Any) -> FaultDecision | None:
    """Apply the fault rules to this request at the point the fake calls it.

    The core supplies `path`, `method`, `host` and `user_agent`; `attrs` adds the fake's fields (declared
    in its state's `fault_match_fields`). When a rule fires:
    - its `delay_ms` is slept here (real time: latency is what is being tested);
    - without `ingest` this raises, and the request is answered with the fault at once;
    - with `ingest: true` (and for `latency`, and `slow_body` without a `body`) this returns the decision:
      the fake processes the request as usual and the fault then replaces (or, for latency and such a
      slow_body, keeps) the answer.
    Only one fault fires per request: later calls return None.
    """
    ctx = g._get_current_object()
    if getattr(ctx, "harness_fault", None) is not None:
        return None
    checked = getattr(ctx, "harness_faults_checked_stages", None)
    if checked is None:
        checked = ctx.harness_faults_checked_stages = set()
    if stage in checked:
        return None
    checked.add(stage)
    state = current_state()
    if not state.faults.has_rules:
        return None  # the common case: no rules, nothing to count
    req = request._get_current_object()  # type: ignore[attr-defined]  # a LocalProxy (see _begin_request)
    full = {
        "path": req.path,
        "method": req.method,
        "host": req.host,
        "user_agent": req.headers.get("User-Agent", ""),
    }
    full.update({k: v for k, v in attrs.items() if v is not None})
    decision = state.faults.check(full, stage=stage, now=state.clock.now())
    if decision is None:
        return None
    ctx.harness_fault = decision
    if decision.action.delay_ms:
        transport.wait(req.environ, decision.action.delay_ms / 1000)
    if decision.ingest or answers_normally(decision.action):
        return decision
    raise FaultFired(decision)


def answers_normally(action: Any) -> bool:
    """The fault delivers the fake's own answer, so the request is processed as usual: `latency`, and a
    `slow_body` without a body of its own (it trickles the answer the endpoint gives, never an empty one)."""
    return action.type == "latency" or (action.type == "slow_body" and not action.has_body)


def render_fault(decision: FaultDecision, normal: Response | None) -> Response:
    """The answer a fired rule gives; `normal` is the fake's own answer when the request was processed."""
    g.harness_fault_rendered = True
    action = decision.action
    kind = action.type
    if kind == "latency":
        return normal if normal is not None else Response(b"", 204)
    if kind == "rate_limit":
        status, headers, body = current_state().rate_limit_fault_response()
        response = Response(body.encode("utf-8") if isinstance(body, str) else body, status)
        for name, value in headers.items():
            response.headers[name] = value
        if action.retry_after_s is not None:
            ra = action.retry_after_s
            response.headers["Retry-After"] = str(int(ra)) if float(ra).is_integer() else str(ra)
    elif kind in ("drop_before_response", "hang"):
        response = Response(b"", 502, content_type="text/plain")
    elif kind == "status" or action.has_body or normal is None:
        # a status fault always answers its own status and body ("" when none is given)
        response = _action_response(action)
    else:
        response = normal
    for name, value in action.headers:
        response.headers[name] = value
    if kind in ("drop_before_response", "drop_mid_response", "slow_body", "hang"):
        sent = None
        if kind == "drop_mid_response":
            length = len(response.get_data())
            if length == 0:  # nothing to cut: give the client a body to lose half of
                response.set_data(b'{"harness":"partial response"}')
                length = len(response.get_data())
            sent = action.sent_bytes if action.sent_bytes is not None else length // 2
            sent = min(sent, length - 1)  # always incomplete
        request.environ[transport.ENVIRON_KEY] = transport.TransportFault(
            type=kind, rule_id=decision.rule_id, mode=action.mode, sent_bytes=sent,
            bytes_per_s=action.bytes_per_s, max_hang_ms=action.max_hang_ms,
        )
        response.headers["X-Harness-Fault"] = decision.rule_id  # seen only where drops cannot be done
    return response


def _action_response(action: Any) -> Response:
    body = action.body if action.has_body else ""
    if isinstance(body, str):
        data = body.encode("utf-8")
        content_type = action.content_type or "text/plain; charset=utf-8"
    else:
        data = json.dumps(body, separators=(",", ":")).encode("utf-8")
        content_type = action.content_type or "application/json"
    response = Response(data, action.status or 200)
    response.headers["Content-Type"] = content_type
    return response


def _json_response(body: Mapping[str, Any], status: int) -> Response:
    return Response(json.dumps(body, separators=(",", ":")), status, content_type="application/json")
