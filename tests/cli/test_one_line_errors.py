"""DESIGN.md §5, issue 12 item 7: every command answers a bad option with one line on stderr, no usage block."""

from __future__ import annotations

import pytest

from harness.cli import main


def _run(capsys, argv: list[str]) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code  # type: ignore[assignment]
    out, err = capsys.readouterr()
    return int(code or 0), out, err


@pytest.mark.parametrize("argv, prog, message", [
    (["map", "--jobs", "x"], "harness map", "expected a number of processes or 'auto'"),
    (["map", "--no-such-option"], "harness map", "unrecognized arguments: --no-such-option"),
    (["serve", "--mixpanel-port", "70000"], "harness serve", "port must be between 0 and 65535"),
    (["serve", "--no-such-option"], "harness serve", "unrecognized arguments"),
    (["list"], "harness list", "required"),
    (["list", "events", "--profile", "x"], "harness list events", "invalid choice: 'x'"),
    (["list", "scenarios", "--nope"], "harness list", "unrecognized arguments: --nope"),
    (["reconcile", "x.avro"], "harness reconcile", "--mixpanel"),
    (["generate", "--seed"], "harness generate", "expected one argument"),
    (["no-such-command"], "harness", "invalid choice: 'no-such-command'"),
])
def test_argument_errors_are_one_line(capsys, argv, prog, message):
    code, out, err = _run(capsys, argv)
    lines = err.strip().splitlines()
    assert code == 2 and out == ""
    assert len(lines) == 1, err
    assert lines[0].startswith(f"{prog}: error: ") and message in lines[0]
