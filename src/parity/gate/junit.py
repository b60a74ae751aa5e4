"""The verdict as JUnit XML, the report format Jenkins and GitLab show natively.

One ``<testsuite>`` named after the gate, one ``<testcase>`` per check: a failed check carries a
``<failure>``, one that could not be evaluated an ``<error>``, each with the summary as its
message and the findings, ranked, as its text. No times or host names: the same verdict gives
the same file (``time`` is the required-by-some "0").
"""

from __future__ import annotations

from xml.etree import ElementTree

from parity.gate.verdict import CheckResult, GateVerdict, Status

CLASSNAME = "parity.gate"


def _case(check: CheckResult) -> ElementTree.Element:
    case = ElementTree.Element(
        "testcase", {"name": check.name, "classname": f"{CLASSNAME}.{check.kind}", "time": "0"}
    )
    if check.status is Status.PASSED:
        return case
    tag = "failure" if check.status is Status.FAILED else "error"
    child = ElementTree.SubElement(case, tag, {"message": check.summary, "type": check.kind})
    child.text = "\n".join(f"[{f.severity}] {f.message}" for f in check.findings) or check.summary
    return case


def render_junit(verdict: GateVerdict) -> str:
    """The JUnit XML document of ``verdict`` (UTF-8 text with its XML declaration)."""
    counts = verdict.counts()
    totals = {
        "tests": str(len(verdict.checks)),
        "failures": str(counts[str(Status.FAILED)]),
        "errors": str(counts[str(Status.ERROR)]),
    }
    suites = ElementTree.Element("testsuites", {"name": verdict.name, **totals, "time": "0"})
    suite = ElementTree.SubElement(
        suites, "testsuite", {"name": verdict.name, **totals, "skipped": "0", "time": "0"}
    )
    for check in verdict.checks:
        suite.append(_case(check))
    ElementTree.indent(suites)
    body = ElementTree.tostring(suites, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'
