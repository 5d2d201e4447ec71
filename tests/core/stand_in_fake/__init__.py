"""A tiny fake that follows the plug-in convention (fakes/core/README.md), used to test the core,
the registry, `harness serve` and the pytest plugin without the real fakes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flask import Blueprint, Flask, Response, request
from werkzeug.exceptions import HTTPException

from fakes.core import FakeState, Setting, SimulatedClock, annotate, create_fake_app, current_state, fire_faults, ok

HOST_PATTERNS = ("api.standin.test", "rest.*.standin.test")
AUTH_HEADERS = {"Authorization": "Bearer standin-token"}
"""Headers the stand-in accepts on /ingest."""


class StandInState(FakeState):
    service = "standin"
    settings = (
        Setting("auth.token", "standin-token", str, doc="the one accepted token"),
        Setting("answer.mode", "json", str, choices=("json", "bare")),
        Setting("limits.max_items", 10, int, minimum=1),
        Setting("limits.ratio", 0.5, float, minimum=0, maximum=1),
        Setting("retry_after_s", None, (int, type(None))),
        Setting("tls.cert", None, (str, type(None))),
        Setting("tls.key", None, (str, type(None))),
        Setting("tls.port", None, (int, type(None))),
    )
    fault_match_fields = ("project_id",)
    fault_stages = ("after_body", "before_auth")
    secret_fields = ("api_secret", "token")

    def __init__(self, config: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self.items: list[Any] = []

    def reset_data(self) -> None:
        self.items = []

    def secret_values(self) -> Iterable[str]:
        return (self.config["auth.token"],)

    def rate_limit_fault_response(self):
        return 429, {"Content-Type": "application/json"}, '{"error":"Too many requests","status":0}'

    def snapshot_data(self) -> Any:
        return {"items": list(self.items)}

    def restore_data(self, data: Any) -> None:
        self.items = list(data["items"])


bp = Blueprint("standin", __name__)


@bp.route("/ingest", methods=["POST", "GET"])
def ingest() -> Response:
    state: StandInState = current_state()
    fire_faults(stage="before_auth", project_id=request.args.get("project_id"))
    if request.headers.get("Authorization") != f"Bearer {state.config['auth.token']}":
        return Response('{"error":"unauthorized"}', 401, content_type="application/json")
    fire_faults(project_id=request.args.get("project_id"))
    payload = request.get_json(silent=True)
    with state.lock:
        state.items.append(payload)
        count = len(state.items)
    annotate(payload=payload, stored=count)
    return ok({"stored": count})


@bp.get("/boom")
def boom() -> Response:
    raise RuntimeError("deliberate")


@bp.get("/_harness/items")
def items() -> Response:
    state: StandInState = current_state()
    with state.lock:
        return ok({"items": list(state.items)})


def _errors(exc: HTTPException):
    if exc.code == 405:
        return Response(b"", 405)
    return None


def new_state(config: Mapping[str, Any] | None = None, *, clock: SimulatedClock | None = None, seed: int | str = 0) -> StandInState:
    return StandInState(config, clock=clock, seed=seed)


def create_app(state: StandInState | None = None, config: Mapping[str, Any] | None = None) -> Flask:
    return create_fake_app(state or new_state(config), [bp], http_error_response=_errors, hosts=HOST_PATTERNS)
