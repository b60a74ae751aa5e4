"""The verdict as a GitLab code quality report: a JSON list of issues a merge request shows.

Each finding of a check that did not pass is one issue with the fields GitLab documents:
``description``, ``check_name``, ``fingerprint`` (stable: the same finding keeps it, so GitLab
can tell new issues from fixed ones), ``severity`` (info, minor, major, critical, blocker) and
``location.path`` with ``location.lines.begin``. A finding about no file points at the policy.
"""

from __future__ import annotations

import json

from parity.core.ids import digest_bytes
from parity.gate.verdict import GateVerdict, Severity, Status

_SEVERITY = {
    Severity.CRITICAL: "critical",
    Severity.HIGH: "major",
    Severity.MEDIUM: "minor",
    Severity.LOW: "info",
    Severity.INFO: "info",
}


def render_codequality(verdict: GateVerdict, default_path: str = "parity.toml") -> str:
    """The code quality JSON of ``verdict``: a list, empty when every check passed."""
    issues = []
    for check in verdict.checks:
        if check.status is Status.PASSED:
            continue
        findings = [(f.severity, f.message, f.path, f.line) for f in check.findings]
        if not findings:
            findings = [(Severity.HIGH, check.summary, None, 1)]
        for severity, message, path, line in findings:
            where = path or default_path
            if check.status is Status.ERROR:
                severity = Severity.MEDIUM
            key = "\0".join((check.kind, check.name, message, where))
            issues.append(
                {
                    "description": f"{check.name}: {message}",
                    "check_name": f"parity.{check.kind}",
                    "fingerprint": digest_bytes(key.encode())[:32],
                    "severity": _SEVERITY[severity],
                    "location": {"path": where, "lines": {"begin": line}},
                }
            )
    return json.dumps(issues, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
