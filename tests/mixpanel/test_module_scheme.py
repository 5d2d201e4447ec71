"""Issue 8 / STYLE.md "Examples to follow": fake Mixpanel has fake Braze's file scheme, its wire and its model
do not mix, nothing inside it imports the state back (import cycles anywhere: tests/architecture), the
endpoint list is written once,
configuration is a typed snapshot and every documented error text is written once (fakes/mixpanel/README.md)."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

import fakes.braze
import fakes.mixpanel
from fakes.mixpanel import create_app, errors, new_state
from fakes.mixpanel.config import DEFAULTS, MixpanelConfig, attribute_name
from fakes.mixpanel.model import ENDPOINTS, LOOKUP_TABLES

PACKAGE = "fakes.mixpanel"
FOLDER = Path(fakes.mixpanel.__file__).parent
WIRE = {"__init__", "app", "routes", "control"}  # everything else is the model: plain Python, no Flask
# Names of the shared core that belong to the wire (Flask apps, requests, servers).
CORE_WIRE_NAMES = {"annotate", "current_state", "fire_faults", "create_fake_app", "render_fault", "json_body", "ok",
                   "FaultFired", "CONTROL_PREFIX", "InProcessRoute", "InProcessClient", "LoopbackClient",
                   "FakeServer", "call_app"}


def _modules() -> dict[str, ast.Module]:
    return {path.stem: ast.parse(path.read_text(encoding="utf-8")) for path in sorted(FOLDER.glob("*.py"))}


def _imports(tree: ast.Module) -> set[tuple[str, str | None]]:
    """(module, imported name or None) for every import, relative ones resolved, TYPE_CHECKING ones included."""
    found: set[tuple[str, str | None]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {(alias.name, None) for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            relative = f"{PACKAGE}.{node.module}" if node.module else PACKAGE
            base = relative if node.level else (node.module or "")
            for alias in node.names:
                found.add((base, alias.name))
                if node.level and node.module is None:  # `from . import answers` imports a module
                    found.add((f"{PACKAGE}.{alias.name}", None))
    return found


def _imported_modules(tree: ast.Module) -> set[str]:
    return {module for module, _ in _imports(tree)}


def test_only_the_app_imports_the_state():
    """Issue 8: handlers and model never import `MixpanelState` back; only the app factory builds it."""
    importers = {name for name, tree in _modules().items() if f"{PACKAGE}.state" in _imported_modules(tree)}
    assert importers <= {"app", "__init__"}, importers


def test_the_model_never_sees_the_wire():
    """STYLE.md: the model is plain Python (no Flask, no request, no wire module of the fake or the core)."""
    for name, tree in _modules().items():
        if name in WIRE:
            continue
        for module, imported in _imports(tree):
            assert module.split(".")[0] not in ("flask", "werkzeug"), (name, module)
            assert module not in {f"{PACKAGE}.{w}" for w in WIRE - {"__init__"}}, (name, module)
            assert module != PACKAGE or imported is None or imported not in WIRE, (name, module, imported)
            if module.startswith("fakes.core"):
                assert module in ("fakes.core", "fakes.core.config", "fakes.core.clock", "fakes.core.errors",
                                  "fakes.core.state"), (name, module)
                assert imported not in CORE_WIRE_NAMES, (name, imported)


def test_the_routes_serve_the_model_endpoint_table():
    """§2.2: each endpoint of `ENDPOINTS` (the one list) at `/<name>` and under a region prefix; nothing else."""
    rules = {rule.rule for rule in create_app().url_map.iter_rules() if rule.endpoint.startswith("mixpanel_ingest.")}
    expected = {f"/{e}" for e in ENDPOINTS} | {f"/<any(us,eu,in):region>/{e}" for e in ENDPOINTS}
    assert rules == expected | {f"/{LOOKUP_TABLES}", f"/{LOOKUP_TABLES}/<table_id>"}
    assert set(ENDPOINTS) == {"import", "track", "engage", "groups"}


def test_same_file_scheme_as_fake_braze():
    """Issue 8: a reader who knows fakes/braze/ finds each part of fakes/mixpanel/ at the same place."""
    braze = Path(fakes.braze.__file__).parent
    for name in ("__init__.py", "app.py", "routes.py", "control.py", "model.py", "state.py", "errors.py", "config.py",
                 "README.md"):
        assert (FOLDER / name).is_file() and (braze / name).is_file(), name
    readme = (FOLDER / "README.md").read_text(encoding="utf-8")
    missing = [p.name for p in FOLDER.glob("*.py") if p.name != "__init__.py" and f"`{p.name}`" not in readme]
    assert not missing, f"modules missing from fakes/mixpanel/README.md: {missing}"


def test_config_is_a_frozen_snapshot_taken_once_per_change():
    """Request code reads `MixpanelConfig` attributes; the snapshot changes only when the configuration does."""
    assert {f.name for f in dataclasses.fields(MixpanelConfig)} == {attribute_name(k) for k in DEFAULTS}
    state = new_state()
    client = create_app(state).test_client()
    before = state.model.settings
    client.post("/track", json=[{"event": "e", "properties": {"token": "harness-token", "distinct_id": "u"}}])
    assert state.model.settings is before
    with pytest.raises(dataclasses.FrozenInstanceError):
        before.import_max_batch_records = 1  # type: ignore[misc]  # frozen: the very thing tested
    state.update_config({"import.max_batch_records": 7})
    assert state.model.settings is not before and state.model.settings.import_max_batch_records == 7
    assert state.model.context.config is state.model.settings


def test_stats_count_each_request_once(client, state):
    """§14: one request, one stats row; a fault that lets the request through adds its own row (§13)."""
    client.post("/_harness/faults", json={"match": {"endpoint": "track"}, "times": 1, "ingest": True,
                                          "action": {"type": "status", "status": 503}})
    body = [{"event": "e", "properties": {"token": "harness-token", "distinct_id": "u"}}]
    assert client.post("/track", json=body).status_code == 503
    assert client.post("/track", json=body).status_code == 200
    totals = client.get("/_harness/stats").get_json()["totals"]
    assert (totals["requests"], totals["faults_fired"], totals["records_accepted"]) == (3, 1, 2)


def _error_texts() -> set[str]:
    texts = {cls.message for cls in errors.CATALOGUE} | {cls.status_text for cls in errors.CATALOGUE}
    texts |= {rule.message for rule in errors.RULES.values()} | set(errors.OBJECT_ERRORS)
    texts |= set(errors.OBSERVED_AUTH_TEXTS.values())
    texts |= {value for name, value in vars(errors).items() if name.isupper() and isinstance(value, str)}
    return {t for t in texts if t}


def _string_constants(tree: ast.Module) -> list[str]:
    return [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)]


def test_every_error_text_is_written_once():
    """STYLE.md: every documented error text lives in errors.py, once; no other module spells one."""
    texts = _error_texts()
    trees = _modules()
    in_errors = _string_constants(trees["errors"])
    twice = sorted(t for t in texts if in_errors.count(t) > 1)
    assert not twice, f"written more than once in errors.py: {twice}"
    # The fixed parts of templates too, so an f-string cannot rebuild "request exceeds max limit of {limit} bytes".
    pieces = {piece.strip() for t in texts for piece in t.replace("}", "{").split("{")[::2] if len(piece.strip()) >= 12}
    for name, tree in trees.items():
        if name == "errors":
            continue
        for constant in _string_constants(tree):
            assert constant not in texts and constant.strip() not in pieces, (name, constant)
