"""Issue 11 item 4: fake Mixpanel's raw event export `GET /api/2.0/export` (fakes/mixpanel/exporting.py).

Events go in through `/import` and come back through the export: every parameter (inclusive UTC days,
`event`, `limit`, `time_in_ms`, service account + `project_id`, the EU host), duplicates, the errors; the
official client `mixpanel-utils` (`export_events`) over a loopback server and in-process on the real host
name; and `harness reconcile --mixpanel URL` reading a running fake."""

from __future__ import annotations

import gzip
import io
import json
import sys
import urllib.request
from datetime import datetime, timezone
from email.message import Message
from pathlib import Path

import pytest
from mixpanel_utils import MixpanelUtils
from mpkit import NOW, SA_AUTH, SA_SECRET, SA_USER, SECRET, SECRET_AUTH, TOKEN, basic, event

from fakes.core import FakeServer
from fakes.mixpanel import HOST_PATTERNS, TLS_HOSTNAMES, create_app, new_state
from fakes.mixpanel.exporting import CHUNK_BYTES

EXPORT = "/api/2.0/export"
DAY = 86_400


def day_start(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp())


TODAY = datetime.fromtimestamp(NOW, tz=timezone.utc).strftime("%Y-%m-%d")  # 2026-09-21


def export(client, params=None, *, headers=None, **kw):
    return client.get(EXPORT, query_string=params or {}, headers=SECRET_AUTH if headers is None else headers, **kw)


def lines(response) -> list[dict]:
    assert response.status_code == 200, response.data
    return [json.loads(line) for line in response.data.decode().splitlines()]


def window(**extra):
    return {"from_date": "2026-09-01", "to_date": TODAY, **extra}


def test_rows_come_back_in_receipt_order_with_duplicates_and_ingestion_properties(api, client):
    batch = [event("Purchase", n, token=TOKEN, plan="pro") for n in range(3)]
    assert api.import_(batch).status_code == 200
    assert api.import_(batch[:2]).status_code == 200  # resent: the raw export is not deduplicated
    response = export(client, window())
    assert response.headers["Content-Type"].startswith("text/plain")
    got = lines(response)
    assert [(e["event"], e["properties"]["$insert_id"]) for e in got] == [
        ("Purchase", "id-00000000"), ("Purchase", "id-00000001"), ("Purchase", "id-00000002"),
        ("Purchase", "id-00000000"), ("Purchase", "id-00000001")]
    first = got[0]["properties"]
    assert first == {"time": NOW - 3600, "distinct_id": "user-0", "$insert_id": "id-00000000", "plan": "pro",
                     "$import": True, "$mp_api_endpoint": "localhost", "$mp_api_timestamp_ms": NOW * 1000,
                     "mp_processing_time_ms": NOW * 1000}  # the token is consumed, not exported
    assert api.events(view="dedup")["count"] == 3  # the dedup view still merges them


def test_from_and_to_date_are_inclusive_utc_days(api, client):
    edges = {"before": day_start("2026-09-09") - 1, "first": day_start("2026-09-10"),
             "last": day_start("2026-09-12") + DAY - 1, "after": day_start("2026-09-13")}
    api.import_([event(name, n, time=t) for n, (name, t) in enumerate(edges.items())])
    got = lines(export(client, {"from_date": "2026-09-10", "to_date": "2026-09-12"}))
    assert [e["event"] for e in got] == ["first", "last"]
    one_day = lines(export(client, {"from_date": "2026-09-12", "to_date": "2026-09-12"}))
    assert [e["event"] for e in one_day] == ["last"]


def test_event_filter_limit_and_time_in_ms(api, client):
    api.import_([event("A", 0), event("B", 1), event("C", 2), event("A", 3),
                 event("A", 4, time=(NOW - 60) * 1000 + 123)])  # milliseconds precision
    assert [e["properties"]["$insert_id"] for e in lines(export(client, window(event='["A", "C"]')))] == [
        "id-00000000", "id-00000002", "id-00000003", "id-00000004"]
    assert len(lines(export(client, window(event="[]")))) == 5  # an empty list: every event
    first_two = lines(export(client, window(event='["A"]', limit="2")))
    assert [e["properties"]["time"] for e in first_two] == [NOW - 3600, NOW - 3600 - 3]  # seconds
    in_ms = lines(export(client, window(event='["A"]', time_in_ms="true")))
    assert [e["properties"]["time"] for e in in_ms][-1] == (NOW - 60) * 1000 + 123
    assert lines(export(client, window(event='["A"]')))[-1]["properties"]["time"] == NOW - 60


