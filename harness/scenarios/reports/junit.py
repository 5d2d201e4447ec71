"""The JUnit XML report: one `<testcase>` per scenario case, a `<failure>` with the readable diff, an
`<error>` with the traceback of a case that crashed; the replay command and seed as properties and in
`<system-out>`. The shape CI viewers and junitparser read."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from harness.scenarios.results import RunResult

# XML 1.0 cannot carry most control characters, even escaped.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _clean(text: str) -> str:
    return _INVALID_XML.sub("\ufffd", text)


def junit_tree(result: RunResult) -> ET.ElementTree:
    counts = result.counts
    suites = ET.Element("testsuites", name="harness run", tests=str(len(result.cases)),
                        failures=str(counts["failed"]), errors=str(counts["error"]), time=f"{result.wall_s:.3f}")
    suite = ET.SubElement(suites, "testsuite", name="scenarios", tests=str(len(result.cases)),
                          failures=str(counts["failed"]), errors=str(counts["error"]), skipped="0",
                          time=f"{result.wall_s:.3f}")
    for case in result.cases:
        element = ET.SubElement(suite, "testcase", name=_clean(case.case_id), classname=_classname(case.file),
                                file=_clean(case.file), time=f"{case.wall_s:.3f}")
        if case.line:
            element.set("line", str(case.line))
        properties = ET.SubElement(element, "properties")
        for name, value in (("seed", str(case.seed)), ("sut", case.sut), ("replay", case.replay),
                            ("tags", ",".join(case.tags))):
            ET.SubElement(properties, "property", name=name, value=_clean(value))
        if case.status == "failed":
            text = case.failure_text()
            failure = ET.SubElement(element, "failure", message=_clean(text.splitlines()[0] if text else "failed"),
                                    type="ScenarioFailure")
            failure.text = _clean(text)
        elif case.status == "error":
            text = case.error or "the scenario crashed"
            last = text.strip().splitlines()[-1] if text.strip() else "error"
            error = ET.SubElement(element, "error", message=_clean(last), type="ScenarioError")
            error.text = _clean(text)
        out = ET.SubElement(element, "system-out")
        out.text = _clean(f"seed {case.seed}, sut {case.sut}\nreplay: {case.replay}\n")
    ET.indent(suites)
    return ET.ElementTree(suites)


def _classname(file: str) -> str:
    stem = Path(file).with_suffix("")
    return ".".join(p for p in stem.parts if p not in ("", ".", "..")) or "scenarios"


class JunitReportWriter:
    def write(self, result: RunResult, path: Path) -> None:
        junit_tree(result).write(path, encoding="utf-8", xml_declaration=True)
