"""The `harness_scenarios` pytest plugin (a `pytest11` entry point), in the way Tavern collects YAML tests:

- scenario files are pytest items: `pytest scenarios/` runs each case with pytest's own reports, `-k`, `-x`
  and xdist; a scenario file is a `.yaml`/`.yml` whose first lines name `scenario.schema.json` (the
  `# yaml-language-server: $schema=…` line), or any such file inside a folder named `scenarios` (fragments
  excepted); a failure shows the readable diff and the replay command; `--harness-sut` and `--harness-seed`
  do what `harness run --sut` and `--seed` do;
- fixtures: `harness_fleet` (both fakes in-process on one clock), `harness_world` (`make(seed, **config)`),
  `harness_pipeline` (`make(config=None)`: a `Pipeline` on `harness_fleet`), `harness_network_guard`;
- the network guard: with `harness_network_guard = true` in the ini file (or `--harness-network-guard`) every
  test fails with one line if it tries to reach a non-loopback address (except tests marked
  `harness_network_allowed`); scenario items always run guarded.

Heavy imports happen inside hooks and fixtures, so projects that do not use them pay nothing at start-up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from fakes.fleet import FakeFleet
    from harness.generate import World
    from harness.scenarios.loader import Case
    from harness.scenarios.pipeline import Pipeline, PipelineConfig
    from harness.scenarios.results import CaseResult
    from harness.testing.network_guard import NetworkGuard

SCHEMA_MARK = "scenario.schema.json"
FOLDER_MARK = "scenarios"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness", "Braze <-> Mixpanel harness")
    group.addoption("--harness-sut", default=None, metavar="SPEC",
                    help="scenario items: the Currents leg under test (reference, module:function, http(s)://URL)")
    group.addoption("--harness-seed", type=int, default=None, metavar="N", help="scenario items: override seeds")
    group.addoption("--harness-network-guard", action="store_true", default=False,
                    help="fail any test that tries to reach a non-loopback address")
    parser.addini("harness_network_guard", "fail any test that tries to reach a non-loopback address",
                  type="bool", default=False)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "harness_network_allowed: the network guard leaves this test alone (a test "
                                       "that checks what happens when a request is not intercepted)")


def _is_scenario_file(path: Path) -> bool:
    if path.suffix not in (".yaml", ".yml") or path.name.startswith("_") or "fragments" in path.parts:
        return False
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            head = "".join(handle.readline() for _ in range(3))
    except OSError:
        return False
    return SCHEMA_MARK in head or FOLDER_MARK in path.parent.parts


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if _is_scenario_file(file_path):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


class ScenarioFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        from harness.scenarios.loader import load_file
        from harness.scenarios.source import ScenarioError

        try:
            cases = load_file(self.path)
        except ScenarioError as exc:
            raise self.CollectError(str(exc)) from None
        for case in cases:
            yield ScenarioItem.from_parent(self, name=case.case_id, case=case)


class ScenarioFailed(Exception):
    """A scenario case that failed or crashed; its text is the runner's failure text."""


class ScenarioItem(pytest.Item):
    def __init__(self, *, case: Case, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.extra_keyword_matches.update(case.tags)  # `pytest -k cohort-sync` selects by tag
        self.result: CaseResult | None = None

    def runtest(self) -> None:
        from harness.scenarios.runner import RunOptions, run_one
        from harness.scenarios.sut import ReferenceSut, load_sut
        from harness.testing.network_guard import NetworkGuard

        spec = self.config.getoption("--harness-sut")
        options = RunOptions(sut=load_sut(spec) if spec else ReferenceSut(), sut_spec=spec,
                             seed=self.config.getoption("--harness-seed"))
        if spec and not self.case.about_currents:
            pytest.skip("not about the Currents leg: --harness-sut does not apply")
        with NetworkGuard() as guard:
            self.result = run_one(self.case, options)
        if guard.violations:
            raise ScenarioFailed(guard.message)
        if not self.result.passed:
            raise ScenarioFailed(f"{self.result.failure_text()}\nreplay: {self.result.replay}")

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, ScenarioFailed):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        line = self.case.line_of(("name",))
        return self.path, (line - 1 if line else None), f"scenario {self.case.case_id}"


# -- the network guard for every test ---------------------------------------------------------------------
@pytest.fixture
def harness_network_guard() -> Iterator[NetworkGuard]:
    """Fail the test with one line if it tries to reach a non-loopback address."""
    from harness.testing.network_guard import NetworkGuard

    with NetworkGuard() as guard:
        yield guard
    if guard.violations:
        pytest.fail(guard.message, pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    guarded = item.config.getoption("--harness-network-guard") or item.config.getini("harness_network_guard")
    if not guarded or isinstance(item, ScenarioItem) or item.get_closest_marker("harness_network_allowed"):
        # scenario items guard themselves
        return (yield)
    from harness.testing.network_guard import NetworkGuard

    with NetworkGuard() as guard:
        try:
            result = yield
        except BaseException:
            if guard.violations:  # the refusal is the cause, whatever the test made of it
                raise AssertionError(guard.message) from None
            raise
    if guard.violations:
        pytest.fail(guard.message, pytrace=False)
    return result


# -- fixtures -------------------------------------------------------------------------------------------
@pytest.fixture
def harness_fleet() -> Iterator[FakeFleet]:
    """Fake Mixpanel and fake Braze in-process on one simulated clock (a fresh fleet per test)."""
    from fakes.fleet import FakeFleet

    with FakeFleet() as fleet:
        yield fleet


@pytest.fixture
def harness_world() -> Callable[..., World]:
    """`make(seed, **WorldConfig settings)` → the seeded world (users, apps, campaigns, canvases)."""
    from harness.generate import WorldConfig, build_world

    def make(seed: int = 0, **config: Any) -> World:
        return build_world(seed, WorldConfig(**config) if config else None)
    return make


@pytest.fixture
def harness_pipeline(harness_fleet: FakeFleet) -> Iterator[Callable[..., Pipeline]]:
    """`make(config=None)` → a started `Pipeline` (both flows) on `harness_fleet`; closed after the test."""
    from harness.scenarios.pipeline import Pipeline

    made: list[Pipeline] = []

    def make(config: PipelineConfig | None = None, *, start: bool = True) -> Pipeline:
        pipeline = Pipeline(harness_fleet, config)
        made.append(pipeline)
        return pipeline.start() if start else pipeline
    yield make
    for pipeline in made:
        pipeline.close()