def test_service_account_with_project_id_and_the_401s(api, client):
    api.import_([event("A", 0)])
    assert len(lines(export(client, window(project_id="1"), headers=SA_AUTH))) == 1
    invalid = {"code": 401, "error": "Invalid credentials", "status": "Unauthorized"}
    for params, headers in ((window(), SA_AUTH),  # a service account needs project_id
                            (window(project_id="2"), SA_AUTH),
                            (window(), {"Authorization": basic(TOKEN)}),  # the public token cannot read
                            (window(), {"Authorization": basic("wrong-secret")}),
                            (window(), {})):
        response = export(client, params, headers=headers)
        assert (response.status_code, response.get_json()) == (401, invalid), (params, headers)


def test_only_the_authenticated_projects_rows_and_the_eu_host():
    eu = {"project_id": 2, "token": "eu-token", "secret": "eu-secret", "region": "eu"}
    state = new_state({"projects": [{"project_id": 1, "token": TOKEN, "secret": SECRET}, eu],
                       "regions.enforce": True})
    state.clock.set(NOW)
    client = create_app(state).test_client()
    eu_auth = {"Authorization": basic("eu-secret")}
    client.post("/import", query_string={"strict": "1"}, json=[event("US", 0)], headers=SECRET_AUTH)
    client.post("/import", query_string={"strict": "1"}, json=[event("EU", 1)], headers=eu_auth,
                base_url="https://api-eu.mixpanel.com")
    got = lines(export(client, window(), headers=eu_auth, base_url="https://data-eu.mixpanel.com"))
    assert [(e["event"], e["properties"]["$mp_api_endpoint"]) for e in got] == [("EU", "api-eu.mixpanel.com")]
    assert [e["event"] for e in lines(export(client, window(), base_url="https://data.mixpanel.com"))] == ["US"]
    wrong_region = export(client, window(), headers=eu_auth, base_url="https://data.mixpanel.com")
    assert wrong_region.status_code == 401  # §2.1: the project does not exist there
    entry = client.get("/_harness/requests").get_json()["requests"][-2]
    assert (entry["region"], entry["project_id"], entry["window"]) == ("us", 1, ["2026-09-01", TODAY])
    assert {"data.mixpanel.com", "data-eu.mixpanel.com", "data-in.mixpanel.com"} <= set(HOST_PATTERNS)
    assert set(TLS_HOSTNAMES) == set(HOST_PATTERNS)


@pytest.mark.parametrize(("params", "names"), [
    ({"to_date": TODAY}, "from_date is a required parameter"),
    ({"from_date": "2026-09-01"}, "to_date is a required parameter"),
    ({"from_date": "2026/09/01", "to_date": TODAY}, "from_date must be a date"),
    ({"from_date": "20260901", "to_date": TODAY}, "from_date must be a date"),
    ({"from_date": "2026-09-01", "to_date": "2026-13-01"}, "to_date must be a date"),
    ({"from_date": "2026-09-02", "to_date": "2026-09-01"}, "is before from_date"),
    (window(event='"A"'), "event must be a JSON array"),
    (window(event="[1]"), "event must be a JSON array"),
    (window(event="[not json"), "event must be a JSON array"),
    (window(limit="0"), "limit must be a whole number from 1 to 100000"),
    (window(limit="-5"), "limit must be"),
    (window(limit="ten"), "limit must be"),
    (window(limit="100001"), "limit must be"),
    (window(where='properties["plan"] == "pro"'), "where is not supported"),
])
def test_a_bad_parameter_is_a_400_naming_it(client, params, names):
    response = export(client, params)
    assert response.status_code == 400
    body = response.get_json()
    assert set(body) == {"request", "error"} and names in body["error"]
    assert body["request"].startswith(EXPORT + "?")


def test_other_methods_are_the_empty_405(client):
    response = client.post(EXPORT, headers=SECRET_AUTH)
    assert (response.status_code, response.data) == (405, b"")


def test_rate_limits_when_enforced(api, client, state, clock):
    api.import_([event("A", 0)])
    state.update_config({"export.ratelimit.enforce": True})
    assert [export(client, window()).status_code for _ in range(4)] == [200, 200, 200, 429]
    refused = export(client, window()).get_json()
    assert "3 queries per second" in refused["error"]
    clock.advance(1)
    assert export(client, window()).status_code == 200
    state.update_config({"export.ratelimit.per_second": 1000})
    statuses = [export(client, window()).status_code for _ in range(60)]
    assert statuses.count(200) == 56 and statuses[-1] == 429  # 60 an hour: 4 were answered already
    assert "60 queries per hour" in export(client, window()).get_json()["error"]
    assert export(client, window()).status_code == 429
    clock.advance(3600)
    assert export(client, window()).status_code == 200


