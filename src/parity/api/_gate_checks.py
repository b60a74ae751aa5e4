"""The results of Parity's checks as gate check results, and the policy's checks evaluated.

Each ``*_check`` turns the result of an existing check (``env verify``, ``check-lock``,
``data validate``, ``monitor drift``, ``env audit``) into a ``CheckResult``, so the same
renderers serve ``parity gate`` and each command's own ``--junit``/``--markdown``. ``evaluate``
runs one policy check in a workspace; what stops it (a model that is not there, a missing file)
makes it an ``error``: could not be evaluated, never passed.

Not public: ``parity.api.gate`` is the door.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parity.api._lineage import model_lineage
from parity.api._models import ModelVerification, verify_model
from parity.api._repro_facts import resolve_run
from parity.api._validation import ValidationOutcome, validate_table
from parity.api.environments import audit as audit_environment
from parity.api.environments import check_lock
from parity.core.env_rules import Risk
from parity.core.errors import NotFoundError, ParityError, UsageError
from parity.env.advisories import SEVERITIES, UNKNOWN_SEVERITY
from parity.env.audit import AuditResult
from parity.env.check_lock import LockCheck
from parity.env.verification import VerifyResult
from parity.gate.judge import judge_lineage, judge_metric, judge_repro
from parity.gate.policy import PolicyCheck
from parity.gate.verdict import CheckResult, Finding, Severity, Status
from parity.registry.loading import FileProblem
from parity.repro.report import ReproReport
from parity.workspace import Workspace

if TYPE_CHECKING:
    from parity.monitor.drift import DriftReport

# Rows a drift check needs by default (``parity.monitor.drift.MIN_ROWS``, which loads NumPy).
DRIFT_MIN_ROWS = 100

_RISK_SEVERITY = {
    Risk.HIGH: Severity.HIGH,
    Risk.MEDIUM: Severity.MEDIUM,
    Risk.LOW: Severity.LOW,
    Risk.INFO: Severity.INFO,
}
_ADVISORY_SEVERITY = {
    "critical": Severity.CRITICAL,
    "high": Severity.HIGH,
    "moderate": Severity.MEDIUM,
    "low": Severity.LOW,
}


def verify_check(
    name: str,
    result: VerifyResult,
    subject: str,
    files: tuple[FileProblem, ...] = (),
) -> CheckResult:
    """An environment verified for ``subject`` (a model, or what ``env verify`` named)."""
    findings = [
        Finding(
            f"{d.subject}: expected {d.expected or '-'}, found {d.actual or '-'} ({d.reason})",
            _RISK_SEVERITY[d.risk],
        )
        for d in result.diff.differences
        if d.risk >= result.threshold
    ]
    findings += [Finding(f"model file {p.path}: {p.problem}", Severity.CRITICAL) for p in files]
    ok = result.ok and not files
    safe = "safe" if ok else "not safe"
    summary = f"this environment is {safe} for {subject}"
    return CheckResult(
        name, "env-verify", Status.PASSED if ok else Status.FAILED, summary, tuple(findings)
    )


def lock_check(name: str, result: LockCheck) -> CheckResult:
    path = os.path.relpath(result.lock.path) if Path(result.lock.path).is_absolute() else None
    findings = [
        Finding(
            f"{d.kind} {d.name}: locked {d.expected or '-'}, installed {d.actual or '-'}",
            Severity.HIGH if d.kind != "extra" else Severity.MEDIUM,
            path or result.lock.path,
        )
        for d in result.drift
    ]
    lock_name = Path(result.lock.path).name
    summary = (
        f"all {result.matched} packages of {lock_name} match"
        if result.ok
        else f"{len(result.drift)} packages drift from {lock_name}"
    )
    status = Status.PASSED if result.ok else Status.FAILED
    return CheckResult(name, "check-lock", status, summary, tuple(findings))


def validation_check(name: str, outcome: ValidationOutcome, path: str) -> CheckResult:
    validation = outcome.validation
    findings = [
        Finding(
            f"{f.column or 'table'}: {f.check} failed for {f.failure_cases} rows"
            + (f" (e.g. {', '.join(f.examples[:3])})" if f.examples else ""),
            Severity.HIGH,
            path,
        )
        for f in validation.failures
    ]
    status = Status.PASSED if validation.ok else Status.FAILED
    summary = f"{path}: {validation.rows} rows, " + (
        "valid" if validation.ok else f"{len(validation.failures)} checks failed"
    )
    return CheckResult(name, "data-validate", status, summary, tuple(findings))


def drift_check(name: str, report: DriftReport, model: str) -> CheckResult:
    if not report.enough_rows:
        summary = f"{model}: {report.rows} rows logged, {report.min_rows} needed for a verdict"
        return CheckResult(name, "drift", Status.ERROR, summary)
    findings = [
        Finding(
            f"{f.name} drifted: PSI {f.psi:.4f} (limit {f.psi_threshold:.4f})"
            + ("" if f.ks is None else f", KS {f.ks:.4f} (limit {f.ks_threshold or 0:.4f})"),
            Severity.HIGH,
        )
        for f in report.features
        if f.drifted
    ]
    status = Status.PASSED if report.ok else Status.FAILED
    summary = f"{model}: {len(report.drifted)} of {len(report.features)} features drifted"
    return CheckResult(name, "drift", status, summary, tuple(findings))


def audit_check(
    name: str, result: AuditResult, severity: str = "high", unknown: str = "fail"
) -> CheckResult:
    """Findings at or above ``severity`` fail; ``unknown`` severity counts as high unless
    ``unknown`` is ``pass``."""
    if severity not in SEVERITIES:
        raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}, not {severity!r}")
    floor = SEVERITIES.index(severity)
    findings, failing = [], 0
    for f in result.findings:
        stated = f.severity if f.severity != UNKNOWN_SEVERITY else "high"
        counts = f.severity != UNKNOWN_SEVERITY or unknown != "pass"
        blocking = counts and SEVERITIES.index(stated) >= floor
        failing += blocking
        fixed = f" (fixed in {', '.join(f.fixed)})" if f.fixed else ""
        findings.append(
            Finding(
                f"{f.package} {f.version}: {f.advisory} [{f.severity}] {f.summary}{fixed}",
                _ADVISORY_SEVERITY.get(f.severity, Severity.HIGH) if blocking else Severity.INFO,
            )
        )
    status = Status.FAILED if failing else Status.PASSED
    summary = f"{failing} advisories at or above {severity} in {result.packages} packages"
    return CheckResult(name, "audit", status, summary, tuple(findings))


def repro_check(name: str, report: ReproReport) -> CheckResult:
    """A repro's verdict: passed when it reproduced, its ranked causes as findings."""
    severities = {"data": Severity.HIGH, "code": Severity.HIGH, "environment": Severity.HIGH}
    findings = [
        Finding(f"{c.area}: {c.text}", severities.get(c.area, Severity.MEDIUM))
        for c in report.causes
    ]
    findings += [
        Finding(f"{c.kind} {c.subject}: {c.outcome}: {c.detail}", Severity.LOW)
        for c in report.differences
    ]
    status = Status.PASSED if report.ok else Status.FAILED
    summary = f"{report.reference}: {report.verdict} (expected {report.plan.expectation})"
    return CheckResult(name, "repro", status, summary, tuple(findings))


