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
    assert m.mask_text('{"API_SECRET":"a\\"b"}') == '{"API_SECRET":"***"}'
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
