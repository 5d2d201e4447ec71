"""The `/_harness` control blueprint shared by every fake (DESIGN.md §4 control API).

| route | does |
|---|---|
| GET /_harness/health | `{"status": "ok", "service": name}` |
| POST /_harness/reset | clears recorded data, journal, fault rules; keeps config and the shared clock; `{"seed": N}` |
| GET /_harness/requests?limit=N | `{"count", "total", "requests": [...]}` newest last, masked; filters `path` (glob), |
| | (continued) `method`, `status`, `fault` (rule id), `after_id`; DELETE clears it |
| GET/POST/DELETE /_harness/faults, DELETE /_harness/faults/<id> | list / install (one rule or a list) / clear |
| GET/POST /_harness/clock | read; `{"now": epoch}` sets, `{"advance_s": N}` advances, `{"mode": "real"}` resumes |
| GET/PUT /_harness/config | `{"config": {dotted key: value}}`; PUT takes dotted keys or nested objects |
| GET /_harness/config/schema | every key with default, type, choices, bounds and doc |
| GET /_harness | the index: every control route of this fake, one line each (`?format=text`: plain lines) |
| POST /_harness/requests/count, /find | journal entries matching a request pattern (`request_matching.py`) |

A fake adds its own control routes on its own blueprint (url_prefix `/_harness`).
"""

from __future__ import annotations

import fnmatch
import json
import math
from typing import Any

from flask import Blueprint, Response, current_app, request

from fakes.core.clock import ClockError
from fakes.core.config import ConfigError
from fakes.core.context import current_state
from fakes.core.errors import ControlError
from fakes.core.faults import FaultRuleError
from fakes.core.request_matching import PatternError, RequestPattern, parse_pattern
from fakes.core.route_map import control_routes
from fakes.core.state import check_seed

CONTROL_PREFIX = "/_harness"


