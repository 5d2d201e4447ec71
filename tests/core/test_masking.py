"""Secret masking (DESIGN.md §6 'Secrets never leak'; mixpanel-ingestion.md §14: Basic credentials masked)."""

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
