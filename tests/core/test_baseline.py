"""The benchmark baseline fake: reads and parses the body through the full core path."""

import gzip

from fakes.core.baseline import baseline_app


def test_bare_parses_json_and_gzip_and_journals():
    app = baseline_app()
    client = app.test_client()
    assert client.post("/bare", json=[{"a": 1}, {"a": 2}]).get_json() == {"status": 1, "records": 2}
    r = client.post("/bare", data=gzip.compress(b'{"a": 1}'), headers={"Content-Encoding": "gzip"})
    assert r.get_json() == {"status": 1, "records": 1}
    assert client.post("/bare", data=b"{nope").status_code == 400
    assert client.get("/_harness/requests").get_json()["count"] == 3
