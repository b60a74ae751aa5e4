"""The verdict as JUnit XML, the report format Jenkins and GitLab show natively.

One ``<testsuite>`` named after the gate, one ``<testcase>`` per check: a failed check carries a
``<failure>``, one that could not be evaluated an ``<error>``, each with the summary as its
message and the findings, ranked, as its text. No times or host names: the same verdict gives
the same file (``time`` is the required-by-some "0").
"""

from __future__ import annotations

import re
from xml.etree import ElementTree

from parity.gate.verdict import CheckResult, GateVerdict, Status

CLASSNAME = "parity.gate"


# Characters XML 1.0 cannot hold at all (escaping does not help): names and messages come from
# policies, data and stderr, and one of them would make the whole report unreadable.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _xml(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _case(check: CheckResult) -> ElementTree.Element:
    case = ElementTree.Element(
        "testcase",
        {"name": _xml(check.name), "classname": f"{CLASSNAME}.{_xml(check.kind)}", "time": "0"},
    )
    if check.status is Status.PASSED:
        return case
    tag = "failure" if check.status is Status.FAILED else "error"
    child = ElementTree.SubElement(
        case, tag, {"message": _xml(check.summary), "type": _xml(check.kind)}
    )
    findings = "\n".join(f"[{f.severity}] {f.message}" for f in check.findings)
    child.text = _xml(findings or check.summary)
    return case


def render_junit(verdict: GateVerdict) -> str:
    """The JUnit XML document of ``verdict`` (UTF-8 text with its XML declaration)."""
    counts = verdict.counts()
    totals = {
        "tests": str(len(verdict.checks)),
        "failures": str(counts[str(Status.FAILED)]),
        "errors": str(counts[str(Status.ERROR)]),
    }
    name = _xml(verdict.name)
    suites = ElementTree.Element("testsuites", {"name": name, **totals, "time": "0"})
    suite = ElementTree.SubElement(
        suites, "testsuite", {"name": name, **totals, "skipped": "0", "time": "0"}
    )
    for check in verdict.checks:
        suite.append(_case(check))
    ElementTree.indent(suites)
    body = ElementTree.tostring(suites, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'
