"""fakes.registry: names → lazily imported fake packages; a fake not importable is a clear error."""

import pytest

from fakes.registry import FAKE_MODULES, FakeUnavailableError, available_fakes, fake_names, load_fake


def test_known_fakes_in_order():
    assert list(FAKE_MODULES) == ["mixpanel", "braze"]


def test_env_override_adds_a_fake(monkeypatch):
    monkeypatch.setenv("HARNESS_FAKE_MODULES", "standin=stand_in_fake")
    assert fake_names() == ["mixpanel", "braze", "standin"]
    fake = load_fake("standin")
    assert fake.host_patterns == ("api.standin.test", "rest.*.standin.test")
    assert fake.tls_hostnames == fake.host_patterns  # no TLS_HOSTNAMES of its own: the certificate takes these
    state = fake.new_state({"limits.max_items": 2}, seed=5)
    assert state.config["limits.max_items"] == 2 and state.seed == 5
    app = fake.create_app(state=state)
    assert app.test_client().get("/_harness/health").get_json() == {"status": "ok", "service": "standin"}


@pytest.mark.parametrize("override, message", [
    ("ghost=no_such_module_abc", "fake 'ghost' is not available: cannot import no_such_module_abc"),
    ("ghost=json", "fake 'ghost' (json) does not provide create_app, new_state, HOST_PATTERNS yet"),
])
def test_unavailable_fakes_are_clear_errors(monkeypatch, override, message):
    monkeypatch.setenv("HARNESS_FAKE_MODULES", override)
    with pytest.raises(FakeUnavailableError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_fake("ghost")
    loaded, failed = available_fakes(["ghost"])
    assert loaded == [] and message in failed["ghost"]


def test_import_crash_is_reported_not_raised(monkeypatch, tmp_path):
    (tmp_path / "broken_fake_xyz.py").write_text("raise RuntimeError('half written')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("HARNESS_FAKE_MODULES", "broken=broken_fake_xyz")
    with pytest.raises(FakeUnavailableError, match="RuntimeError: half written"):
        load_fake("broken")


def test_unknown_name_and_bad_override(monkeypatch):
    with pytest.raises(FakeUnavailableError, match="unknown fake 'nope'; known fakes: mixpanel, braze"):
        load_fake("nope")
    monkeypatch.setenv("HARNESS_FAKE_MODULES", "justaname")
    with pytest.raises(FakeUnavailableError, match="expected name=module pairs"):
        fake_names()
