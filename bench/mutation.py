"""Mutation testing of the rule modules (issue 14): does each small deliberate bug in a rule make a test fail?

Not a test and not run by CI (it is slow): each mutant runs the module's own tests. Uses cosmic-ray
(`pip install -e '.[mutation]'`), which applies one mutation at a time to the files of a session and runs a
test command; it works offline on this flat layout and never needs its own copy of the package layout
(mutmut 3 rebuilds the package under `mutants/`, which this editable install and the pytest plugin entry
point would bypass). The mutations are made in a scratch copy of the work tree, never in the tree itself.

    python bench/mutation.py --list                       # the modules and the tests each one runs
    python bench/mutation.py mixpanel.storage core.clock  # some modules (names from --list)
    python bench/mutation.py --group rules                # the rule modules of issue 14
    python bench/mutation.py --group layers               # connectors, cohorts, the sync engine

Prints, per module: mutants, killed, survived, incompetent (the mutant could not even run: counted as
killed), the score killed / (killed + survived), the run time, and the diff of every survivor. A survivor
is either killed by a new test or explained in a comment beside the code as equivalent, on the line before
a `# pragma: no mutate` (which `cr-filter-pragma` honours) where the equivalence is certain.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# The mutations a reviewer would try on a rule: a boundary moved (< for <=), a test negated, a constant
# changed, a loop skipped, a sign flipped. Operators outside this set (every binary operator into every
# other, `is` into `<`, ...) mostly make mutants that crash at once, which only inflates the score.
OPERATORS = [
    "core/ReplaceComparisonOperator_(Lt_LtE|LtE_Lt|Gt_GtE|GtE_Gt|Eq_NotEq|NotEq_Eq|Is_IsNot|IsNot_Is|In_NotIn|NotIn_In)",
    "core/ReplaceBinaryOperator_(Add_Sub|Sub_Add|Mul_Div|Div_Mul|FloorDiv_Div|Mod_FloorDiv)",
    "core/(AddNot|ReplaceTrueWithFalse|ReplaceFalseWithTrue|ReplaceAndWithOr|ReplaceOrWithAnd)",
    "core/(NumberReplacer|ZeroIterationForLoop|ReplaceBreakWithContinue|ReplaceContinueWithBreak)",
    "core/ReplaceUnaryOperator_USub_UAdd",
]

# module (short name) -> (source file, tests it runs). The tests are the module's own test folder's files that
# exercise it, so one mutant costs seconds rather than the whole suite.
RULE_MODULES: dict[str, tuple[str, list[str]]] = {
    "mapping.reference": ("harness/mapping/reference.py", [
        "tests/mapping/test_rule_boundaries.py", "tests/mapping/test_rules.py",
        "tests/mapping/test_reference_agrees.py", "tests/mapping/test_legacy_profile.py"]),
    "mapping.plan": ("harness/mapping/plan.py", [
        "tests/mapping/test_rule_boundaries.py", "tests/mapping/test_rules.py",
        "tests/mapping/test_reference_agrees.py", "tests/mapping/test_legacy_profile.py",
        "tests/mapping/test_custom_http_shape.py"]),
    "mixpanel.validation": ("fakes/mixpanel/validation.py", [
        "tests/mixpanel/test_rule_boundaries.py", "tests/mixpanel/test_import.py",
        "tests/mixpanel/test_validation_fast_path.py", "tests/mixpanel/test_track_engage_groups.py"]),
    "mixpanel.decoding": ("fakes/mixpanel/decoding.py", [
        "tests/mixpanel/test_rule_boundaries.py", "tests/mixpanel/test_decoding.py", "tests/mixpanel/test_http.py"]),
    "mixpanel.storage": ("fakes/mixpanel/storage.py", [
        "tests/mixpanel/test_rule_boundaries.py", "tests/mixpanel/test_store_wire.py", "tests/mixpanel/test_export.py"]),
    "mixpanel.tracking": ("fakes/mixpanel/tracking.py", [
        "tests/mixpanel/test_rule_boundaries.py", "tests/mixpanel/test_track_engage_groups.py"]),
    "braze.users": ("fakes/braze/users.py", [
        "tests/braze/test_rule_boundaries.py", "tests/braze/test_users.py", "tests/braze/test_apply.py"]),
    "braze.membership": ("fakes/braze/membership.py", [
        "tests/braze/test_rule_boundaries.py", "tests/braze/test_apply.py",
        "tests/braze/test_history_state_machine.py", "tests/braze/test_users.py"]),
    "braze.validation": ("fakes/braze/validation.py", [
        "tests/braze/test_rule_boundaries.py", "tests/braze/test_validation.py", "tests/braze/test_declare.py"]),
    "core.masking": ("fakes/core/masking.py", [
        "tests/core/test_rule_boundaries.py", "tests/core/test_masking.py", "tests/core/test_hostile_input.py"]),
    "core.clock": ("fakes/core/clock.py", [
        "tests/core/test_rule_boundaries.py", "tests/core/test_clock.py", "tests/core/test_scheduler.py"]),
    "generate.sends": ("harness/generate/sends.py", [
        "tests/generate/test_rule_boundaries.py", "tests/generate/test_streams.py"]),
    "generate.lifecycle_engine": ("harness/generate/lifecycle_engine.py", [
        "tests/generate/test_rule_boundaries.py", "tests/generate/test_streams.py"]),
}

LAYER_MODULES: dict[str, tuple[str, list[str]]] = {
    "cohorts.intervals": ("harness/cohorts/intervals.py", [
        "tests/cohorts/test_did_event_windows.py", "tests/cohorts/test_membership_over_time.py",
        "tests/cohorts/test_agrees_with_brute_force.py"]),
    "cohorts.did_event": ("harness/cohorts/did_event.py", [
        "tests/cohorts/test_did_event_windows.py", "tests/cohorts/test_agrees_with_brute_force.py"]),
    "cohorts.profile_filter": ("harness/cohorts/profile_filter.py", [
        "tests/cohorts/test_profile_filters.py", "tests/cohorts/test_agrees_with_brute_force.py"]),
    "cohorts.evaluation": ("harness/cohorts/evaluation.py", ["tests/cohorts"]),
    "connectors.delivery": ("harness/connectors/delivery.py", ["tests/connectors"]),
    "sync.plan": ("harness/connectors/cohort_sync/plan.py", [
        "tests/sync/test_runs.py", "tests/sync/test_edge_cases.py"]),
    "sync.members": ("harness/connectors/cohort_sync/members.py", [
        "tests/sync/test_config_and_members.py", "tests/sync/test_runs.py"]),
    "sync.engine": ("harness/connectors/cohort_sync/engine.py", ["tests/sync"]),
}

GROUPS = {"rules": RULE_MODULES, "layers": LAYER_MODULES}
MODULES = {**RULE_MODULES, **LAYER_MODULES}


def _scratch_copy(into: Path) -> None:
    """The work tree's tracked and untracked (not ignored) files, as they stand now."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO, check=True,
                            capture_output=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            target = into / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def _config(module: str, tests: list[str], timeout_s: float) -> str:
    command = f"{sys.executable} -m pytest -x -q -p no:cacheprovider -p no:randomly " + " ".join(tests)
    # cr-filter-operators excludes what matches; one negative look-ahead keeps exactly OPERATORS.
    keep = "|".join(f"(?:{op})" for op in OPERATORS)
    return (f'[cosmic-ray]\nmodule-path = "{module}"\ntimeout = {timeout_s}\nexcluded-modules = []\n'
            f'test-command = "{command}"\n\n[cosmic-ray.distributor]\nname = "local"\n\n'
            f'[cosmic-ray.filters.operators-filter]\nexclude-operators = [{json.dumps(f"^(?!(?:{keep})$).*")}]\n')


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)


