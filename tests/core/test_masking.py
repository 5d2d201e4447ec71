"""Secret masking (DESIGN.md §6 'Secrets never leak'; mixpanel-ingestion.md §14: Basic credentials masked)."""

import base64

from fakes.core.masking import MASK, SecretMasker


def masker(values=("harness-secret", "harness-token")):
    return SecretMasker(secret_values=lambda: values, secret_fields=("api_secret", "partner_api_key", "token"))


def test_authorization_keeps_scheme_only():
    m = masker()
    assert m.mask_header("Authorization", "Basic aGFybmVzcy1zZWNyZXQ6") == "Basic ***"
    assert m.mask_header("authorization", "Bearer abc.def") == "Bearer ***"
    assert m.mask_header("Authorization", "garbage") == MASK
    assert m.mask_header("X-Api-Key", "k") == MASK
    assert m.mask_header("User-Agent", "python-requests/2") == "python-requests/2"


def test_known_secret_values_masked_in_any_text_including_url_encoded():
    m = SecretMasker(secret_values=lambda: ["s3cr et/+"])
    assert m.mask_text("a s3cr et/+ b") == "a *** b"
    assert m.mask_text("x=s3cr%20et%2F%2B") == "x=***"
    assert m.mask_text("x=s3cr+et%2F%2B") == "x=***"


def test_secret_fields_masked_in_json_text_and_form_text():
    m = masker(values=())
    assert m.mask_text('{"partner_api_key": "abc", "x": "y"}') == '{"partner_api_key": "***", "x": "y"}'
    assert m.mask_text('{"api_secret":"a\\"b"}') == '{"api_secret":"***"}'
    assert m.mask_text("xtoken=abc&token=def") == "xtoken=abc&token=***"
    assert m.mask_text("data=1&token=abc&x=2") == "data=1&token=***&x=2"
    assert m.mask_text("token=") == "token="


def test_mask_value_walks_payloads_without_changing_input():
    m = masker()
    payload = {"properties": {"token": "t", "n": 1, "note": "uses harness-secret"}, "items": [{"api_secret": "z"}]}
    masked = m.mask_value(payload)
    assert masked == {"properties": {"token": MASK, "n": 1, "note": "uses ***"}, "items": [{"api_secret": MASK}]}
    assert payload["properties"]["token"] == "t"


def test_mask_query_keeps_repeats_as_lists():
    m = masker()
    assert m.mask_query([("a", "1"), ("a", "2"), ("token", "t"), ("q", "harness-token")]) == {
        "a": ["1", "2"], "token": [MASK], "q": [MASK]
    }


def test_longer_secret_masked_whole_when_it_contains_a_shorter_one():
    m = SecretMasker(secret_values=lambda: ["abc", "abcdef"])
    assert m.mask_text("xabcdefx") == "x***x"


def test_secret_inside_a_base64_payload_is_masked_at_every_alignment():
    """Mixpanel's `data=<base64>` (mixpanel-ingestion.md §3 R4) carries the token inside base64."""
    import base64
    import json
    from urllib.parse import quote

    m = SecretMasker(secret_values=lambda: ["harness-token"])
    for prefix in ("", "x", "xy"):  # the three byte alignments of the token in the payload
        payload = json.dumps({"event": "e", "properties": {"pad": prefix, "token": "harness-token"}})
        b64 = base64.b64encode(payload.encode()).decode()
        for spelling in (b64, b64.replace("+", " "), quote(b64, safe=""), b64.replace("+", "-").replace("/", "_")):
            masked = m.mask_text("data=" + spelling)
            assert MASK in masked, (prefix, spelling)
            head, _, tail = masked.partition(MASK)
            # at most two characters on each side of the mask still carry bits of the token
            assert len(head) + len(tail) >= len("data=" + spelling) - len(base64.b64encode(b"harness-token")) - 6
    clean = base64.b64encode(json.dumps({"token": "other-token-xyz"}).encode()).decode()
    assert m.mask_text(clean) == clean


def test_short_secrets_are_not_hunted_in_base64():
    from fakes.core.masking import base64_cores

    assert base64_cores("abc") == set()
    assert all(len(core) >= 8 for core in base64_cores("harness-token"))


