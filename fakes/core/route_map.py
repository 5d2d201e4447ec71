"""What a fake's app serves, read from its URL map: the `GET /_harness` index (one line per control route,
described by the first line of its handler's docstring) and the nearest known routes of an unknown path
(the "near misses" a 404 names)."""

from __future__ import annotations

import re
from difflib import SequenceMatcher

from flask import Flask
from werkzeug.routing import Rule

_CONVERTER = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")  # <path:distinct_id>, <any(us,eu,in):region> -> <name>
_HIDDEN_METHODS = frozenset({"HEAD", "OPTIONS"})


def template(rule: Rule) -> str:
    """The rule as a reader writes it: `/_harness/profiles/<distinct_id>` (`/_harness/` as `/_harness`)."""
    text = _CONVERTER.sub(r"<\1>", rule.rule)
    return text[:-1] if len(text) > 1 and text.endswith("/") else text


def methods(rule: Rule) -> list[str]:
    return sorted((rule.methods or set()) - _HIDDEN_METHODS)


def route_label(rule: Rule) -> str:
    return f"{'|'.join(methods(rule))} {template(rule)}"


def describe(app: Flask, rule: Rule) -> str:
    """The first line of the handler's docstring, or "" when it has none."""
    view = app.view_functions.get(rule.endpoint)
    doc = (view.__doc__ or "").strip() if view is not None else ""
    return " ".join(doc.split("\n\n", 1)[0].split())


def _rules(app: Flask) -> list[Rule]:
    return [r for r in app.url_map.iter_rules() if r.endpoint != "static"]


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


def control_routes(app: Flask, prefix: str) -> list[dict[str, str]]:
    """Every route under `prefix`, sorted by path then method: `{"route": "GET /_harness/health", "doc": ...}`."""
    rules = [r for r in _rules(app) if _under(r.rule, prefix)]
    rules.sort(key=lambda r: (template(r), methods(r)))
    return [{"route": route_label(r), "doc": describe(app, r)} for r in rules]


def near_misses(app: Flask, path: str, control_prefix: str, limit: int = 3) -> list[str]:
    """The `limit` known routes closest to `path` (`GET|POST /import`), best first; the methods of one path
    are named together. A control path (under `control_prefix`) is compared with control routes only, any
    other path with the fake's own routes only.

    Each rule's placeholders are filled with the path's own segments before comparing, so
    `/partners/mixpanel/cohort` is one letter from `/partners/<partner>/cohorts`."""
    path = path[:256]  # the comparison is quadratic in length; a route is far shorter than this
    segments = path.split("/")
    scores: dict[str, float] = {}
    verbs: dict[str, set[str]] = {}
    control = _under(path, control_prefix)
    for rule in _rules(app):
        if _under(rule.rule, control_prefix) != control:
            continue
        shown = template(rule)
        parts = rule.rule.split("/")
        filled = "/".join(segments[i] if part.startswith("<") and i < len(segments) else part
                          for i, part in enumerate(parts))
        score = SequenceMatcher(None, path, filled, autojunk=False).ratio()
        scores[shown] = max(score, scores.get(shown, 0.0))
        verbs.setdefault(shown, set()).update(methods(rule))
    best = sorted(scores, key=lambda shown: (-scores[shown], shown))[:limit]
    return [f"{'|'.join(sorted(verbs[shown]))} {shown}" for shown in best]