def json_body(*, required: bool = True, default: Any = None) -> Any:
    """The request's JSON body, or a ControlError (400) saying what is wrong with it."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        if required:
            raise ControlError("a JSON body is required")
        return default
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ControlError(f"the body is not valid JSON: {exc}") from None
    except RecursionError:
        raise ControlError("the body is not usable JSON: nested too deeply") from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def ok(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body, separators=(",", ":")), status, content_type="application/json")


def control_blueprint() -> Blueprint:
    bp = Blueprint("harness_control", __name__, url_prefix=CONTROL_PREFIX)

    @bp.get("/", strict_slashes=False)
    def index() -> Response:
        """This index: every control route of this fake, one line each (`?format=text`: plain text)."""
        fmt = request.args.get("format", "json")
        unknown = sorted(set(request.args) - {"format"})
        if unknown:
            raise ControlError(f"unknown parameter(s) {', '.join(unknown)}; only format is accepted")
        if fmt not in ("json", "text"):
            raise ControlError("format must be json or text")
        state = current_state()
        routes = control_routes(current_app, CONTROL_PREFIX)
        schema = f"{CONTROL_PREFIX}/config/schema"
        if fmt == "text":
            width = max(len(r["route"]) for r in routes)
            lines = [f"{state.service}: control routes (configuration keys: GET {schema})"]
            lines += [f"{r['route'].ljust(width)}  {r['doc']}".rstrip() for r in routes]
            return Response("\n".join(lines) + "\n", 200, content_type="text/plain; charset=utf-8")
        return ok({"service": state.service, "config_schema": schema, "routes": routes})

    @bp.get("/health")
    def health() -> Response:
        """`{"status": "ok", "service": name}`."""
        return ok({"status": "ok", "service": current_state().service})

    @bp.post("/reset")
    def reset() -> Response:
        """Clear recorded data, the journal and fault rules (config and clock kept); `{"seed": N}` reseeds."""
        body = json_body(required=False, default={})
        if not isinstance(body, dict):
            raise ControlError("the reset body must be a JSON object, e.g. {\"seed\": 42}")
        unknown = sorted(set(body) - {"seed"})
        if unknown:
            raise ControlError(f"unknown field(s) {', '.join(unknown)}; only seed is accepted")
        seed = body.get("seed")
        if seed is not None:
            try:
                seed = check_seed(seed)
            except ValueError as exc:
                raise ControlError(str(exc)) from None
        state = current_state()
        state.reset(seed=seed)
        return ok({"status": "ok", "service": state.service, "seed": state.seed})

    @bp.get("/requests")
    def requests_journal() -> Response:
        """The request journal, newest last, masked; `limit`, `path` (glob), `method`, `status`, `fault`, `after_id`."""
        state = current_state()
        args = request.args
        limit = _non_negative_int(args.get("limit"), "limit")
        after_id = _non_negative_int(args.get("after_id"), "after_id")
        status = _non_negative_int(args.get("status"), "status")
        entries = state.journal.entries()
        if after_id is not None:
            entries = [e for e in entries if e["id"] > after_id]
        if args.get("path"):
            entries = [e for e in entries if fnmatch.fnmatchcase(e["path"], args["path"])]
        if args.get("method"):
            entries = [e for e in entries if e["method"] == args["method"].upper()]
        if status is not None:
            entries = [e for e in entries if e.get("status") == status]
        if args.get("fault"):
            entries = [e for e in entries if (e.get("fault") or {}).get("id") == args["fault"]]
        if limit is not None:
            entries = entries[-limit:] if limit else []
        return ok({"count": len(entries), "total": state.journal.total_recorded, "requests": entries})

    @bp.delete("/requests")
    def clear_requests() -> Response:
        """Empty the request journal."""
        current_state().journal.clear()
        return ok({"status": "ok"})

    @bp.post("/requests/count")
    def count_requests() -> Response:
        """How many journal entries match a pattern (method, path, query, headers, body, status): `{"count"}`."""
        pattern, _ = _pattern(())
        return ok({"count": len(pattern.select(current_state().journal.entries()))})

    @bp.post("/requests/find")
    def find_requests() -> Response:
        """The journal entries matching a pattern, oldest first (`"limit": N` keeps the newest N)."""
        pattern, extra = _pattern(("limit",))
        limit = extra.get("limit")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
            raise ControlError("limit: must be a non-negative integer")
        found = pattern.select(current_state().journal.entries())
        if limit is not None:
            found = found[-limit:] if limit else []
        return ok({"count": len(found), "requests": found})

    @bp.get("/faults")
    def list_faults() -> Response:
        """The installed fault rules."""
        return ok({"faults": current_state().faults.rules()})

    @bp.post("/faults")
    def install_faults() -> Response:
        """Install one fault rule or a list (status, rate_limit, latency, drops, slow_body, hang)."""
        state = current_state()
        try:
            rules = state.faults.install(json_body())
        except FaultRuleError as exc:
            raise ControlError(str(exc)) from None
        return ok({"faults": [r.to_json() for r in rules]}, 201)

    @bp.delete("/faults")
    def clear_faults() -> Response:
        """Remove every fault rule."""
        return ok({"status": "ok", "cleared": current_state().faults.clear()})

    @bp.delete("/faults/<rule_id>")
    def remove_fault(rule_id: str) -> Response:
        """Remove one fault rule."""
        if not current_state().faults.remove(rule_id):
            raise ControlError(f"no fault rule with id {rule_id!r}", 404)
        return ok({"status": "ok", "removed": rule_id})

    @bp.get("/clock")
    def get_clock() -> Response:
        """The simulated clock: `{"now", "now_ms", "iso", "mode"}`."""
        return ok(current_state().clock.snapshot())

    @bp.post("/clock")
    def move_clock() -> Response:
        """Set (`{"now": epoch or ISO}`), advance (`{"advance_s": N}`, due actions run) or resume real time."""
        body = json_body()
        if not isinstance(body, dict):
            raise ControlError(
                'the clock body must be a JSON object: {"now": epoch}, {"advance_s": N} or {"mode": "real"}'
            )
        unknown = sorted(set(body) - {"now", "advance_s", "mode"})
        if unknown:
            raise ControlError(f"unknown field(s) {', '.join(unknown)}; use now, advance_s or mode")
        given = [k for k in ("now", "advance_s", "mode") if k in body]
        if len(given) != 1:
            raise ControlError('give exactly one of "now", "advance_s" or "mode"')
        clock = current_state().clock
        try:
            if "now" in body:
                clock.set(_epoch(body["now"]))
            elif "advance_s" in body:
                clock.advance(body["advance_s"])
            elif body["mode"] == "real":
                clock.resume_real_time()
            elif body["mode"] == "frozen":
                clock.set(clock.now())
            else:
                raise ControlError('mode must be "real" or "frozen"')
        except ClockError as exc:
            raise ControlError(str(exc)) from None
        return ok(clock.snapshot())

    @bp.get("/config")
    def get_config() -> Response:
        """Every configuration value by dotted key (secrets masked unless `?reveal=1`)."""
        return ok({"config": _config_view(current_state())})

    @bp.put("/config")
    def put_config() -> Response:
        """Change configuration (dotted keys or nested objects), all checked before any is applied."""
        state = current_state()
        try:
            changed = state.update_config(json_body())
        except ConfigError as exc:
            raise ControlError(str(exc)) from None
        return ok({"config": _config_view(state), "changed": changed})

    @bp.get("/config/schema")
    def config_schema() -> Response:
        """Every configuration key with its type, default, choices, bounds and doc."""
        return ok({"settings": current_state().config.describe()})

    return bp


def _pattern(extra_keys: tuple[str, ...]) -> tuple[RequestPattern, dict[str, Any]]:
    try:
        return parse_pattern(json_body(required=False, default={}), extra_keys=extra_keys)
    except PatternError as exc:
        raise ControlError(str(exc)) from None


def _config_view(state: Any) -> dict[str, Any]:
    """The configuration, its secrets masked (by field name, e.g. `braze.partner_api_key` or a project's
    `api_secret`, and by value) unless the caller asks for them with `?reveal=1`."""
    values = state.config.as_dict()
    if request.args.get("reveal") == "1":
        return values
    masker = state.masker
    known = masker.current_values()
    return {key: masker.mask_value(value, key.rsplit(".", 1)[-1], known) for key, value in values.items()}


MAX_QUERY_DIGITS = 18


def _non_negative_int(raw: str | None, name: str) -> int | None:
    """A query value of ASCII digits (str.isdigit also takes "²" and other scripts' digits), at most 18."""
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > MAX_QUERY_DIGITS:
        raise ControlError(f"{name} must be a non-negative integer of at most {MAX_QUERY_DIGITS} digits")
    return int(raw)


def _epoch(value: Any) -> float:
    """`now` as epoch seconds; an ISO-8601 string is accepted too."""
    if isinstance(value, str):
        from datetime import datetime, timezone

        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ControlError("now must be epoch seconds or an ISO-8601 time") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        return parsed.timestamp()
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ControlError("now must be epoch seconds (a number) or an ISO-8601 time")
    return float(value)