# -- follow-up: masking cost (only the journalled window is decoded and masked) --------------------------
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

SECRETS = ["harness-secret", "tok", "p@ss word/+", "ab"]
_pieces = st.one_of(
    st.text(alphabet="abc xyz{}\":,=&é", max_size=12),
    st.sampled_from(SECRETS),
    st.sampled_from(SECRETS).map(lambda s: base64.b64encode(("x" + s).encode()).decode()),
    st.text(alphabet="abc\\\"", max_size=8).map(lambda v: '{"api_secret": "' + v + '"'),
    st.text(alphabet="abc&", max_size=8).map(lambda v: "&token=" + v),
)


@settings(max_examples=300, deadline=None)
@given(pieces=st.lists(_pieces, max_size=30), max_chars=st.integers(0, 200))
def test_capped_masking_shows_a_prefix_of_the_fully_masked_text(pieces, max_chars):
    """DESIGN.md §6 'secrets never leak': masking only the window the journal keeps shows nothing the
    fully masked text would hide, wherever the cap cuts (through a secret, a base64 run, a JSON string)."""
    m = SecretMasker(secret_values=lambda: SECRETS, secret_fields=("api_secret", "token"))
    text = "".join(pieces)
    shown, truncated = m.mask_capped(text, max_chars)
    full = m.mask_text(text) or ""
    assert truncated == (len(text) > max_chars)
    if truncated:
        assert len(shown) <= max_chars and full.startswith(shown), (text, max_chars, shown, full)
    else:  # the cap counts the text as sent; masking may lengthen it ("token=a" -> "token=***")
        assert shown == full


def test_secret_cut_by_the_journal_cap_is_not_shown_in_part(client):
    """The journal caps bodies at journal.max_body_chars; a secret or secret field straddling the cap
    must not show its first characters (masking the cut text alone used to leave them)."""
    from stand_in_fake import AUTH_HEADERS

    client.put("/_harness/config", json={"journal.max_body_chars": 20})
    client.post("/ingest", data="a" * 12 + "standin-token" + "b" * 300, headers=AUTH_HEADERS)
    client.post("/ingest", data='{"api_secret": "k3y-from-prod-' + "z" * 300 + '"}', headers=AUTH_HEADERS)
    cut_token, cut_field = client.get("/_harness/requests").get_json()["requests"]
    assert cut_token["body_truncated"] and "stand" not in cut_token["body"] and cut_token["body"].startswith("a" * 12)
    assert cut_field["body_truncated"] and "k3y" not in cut_field["body"]
    assert cut_field["body"].startswith('{"api_secret": "***')


def test_response_body_cut_by_the_cap_is_masked_too(client):
    client.put("/_harness/config", json={"journal.max_body_chars": 9})
    client.get("/_harness/requests")  # control routes are not journalled; use a 404 echo instead
    client.post("/ingest?x=1", data="{}", headers={"Authorization": "Bearer standin-token"})
    entry = client.get("/_harness/requests").get_json()["requests"][-1]
    assert entry["response_body"] == '{"stored"' and entry["response_truncated"] is True


def test_journal_decodes_only_the_bytes_it_can_show():
    """Follow-up: the body view decoded the whole body (MBs) to keep 64 KiB; now only a window is read."""
    from fakes.core.app import journal_text

    class Recording(bytes):
        asked: list = []

        def __getitem__(self, key):
            Recording.asked.append(key)
            return bytes.__getitem__(self, key)

    m = SecretMasker(secret_values=lambda: ["harness-secret"])
    big = Recording(("é" * 10 + "harness-secret").encode() * 100_000)  # 2.6 MB
    text, truncated = journal_text(big, m, 50)
    assert truncated and len(text) <= 50 and "harness" not in text and text.startswith("é" * 10 + "***")
    (window,) = Recording.asked
    assert window.stop <= 4 * m.window_chars(50) + 4 < 2000
    # a multi-byte character cut by the byte window never shows up as U+FFFD
    assert journal_text(("é" * 10_000).encode(), m, 5000) == ("é" * 5000, True)
    assert journal_text(b"ok\xff", m, 10) == ("ok\ufffd", False)