def check_of(result: object, name: str, subject: str | None = None) -> CheckResult:
    """The check result of an existing check's result, by its type."""
    if isinstance(result, ModelVerification):
        return verify_check(name, result.result, result.model, result.files)
    if isinstance(result, VerifyResult):
        return verify_check(name, result, subject or "the environment")
    if isinstance(result, LockCheck):
        return lock_check(name, result)
    if isinstance(result, AuditResult):
        return audit_check(name, result)
    if isinstance(result, ValidationOutcome):
        return validation_check(name, result, subject or "table")
    if isinstance(result, ReproReport):
        return repro_check(name, result)
    if type(result).__name__ == "DriftReport":  # its module needs NumPy: not imported here
        return drift_check(name, result, subject or "model")  # type: ignore[arg-type]
    raise UsageError(f"no gate check is made of a {type(result).__name__}")


def _metric_source(ws: Workspace, reference: str) -> tuple[str, dict[str, float | None]]:
    view = resolve_run(ws, reference)
    return reference, dict(view.metrics)


def _metric(ws: Workspace, check: PolicyCheck) -> CheckResult:
    subject = check.option("model") or check.option("run")
    metric = str(check.option("metric"))
    label, metrics = _metric_source(ws, str(subject))
    baseline = None
    if check.option("baseline"):
        try:
            base_label, base_metrics = _metric_source(ws, str(check.option("baseline")))
        except NotFoundError as exc:
            policy = check.option("missing_baseline", "error")
            if policy == "error":
                raise
            status = Status.PASSED if policy == "pass" else Status.FAILED
            summary = f"no baseline {check.option('baseline')} ({exc.message}): {policy}"
            return CheckResult(check.name, "metric", status, summary)
        baseline = (base_label, base_metrics.get(metric))
    return judge_metric(check.name, label, metric, metrics.get(metric), check.options, baseline)


