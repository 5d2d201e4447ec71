"""Records that failed validation are kept and queryable (issue 12 item 4; mixpanel-ingestion.md §14
control API extension): `GET /_harness/events?view=failed` gives each record as sent (masked), its endpoint and
Mixpanel's message (the §5.4 strict `failed_records` texts); `/_harness/events/counts` the good / bad / total
counts, which the failed view also carries."""

from __future__ import annotations

from mpkit import DROP, TOKEN, event, jbody


def failed(client, **params):
    response = client.get("/_harness/events", query_string={"view": "failed", **params})
    assert response.status_code == 200, response.data
    return response.get_json()


def test_strict_import_failures_kept_with_mixpanel_message_section_5_4(api, client):
    """§5.4 / §5.8: the view holds each failed record with the message and field the strict answer gave."""
    records = [event(n=0), event("", n=1), event(n=2, time=DROP)]
    answer = api.import_(records).get_json()
    assert answer["num_records_imported"] == 1
    body = failed(client)
    assert body["count"] == 2
    assert body["counts"] == {"good": 1, "bad": 2, "total": 3,
                              "by_endpoint": {"import": {"good": 1, "bad": 2, "total": 3}}}
    for item, reported in zip(body["events"], answer["failed_records"], strict=True):
        assert item["endpoint"] == "import"
        assert (item["index"], item["field"], item["message"]) == \
            (reported["index"], reported["field"], reported["message"])
        assert item["project_id"] == 1
    assert body["events"][0]["record"] == {**records[1], "properties": {**records[1]["properties"]}}
    assert body["events"][1]["rule"] == "V3"
    assert body["events"][1]["message"] == "'properties.time' is invalid: must not be missing"


def test_non_strict_track_and_engage_failures_kept_too(api, client):
    """Non-strict requests report nothing per record (§5.9, §6, §7); the view still keeps each failure."""
    api.import_([event(n=0), event("", n=1)], strict=False)
    api.form("/track", [{"event": "ok", "properties": {"token": TOKEN, "distinct_id": "u"}},
                        {"properties": {"token": TOKEN}}])
    api.form("/engage", [{"$token": TOKEN, "$distinct_id": "u", "$set": {"a": 1}}, {"$token": TOKEN}])
    body = failed(client)
    assert [(e["endpoint"], e["index"]) for e in body["events"]] == [("import", 1), ("track", 1), ("engage", 1)]
    assert body["events"][0]["message"] == "'event' must not be missing or blank"
    assert body["events"][2]["message"] == "$distinct_id, missing or empty"
    assert (body["counts"]["good"], body["counts"]["bad"], body["counts"]["total"]) == (3, 3, 6)
    counts = client.get("/_harness/events/counts").get_json()
    assert counts["by_endpoint"]["track"] == {"good": 1, "bad": 1, "total": 2}
    only_track = failed(client, endpoint="track")
    assert only_track["count"] == 1 and only_track["counts"] == {"good": 1, "bad": 1, "total": 2}
    assert failed(client, limit="1")["events"][0]["endpoint"] == "engage"
    assert failed(client, limit="0")["events"] == []


def test_failed_records_are_masked(api, client):
    """Secrets stay masked: the token and any secret-named field, as in the journal."""
    api.import_([event("", n=1, token=TOKEN, api_secret="harness-secret")])
    record = failed(client)["events"][0]["record"]
    assert record["properties"]["token"] == "***" and record["properties"]["api_secret"] == "***"
    assert TOKEN not in str(failed(client)) and "harness-secret" not in str(failed(client))


def test_unparseable_ndjson_line_kept_as_text(api, client):
    """§5.4 V1: only that line fails; the view shows the line as sent."""
    body = jbody(event(n=0)) + b"\n{not json\n"
    api.import_(body, headers={"Content-Type": "application/x-ndjson"})
    item = failed(client)["events"][0]
    assert item["record"] == "{not json" and item["rule"] == "V1"


def test_reset_capacity_and_bad_parameters(api, client, state):
    api.import_([event("", n=1), event("", n=2), event("", n=3)])
    state.update_config({"store.max_failed_records": 2})
    body = failed(client)
    assert [e["index"] for e in body["events"]] == [1, 2] and body["counts"]["bad"] == 3  # counts keep counting
    for params, key in [({"endpoint": "export"}, "endpoint"), ({"limit": "-1"}, "limit"),
                        ({"project_id": "x"}, "project_id"), ({"distinct_id": "u"}, "distinct_id")]:
        response = client.get("/_harness/events", query_string={"view": "failed", **params})
        assert response.status_code == 400 and key in response.get_json()["error"]
    assert client.get("/_harness/events/counts?x=1").status_code == 400
    assert client.get("/_harness/events?view=nope").status_code == 400
    assert "failed" in client.get("/_harness/events?view=nope").get_json()["error"]
    client.post("/_harness/reset")
    assert failed(client)["counts"] == {"good": 0, "bad": 0, "total": 0, "by_endpoint": {}}


def test_failed_records_survive_a_snapshot(api, state):
    """`harness serve --state-dir` keeps them (and the counts) across a restart."""
    api.import_([event(n=0), event("", n=1)])
    saved = state.snapshot()
    from fakes.mixpanel import create_app, new_state

    restored = new_state()
    restored.restore(saved)
    body = create_app(restored).test_client().get("/_harness/events?view=failed").get_json()
    assert body["count"] == 1 and body["counts"]["good"] == 1 and body["events"][0]["index"] == 1


def test_oversize_record_kept_as_the_start_of_its_json(api, client):
    """§5.2 / §5.4 V12: an event over 1 MB fails; the view keeps only the first 65536 characters of it."""
    big = event(n=1, blob="x" * 1_100_000)
    assert api.import_([big]).status_code == 400
    item = failed(client)["events"][0]
    assert item["rule"] == "V12size" and isinstance(item["record"], str)
    assert len(item["record"]) == 65_536 and item["record"].startswith('{"event": "Purchase"')