def mutate(name: str, scratch: Path, timeout_s: float, env: dict[str, str]) -> dict:
    module, tests = MODULES[name]
    work = scratch / name
    config, session = work / "cr.toml", work / "session.sqlite"
    work.mkdir(parents=True, exist_ok=True)
    config.write_text(_config(module, tests, timeout_s), encoding="utf-8")
    bin_dir = Path(sys.executable).parent
    started = time.perf_counter()
    for step in ([str(bin_dir / "cosmic-ray"), "init", str(config), str(session)],
                 [str(bin_dir / "cr-filter-operators"), str(session), str(config)],
                 [str(bin_dir / "cr-filter-pragma"), str(session)],
                 [str(bin_dir / "cosmic-ray"), "exec", str(config), str(session)]):
        done = _run(step, scratch / "tree", env)
        if done.returncode != 0:
            raise SystemExit(f"{name}: {' '.join(step[:2])} failed:\n{done.stderr[-2000:]}")
    elapsed = time.perf_counter() - started
    dump = _run([str(bin_dir / "cosmic-ray"), "dump", str(session)], scratch / "tree", env).stdout
    counts = {"killed": 0, "survived": 0, "incompetent": 0, "skipped": 0}
    survivors = []
    for line in filter(None, dump.splitlines()):
        job, result = json.loads(line)
        if result is None:
            continue
        if result.get("worker_outcome") == "skipped":
            counts["skipped"] += 1
            continue
        outcome = result.get("test_outcome")
        counts[outcome] = counts.get(outcome, 0) + 1
        if outcome == "survived":
            mutation = job["mutations"][0]
            survivors.append((mutation["operator_name"], mutation["start_pos"][0], result.get("diff") or ""))
    judged = counts["killed"] + counts["incompetent"] + counts["survived"]
    score = (counts["killed"] + counts["incompetent"]) / judged if judged else 1.0
    return {"module": name, "file": module, "seconds": elapsed, "score": score, "survivors": survivors, **counts}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("modules", nargs="*", help="short module names (see --list)")
    parser.add_argument("--group", choices=sorted(GROUPS), help="every module of a group")
    parser.add_argument("--list", action="store_true", help="list the modules and their tests")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds one mutant's tests may take")
    parser.add_argument("--keep", action="store_true", help="keep the scratch copy (its path is printed)")
    args = parser.parse_args(argv)
    if args.list:
        for group, modules in GROUPS.items():
            for name, (path, tests) in modules.items():
                print(f"{group:7} {name:26} {path:42} {' '.join(tests)}")
        return 0
    names = list(args.modules) + (list(GROUPS[args.group]) if args.group else [])
    unknown = [n for n in names if n not in MODULES]
    if unknown or not names:
        parser.error(f"unknown module(s): {', '.join(unknown)}" if unknown else "name modules or a --group")
    if shutil.which("cosmic-ray", path=str(Path(sys.executable).parent)) is None:
        parser.error("cosmic-ray is not installed: pip install -e '.[mutation]'")
    scratch = Path(tempfile.mkdtemp(prefix="harness-mutation-"))
    # The deterministic hypothesis profile: a survivor must not depend on the examples one run happened to draw.
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "HYPOTHESIS_PROFILE": "ci"}
    # The scratch tree is first on the path, ahead of the editable install that points at the work tree.
    env["PYTHONPATH"] = str(scratch / "tree")
    shared = os.environ.get("HARNESS_SHARED_DIR") or str(REPO.parent / "shared")
    env["HARNESS_SHARED_DIR"] = shared
    total = {"killed": 0, "survived": 0, "incompetent": 0, "seconds": 0.0}
    try:
        _scratch_copy(scratch / "tree")
        for name in names:
            result = mutate(name, scratch, args.timeout, env)
            for key in total:
                total[key] += result[key]
            print(f"{name:26} mutants {result['killed'] + result['survived'] + result['incompetent']:4}  "
                  f"killed {result['killed']:4}  survived {result['survived']:3}  incompetent "
                  f"{result['incompetent']:3}  filtered {result['skipped']:3}  "
                  f"score {100 * result['score']:5.1f} %  {result['seconds']:7.0f} s", flush=True)
            for operator, line, diff in result["survivors"]:
                print(f"  survived: {result['file']}:{line} {operator}")
                for diff_line in diff.splitlines():
                    if diff_line.startswith(("+", "-")) and not diff_line.startswith(("+++", "---")):
                        print(f"      {diff_line}")
        judged = total["killed"] + total["survived"] + total["incompetent"]
        score = 100 * (total["killed"] + total["incompetent"]) / judged if judged else 100.0
        print(f"{'total':26} mutants {judged:4}  survived {total['survived']:3}  score {score:5.1f} %  "
              f"{total['seconds']:7.0f} s")
    finally:
        if args.keep:
            print(f"scratch copy kept at {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