def _repro(ws: Workspace, check: PolicyCheck) -> CheckResult:
    subject = str(check.option("model") or check.option("run"))
    run = resolve_run(ws, subject)
    found = ws.reproductions.of([run.id])
    verdict = found[-1].verdict if found else None
    return judge_repro(
        check.name, subject, verdict, str(check.option("require", "within tolerance"))
    )


def evaluate_check(ws: Workspace, check: PolicyCheck) -> CheckResult:
    """One policy check in ``ws``; what stops it makes an ``error`` result, not an exception."""
    try:
        return _evaluate(ws, check)
    except ParityError as exc:
        summary = exc.message + (f" ({exc.hint})" if exc.hint else "")
        return CheckResult(check.name, check.kind, Status.ERROR, f"could not evaluate: {summary}")
    except (TypeError, ValueError, OSError) as exc:
        return CheckResult(check.name, check.kind, Status.ERROR, f"could not evaluate: {exc}")


def _evaluate(ws: Workspace, check: PolicyCheck) -> CheckResult:
    option: Any = check.option
    if check.kind == "env-verify":
        threshold = Risk.parse(str(option("threshold", "high")))
        verified = verify_model(ws, str(option("model")), option("python"), threshold)
        return verify_check(check.name, verified.result, verified.model, verified.files)
    if check.kind == "check-lock":
        result = check_lock(
            option("lock"), python=option("python"), ignore=option("ignore", ()), workspace=ws
        )
        return lock_check(check.name, result)
    if check.kind == "data-validate":
        path = Path(str(option("path")))
        outcome = validate_table(ws, path, Path(str(option("schema"))))
        return validation_check(check.name, outcome, os.path.relpath(path))
    if check.kind == "drift":
        from parity.api.monitor import (  # lazy: drift loads NumPy, the other checks do not
            _check_model_drift,
            _since_epoch_ms,
        )

        since = option("since")
        now = dt.datetime.now(dt.UTC)
        since_ms = None if since is None else _since_epoch_ms(str(since), now)
        model = str(option("model"))
        rows = int(option("min_rows", DRIFT_MIN_ROWS))
        report = _check_model_drift(ws, model, option("reference"), since_ms, rows)
        return drift_check(check.name, report, model)
    if check.kind == "audit":
        environment = option("model") or option("environment") or "current"
        audited = audit_environment(str(environment), str(option("advisories")), workspace=ws)
        return audit_check(
            check.name, audited, str(option("severity", "high")), str(option("unknown", "fail"))
        )
    if check.kind == "metric":
        return _metric(ws, check)
    if check.kind == "repro":
        return _repro(ws, check)
    model = str(option("model"))
    return judge_lineage(
        check.name, model, model_lineage(ws, model), bool(option("allow_dirty", False))
    )
