"""braze-cohort-sync.md §3 (configuration) and §4.10 (error catalogue), §4.1 (clusters)."""

from __future__ import annotations

import pytest

from fakes.braze import errors
from fakes.braze.clusters import CLUSTERS, resolve_cluster
from fakes.braze.config import SETTINGS, BrazeConfig, ConfigError, new_fake_config

EXPECTED = {
    "InvalidCohortId": (400, "cohort_id must be a valid string"),
    "InvalidCohortChanges": (400, "cohort_changes must be an array of objects each with key user_ids and/or "
                                  "device_ids mapping to an array of strings, or an aliases object"),
    "TooManyIds": (400, "Only 1,000 user_ids, device_ids, and aliases are allowed per request"),
    "InvalidName": (400, "name must be a non-empty string"),
    "InvalidCreatedAt": (400, "created_at must be a valid time as an ISO-8601 string"),
    "InvalidPartnerApiKey": (401, "Invalid Partner API key"),
    "InvalidClientSecret": (401, "Invalid client secret"),
    "UnauthorizedAccess": (401, "Unauthorized access"),
    "ResourceLocked": (423, "Resource locked"),
    "RateLimited": (429, "Rate Limited"),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_error_catalogue_exact_status_and_text(name):
    """§4.10: each documented error carries its exact status and message, body {"message": text}."""
    cls = getattr(errors, name)
    status, text = EXPECTED[name]
    error = cls()
    assert (error.status, error.message, error.body()) == (status, text, {"message": text})
    assert cls in errors.CATALOGUE


def test_partner_not_enabled_text_carries_secret_as_received():
    """§4.5 A5 / §4.10: the placeholder is replaced by the secret exactly as received."""
    error = errors.PartnerNotEnabled(client_secret="Ab {x} é")
    assert error.status == 401
    assert error.message == "Partner not enabled for client with client secret: Ab {x} é"


def test_config_defaults_match_spec_table():
    """§3: harness defaults of every Braze-side key."""
    cfg = BrazeConfig.defaults()
    assert cfg.partner_slug == "mixpanel"
    assert cfg.default_cluster == "US-01"
    assert cfg.cluster_header == "X-Harness-Braze-Cluster"
    assert cfg.other_clusters_key_region == "US"
    assert cfg.enforce_workspace_cluster is True
    assert (cfg.success_status, cfg.success_body) == (201, {"message": "success"})
    assert cfg.require_json_content_type is False
    assert cfg.created_at_on_redeclare == "keep"
    assert cfg.undeclared_cohort_policy == "hold"
    assert cfg.same_request_conflict == "last_wins"
    assert cfg.allow_empty_change_object is False
    assert cfg.null_as_absent is True
    assert cfg.max_ids_per_request == 1000
    assert cfg.rate_limit_per_hour == 250_000
    assert cfg.rate_limit_scope == "partner_key"
    assert cfg.rate_limit_headers == "on_429"
    assert cfg.detect_concurrent is True
    assert cfg.case_sensitive_ids is True
    assert cfg.new_key_revokes_old is False
    assert cfg.key_format == "uuid4"
    assert cfg.identify_conflict == "reject"
    assert cfg.segments_lag_s == 0
    # DESIGN.md §4 default credentials
    assert (cfg.partner_api_key, cfg.data_import_key) == ("harness-partner-key", "harness-data-import-key")


@pytest.mark.parametrize("values, fragment", [
    ({"braze.undeclared_cohort_policy": "drop"}, "must be one of"),
    ({"braze.max_ids_per_request": "1000"}, "expected integer"),
    ({"braze.rate_limit.per_hour": -1}, ">= 0"),
    ({"braze.default_cluster": "XX-01"}, "unknown Braze instance"),
    ({"braze.no_such_key": 1}, "unknown configuration key"),
    ({"braze.success_status": 500}, "<= 299"),
])
def test_config_rejects_bad_values_with_one_clear_line(values, fragment):
    """§3: UNK switches are validated; a bad value names the key."""
    with pytest.raises(ConfigError) as info:
        new_fake_config(values)
    assert fragment in str(info.value)


def test_config_accepts_nested_form():
    """§3: keys may be given nested as well as dotted."""
    cfg = BrazeConfig.from_values(new_fake_config({"braze": {"rate_limit": {"per_hour": 5}}}).as_dict())
    assert cfg.rate_limit_per_hour == 5


def test_every_setting_is_documented_dotted_key():
    """§3: every setting of the fake is a dotted key documented in the spec's §3 table or in the fake's
    README; and every fake-side key of the §3 table (`braze.*`, `keys.*`, `users.*`, `segments.*`) is a
    setting (the `mixpanel.*` keys belong to the sync engine)."""
    import os
    import re
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    spec = Path(os.environ.get("HARNESS_SHARED_DIR") or repo.parent / "shared") / "spec" / "braze-cohort-sync.md"
    if not spec.is_file():
        pytest.skip(f"spec not found at {spec} (set HARNESS_SHARED_DIR)")
    spec_text = spec.read_text(encoding="utf-8")
    readme = (repo / "fakes" / "braze" / "README.md").read_text(encoding="utf-8")
    keys = {s.key for s in SETTINGS}
    assert all(re.fullmatch(r"[a-z_]+(\.[a-z_0-9]+)+", key) for key in keys)
    undocumented = sorted(k for k in keys if f"`{k}`" not in readme and f"`{k}`" not in spec_text)
    assert undocumented == []
    table = set(re.findall(r"^\| `((?:braze|keys|users|segments)\.[a-z_.0-9]+)` \|", spec_text, re.M))
    assert len(table) >= 20 and table <= keys, sorted(table - keys)


def test_cluster_table_matches_spec():
    """§4.1: the instances and REST hosts, and their partner key regions."""
    hosts = {c.instance: (c.host, c.partner_key_region("US")) for c in CLUSTERS}
    assert hosts["US-01"] == ("rest.iad-01.braze.com", "US")
    assert hosts["US-08"] == ("rest.iad-08.braze.com", "US")
    assert hosts["EU-01"] == ("rest.fra-01.braze.eu", "EU")
    assert hosts["EU-02"] == ("rest.fra-02.braze.eu", "EU")
    for other, host in (("AU-01", "rest.au-01.braze.com"), ("JP-01", "rest.jp-01.braze.com"),
                        ("ID-01", "rest.id-01.braze.com"), ("KR-01", "rest.kr-01.braze.com")):
        assert hosts[other] == (host, "US")
    assert len(CLUSTERS) == 14


def test_cluster_resolution_order():
    """§4.1: known Host header, else the cluster header, else braze.default_cluster."""
    assert resolve_cluster("rest.fra-01.braze.eu", "US-03", "US-01").instance == "EU-01"
    assert resolve_cluster("REST.IAD-02.BRAZE.COM:443", None, "US-01").instance == "US-02"
    assert resolve_cluster("127.0.0.1:8082", "eu-02", "US-01").instance == "EU-02"
    assert resolve_cluster("127.0.0.1:8082", "nonsense", "US-04").instance == "US-04"
    assert resolve_cluster(None, None, "AU-01").instance == "AU-01"
