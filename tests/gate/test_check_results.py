"""Existing checks' results as gate checks: audit severities, validations, drift, verify."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from parity.api import gate
from parity.api._gate_checks import audit_check
from parity.api._validation import ValidationOutcome
from parity.core.env_rules import Difference, EnvDiff, Risk
from parity.core.errors import UsageError
from parity.data.validate import FailedCheck, Validation
from parity.env.advisories import load_advisories, severity_of
from parity.env.audit import AuditResult, Finding
from parity.env.verification import VerifyResult
from parity.gate.verdict import Severity, Status
from parity.monitor.drift import DriftReport, FeatureDrift


def _finding(package: str, severity: str) -> Finding:
    return Finding(package, "1.0", f"GHSA-{package}", (), "bad", ("1.1",), severity)


def test_advisories_keep_the_severity_they_state(tmp_path: Path) -> None:
    assert severity_of({"database_specific": {"severity": "MODERATE"}}) == "moderate"
    assert severity_of({"database_specific": {"severity": "Medium"}}) == "moderate"
    assert severity_of({"database_specific": {"severity": "weird"}}) == "unknown"
    assert severity_of({}) == "unknown"
    advisory = {
        "id": "GHSA-x",
        "summary": "s",
        "database_specific": {"severity": "CRITICAL"},
        "affected": [{"package": {"ecosystem": "PyPI", "name": "six"}, "versions": ["1.0"]}],
    }
    (tmp_path / "a.json").write_text(json.dumps(advisory))
    (found,) = load_advisories(tmp_path).affecting("six", "1.0")
    assert found.advisory.severity == "critical"


def test_an_audit_fails_at_or_above_its_severity_and_on_unknown_unless_told() -> None:
    result = AuditResult("e" * 64, (_finding("low-pkg", "low"), _finding("odd-pkg", "unknown")), 10)
    failed = audit_check("audit", result, "high")
    assert failed.status is Status.FAILED
    assert failed.summary == "1 advisories at or above high in 10 packages"
    severities = {f.message.split()[0]: f.severity for f in failed.findings}
    assert severities == {"odd-pkg": Severity.HIGH, "low-pkg": Severity.INFO}
    assert audit_check("audit", result, "high", unknown="pass").status is Status.PASSED
    assert audit_check("audit", result, "low", unknown="pass").status is Status.FAILED
    with pytest.raises(ValueError, match="severity must be one of"):
        audit_check("audit", result, "severe")


def test_each_existing_result_becomes_one_check() -> None:
    validation = Validation("d" * 64, "s" * 64, 3, (FailedCheck("age", "ge(0)", 2, ("-1",)),))
    outcome = ValidationOutcome(validation, "r" * 64, True)
    (check,) = gate.verdict_of(outcome, "table", subject="data/t.csv").checks
    assert (check.kind, check.status) == ("data-validate", Status.FAILED)
    assert check.findings[0].path == "data/t.csv"
    assert check.findings[0].message == "age: ge(0) failed for 2 rows (e.g. -1)"
    drifted = FeatureDrift("x", 500, 0.4, 0.3, 0.1, 0.1, True, 1.0)
    (drift,) = gate.verdict_of(DriftReport(500, 100, (drifted,)), "drift", subject="m@p").checks
    assert drift.status is Status.FAILED
    assert drift.findings[0].message.startswith("x drifted: PSI 0.4000 (limit 0.1000)")
    (few,) = gate.verdict_of(DriftReport(5, 100, ()), "drift").checks
    assert few.status is Status.ERROR
    difference = Difference("package sk", "package.pure.major", "1", "2", Risk.HIGH, "major")
    verify = VerifyResult(EnvDiff("a", "b", (difference,)), Risk.HIGH)
    (env,) = gate.verdict_of(verify, "env", subject="bc@production").checks
    assert env.summary == "this environment is not safe for bc@production"
    assert env.findings[0].message == "package sk: expected 1, found 2 (major)"
    with pytest.raises(UsageError, match="no gate check is made of a str"):
        gate.verdict_of("nothing", "x")
