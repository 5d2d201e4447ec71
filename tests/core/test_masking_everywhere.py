"""Masking everywhere (issue 13 item 4; DESIGN.md §6: secrets never leak into journals): request paths, query
strings (names in any letter case), raw bodies in any escape form, logs on stderr, the TLS key file's mode,
and `GET /_harness/config` (masked unless `?reveal=1`). Over both real fakes, through their HTTP surface."""

from __future__ import annotations

import json
import logging
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fakes.core.tls import issue_test_certificates, load_or_issue_certificates
from fakes.fleet import FakeFleet

MIXPANEL_SECRET = "harness-secret"
PARTNER_KEY = "harness-partner-key"
SLASHED_KEY = "slashed/data-import-key"


@pytest.fixture(scope="module")
def fleet() -> Iterator[FakeFleet]:
    with FakeFleet(["mixpanel", "braze"], mode="in-process") as running:
        yield running


@pytest.fixture(autouse=True)
def _fresh(fleet: FakeFleet) -> None:
    fleet.reset()
    answer = fleet["braze"].client.post("/_harness/keys", json={"key": SLASHED_KEY})
    assert answer.status_code == 201


def _journal(fleet: FakeFleet, name: str) -> str:
    entries = fleet[name].client.get("/_harness/requests").get_json()["requests"]
    assert entries
    return json.dumps(entries)


def _no_secret(text: str, *secrets: str) -> None:
    lowered = text.lower()
    for secret in secrets:
        for spelling in (secret, secret.replace("-", "\\u002d"), secret.replace("-", "%2d"),
                         secret.replace("/", "\\/"), secret.replace("-", "%2D")):
            assert spelling.lower() not in lowered, spelling


def test_a_secret_in_the_request_path_is_masked(fleet: FakeFleet) -> None:
    """`/partners/harness-partner-key/...`: a key put in the path by mistake is not kept in the journal."""
    client = fleet["braze"].client
    client.post(f"/partners/{PARTNER_KEY}/cohorts", json={"cohort_id": "1"})
    client.post("/partners/mixpanel%2Fharness%2dpartner%2dkey/cohorts", json={})
    journal = _journal(fleet, "braze")
    _no_secret(journal, PARTNER_KEY)
    assert '"/partners/***/cohorts"' in journal


@pytest.mark.parametrize("query", [
    f"api_secret={MIXPANEL_SECRET}", f"API_SECRET={MIXPANEL_SECRET}", "Api_Secret=unknown-value",
    f"note={MIXPANEL_SECRET}", f"{MIXPANEL_SECRET}=1", "note=harness%2dsecret", "note=harness%252dsecret",
])
def test_query_strings_are_masked_in_any_letter_case(fleet: FakeFleet, query: str) -> None:
    fleet["mixpanel"].client.post(f"/import?{query}", json=[])
    journal = _journal(fleet, "mixpanel")
    _no_secret(journal, MIXPANEL_SECRET, "unknown-value")


@pytest.mark.parametrize(("fake", "raw"), [
    ("mixpanel", b'{"note": "harness\\u002dsecret"}'),              # JSON \u escape
    ("mixpanel", b'{"note": "harness\\u002Dsecret"}'),              # upper-case hex
    ("mixpanel", b'{"note": "\\u0068arness-secret"}'),              # any character escaped
    ("mixpanel", b'{"note": "harness\\\\u002dsecret"}'),            # escaped twice (JSON in a JSON string)
    ("braze", b'{"note": "slashed\\/data-import-key"}'),            # slash-escaped
    ("braze", b'{"note": "slashed\\/data\\u002dimport-key"}'),      # mixed
    ("mixpanel", b"note=harness%2dsecret&x=1"),                     # lower-case percent-encoding
    ("braze", b"note=slashed%2fdata%2dimport%2dkey"),
    ("mixpanel", b'{"API_SECRET": "not-a-known-value"}'),           # a secret field in another letter case
    ("mixpanel", b"Api_Secret=not-a-known-value"),
    ("braze", b'{"Client_Secret": "not-a-known-value"}'),
])
def test_raw_bodies_are_masked_in_any_escape_form(fleet: FakeFleet, fake: str, raw: bytes) -> None:
    path = "/import" if fake == "mixpanel" else "/partners/mixpanel/cohorts"
    fleet[fake].client.post(path, data=raw, content_type="application/json")
    _no_secret(_journal(fleet, fake), MIXPANEL_SECRET if fake == "mixpanel" else SLASHED_KEY, "not-a-known-value")


def test_unhandled_errors_mask_the_log_the_answer_and_the_journal(fleet: FakeFleet, monkeypatch: Any,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    """stderr is a journal too: the logged traceback, the 500's detail and the journal's `error` are masked."""
    import fakes.mixpanel.routes as routes

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError(f"cannot use {MIXPANEL_SECRET} or {SLASHED_KEY}")

    monkeypatch.setattr(routes, "_ingest_request", broken)
    with caplog.at_level(logging.ERROR, logger="fakes.core"):
        answer = fleet["mixpanel"].client.post(f"/import?api_secret={MIXPANEL_SECRET}", json=[])
    assert answer.status_code == 500
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "RuntimeError" in logged and "cannot use ***" in logged
    _no_secret(logged + answer.get_data(as_text=True) + _journal(fleet, "mixpanel"), MIXPANEL_SECRET)


def test_config_masks_secrets_unless_revealed(fleet: FakeFleet) -> None:
    braze = fleet["braze"].client
    shown = json.dumps(braze.get("/_harness/config").get_json())
    _no_secret(shown, PARTNER_KEY, "harness-data-import-key")
    assert braze.get("/_harness/config").get_json()["config"]["braze.partner_api_key"] == "***"
    revealed = braze.get("/_harness/config?reveal=1").get_json()["config"]
    assert revealed["braze.partner_api_key"] == PARTNER_KEY
    mixpanel = fleet["mixpanel"].client
    _no_secret(json.dumps(mixpanel.get("/_harness/config").get_json()), MIXPANEL_SECRET)
    assert mixpanel.get("/_harness/config?reveal=1").get_json()["config"]["projects"][0]["secret"] == MIXPANEL_SECRET
    put = braze.put("/_harness/config", json={"braze.rate_limit.per_hour": 5}).get_json()
    assert put["changed"] == ["braze.rate_limit.per_hour"] and put["config"]["braze.partner_api_key"] == "***"


def test_the_tls_key_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    files = issue_test_certificates(tmp_path, ["api.mixpanel.com"])
    assert stat.S_IMODE(files.key_pem.stat().st_mode) == 0o600
    files.key_pem.chmod(0o644)  # left so by an older version: tightened when reused
    again = load_or_issue_certificates(tmp_path, ["api.mixpanel.com"])
    assert again.key_pem == files.key_pem and stat.S_IMODE(again.key_pem.stat().st_mode) == 0o600