def test_dropped_and_quarantined_rows_are_not_exported(api, client):
    api.import_([event("kept", 0), event("ignored", 1, **{"$ignore": True})])
    client.post("/track", json=[{"event": "stray", "properties": {"token": "unknown-token", "distinct_id": "u"}}])
    assert [e["event"] for e in lines(export(client, window()))] == ["kept"]


def test_a_big_store_streams_in_chunks_from_the_rows_received_before_the_request(api, client, state):
    for start in range(0, 6000, 2000):
        api.import_([event("Bulk", n, blob="x" * 40) for n in range(start, start + 2000)])
    response = export(client, window(), buffered=False)
    assert response.is_streamed and "Content-Length" not in response.headers
    api.import_([event("Later", 9999)])  # after the request: not in its answer
    chunks = list(response.response)
    assert len(chunks) > 3 and all(len(c) < 2 * CHUNK_BYTES for c in chunks)
    got = [json.loads(line) for line in b"".join(chunks).splitlines()]
    assert len(got) == 6000 and {e["event"] for e in got} == {"Bulk"}


def test_gzip_when_asked_and_the_answer_passes_1400_bytes(api, client):
    api.import_([event("A", n) for n in range(50)])
    plain = export(client, window())
    zipped = export(client, window(), headers={**SECRET_AUTH, "Accept-Encoding": "gzip, deflate"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == plain.data
    small = export(client, window(limit="1"), headers={**SECRET_AUTH, "Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in small.headers and len(lines(small)) == 1


def test_a_fault_rule_matches_the_export_endpoint(client):
    client.post("/_harness/faults", json={"match": {"endpoint": "export"}, "times": 1,
                                          "action": {"type": "status", "status": 503}})
    assert export(client, window()).status_code == 503
    assert export(client, window()).status_code == 200


# --- the official client: mixpanel-utils export_events ------------------------------------------------


def utils(**kw) -> MixpanelUtils:
    return MixpanelUtils(kw.pop("secret", SECRET), pool_size=1, **kw)


@pytest.fixture
def stored(api):
    batch = [event("Signed Up", n, token=TOKEN) for n in range(3)] + [event("Purchase", 9)]
    api.import_(batch)
    api.import_(batch[:1])
    return batch


def test_mixpanel_utils_export_events_over_a_loopback_server(app, api, stored, tmp_path):
    """The client as shipped, over HTTP (its `raw_api` attribute points it at the server)."""
    with FakeServer(app, name="mixpanel") as server:
        client = utils()
        client.raw_api = f"{server.base_url}/api"
        out = tmp_path / "events.json"
        client.export_events(str(out), {"from_date": "2026-09-01", "to_date": TODAY, "event": ["Signed Up"]})
        got = json.loads(out.read_text())
        assert [e["properties"]["$insert_id"] for e in got] == ["id-00000000", "id-00000001", "id-00000002",
                                                                 "id-00000000"]
        api.import_([event("Purchase", n) for n in range(10, 30)])  # past 1400 bytes: gzip when asked
        sa = utils(secret=SA_SECRET, service_account_username=SA_USER, project_id=1)
        sa.raw_api = client.raw_api
        raw = tmp_path / "raw.jsonl"
        sa.export_events(str(raw), {"from_date": "2026-09-01", "to_date": TODAY}, raw_stream=True,
                         add_gzip_header=True)
        streamed = [json.loads(line) for line in gzip.decompress(Path(f"{raw}.gz").read_bytes()).splitlines()]
        assert len(streamed) == 25 and streamed[4]["event"] == "Signed Up"


class _InProcessUrllib(urllib.request.BaseHandler):
    """urllib's https (mixpanel-utils does not use requests) to the fake's real host names, into the app."""

    handler_order = 100  # before urllib's own HTTPS handler

    def __init__(self, app) -> None:
        self.client = app.test_client()

    def https_open(self, req: urllib.request.Request):
        host = req.host.split(":")[0]
        if host not in HOST_PATTERNS:
            raise AssertionError(f"a test reached for the network: {req.full_url}")
        response = self.client.open(req.selector, method=req.get_method(), base_url=f"https://{host}",
                                    headers=dict(req.header_items()), data=req.data)
        headers = Message()
        for name, value in response.headers.items():
            headers[name] = value
        answer = urllib.request.addinfourl(io.BytesIO(response.data), headers, req.full_url, response.status_code)
        answer.msg = response.status
        return answer


@pytest.fixture
def urllib_in_process(app):
    urllib.request.install_opener(urllib.request.build_opener(_InProcessUrllib(app)))
    yield
    urllib.request.install_opener(None)


def test_mixpanel_utils_export_events_in_process_on_the_real_hosts(stored, urllib_in_process, tmp_path, state):
    """Unchanged defaults: `https://data.mixpanel.com/api/2.0/export` and the EU host by `residency`."""
    out = tmp_path / "events.json"
    utils().export_events(str(out), {"from_date": "2026-09-01", "to_date": TODAY})
    assert len(json.loads(out.read_text())) == 5
    utils(residency="eu").export_events(str(out), {"from_date": "2026-09-01", "to_date": TODAY,
                                                   "event": ["Purchase"]})
    assert [e["event"] for e in json.loads(out.read_text())] == ["Purchase"]
    hosts = [r["headers"]["Host"] for r in state.journal.entries() if r["path"] == EXPORT]
    assert hosts == ["data.mixpanel.com", "data-eu.mixpanel.com"]


# --- harness reconcile against a running fake -------------------------------------------------------------


@pytest.fixture(scope="module")
def builder():
    sys.path.insert(0, str(Path(__file__).parents[1] / "reconcile"))
    import export_builder

    return export_builder


def test_reconcile_reads_a_live_fake(builder, mixpanel_server, tmp_path, capsys):
    """`harness reconcile CURRENTS --mixpanel http://127.0.0.1:PORT`: the mapped events imported into a running
    fake, some twice and one left out, then pulled back through its export and compared."""
    from harness.cli import main
    from harness.mapping import MappingConfig, map_currents_event

    paths = builder.generate_storage_layout(tmp_path / "currents", 120, seed=3)
    mapped = []
    for type_id, record in builder.avro_records(paths):
        record[builder.TYPE_KEY] = type_id
        result = map_currents_event(record, MappingConfig())
        if result.event is not None:
            mapped.append(result.event)
    sent = mapped[1:] + mapped[2:5]  # the first never arrives; three arrive twice
    import requests

    for start in range(0, len(sent), 2000):
        answer = requests.post(f"{mixpanel_server.base_url}/import", params={"strict": "1"}, timeout=30,
                               json=sent[start:start + 2000], headers={"Authorization": basic(SECRET)})
        assert answer.status_code == 200, answer.text
    report = tmp_path / "report.json"
    status = main(["reconcile", str(tmp_path / "currents"), "--mixpanel", mixpanel_server.base_url,
                   "--from", builder.WINDOW_FROM, "--to", builder.WINDOW_TO, "--json", str(report), "-q"])
    summary = json.loads(report.read_text())["summary"]
    assert status == 1
    assert summary["missing"] == 1 and summary["duplicates"] == 3
    assert summary["matched"] == len(mapped) - 1
    assert summary["extra"] == summary["mismatched"] == 0
    assert requests.get(f"{mixpanel_server.base_url}/_harness/requests", params={"path": EXPORT},
                        timeout=5).json()["count"] == 1
    wrong = main(["reconcile", str(tmp_path / "currents"), "--mixpanel", mixpanel_server.base_url,
                  "--from", builder.WINDOW_FROM, "--to", builder.WINDOW_TO, "--mixpanel-secret", "nope", "-q"])
    assert wrong == 2
    assert "the export answered HTTP 401" in capsys.readouterr().err
    no_window = main(["reconcile", str(tmp_path / "currents"), "--mixpanel", mixpanel_server.base_url, "-q"])
    assert no_window == 2
    assert "needs --from and --to" in capsys.readouterr().err


def test_requests_based_tooling_in_process_on_the_real_host(mixpanel_fake):
    """The `mixpanel_fake` fixture routes `requests` to https://data.mixpanel.com (gzip decoded by requests)."""
    import requests

    mixpanel_fake.state.clock.set(NOW)
    body = [event("A", n) for n in range(40)]
    answer = requests.post("https://api.mixpanel.com/import", params={"strict": "1"}, json=body,
                           headers=SECRET_AUTH, timeout=5)
    assert answer.status_code == 200
    response = requests.get("https://data.mixpanel.com/api/2.0/export", params=window(limit="30"),
                            auth=(SECRET, ""), headers={"Accept-Encoding": "gzip"}, timeout=5)
    assert response.status_code == 200 and response.headers["Content-Encoding"] == "gzip"
    assert [json.loads(line)["properties"]["$insert_id"] for line in response.text.splitlines()] == [
        f"id-{n:08d}" for n in range(30)]
