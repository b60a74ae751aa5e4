"""Pure judgements of the gate: metric thresholds, baselines, lineage completeness, verdicts.

The API hands these the facts it read (a run's metrics, a lineage graph, a repro verdict) and
gets a ``CheckResult`` back; nothing here reads a store.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from parity.gate.verdict import CheckResult, Finding, Severity, Status
from parity.registry.lineage import Lineage

# Repro verdicts from best to worst; a check requires one at least as good.
REPRO_ORDER = ("identical", "within tolerance", "different", "could not run")


def _number(value: Any, key: str) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise TypeError(f"{key} must be a number, not {value!r}")
    return float(value)


def judge_metric(
    name: str,
    subject: str,
    metric: str,
    value: float | None,
    options: Mapping[str, Any],
    baseline: tuple[str, float | None] | None = None,
) -> CheckResult:
    """``value`` (the candidate's last value of ``metric``) against absolute bounds (``min``,
    ``max``) and a baseline's value (``max_drop``, ``max_drop_rel``: higher is better;
    ``max_rise``: lower is better)."""
    if value is None:
        return CheckResult(name, "metric", Status.ERROR, f"{subject} has no value of {metric}", ())
    findings = []
    if "min" in options and value < _number(options["min"], "min"):
        findings.append(Finding(f"{metric} = {value:.6g} is below the minimum {options['min']}"))
    if "max" in options and value > _number(options["max"], "max"):
        findings.append(Finding(f"{metric} = {value:.6g} is above the maximum {options['max']}"))
    compared = ""
    if baseline is not None:
        label, base = baseline
        if base is None:
            return CheckResult(name, "metric", Status.ERROR, f"{label} has no value of {metric}")
        drop = base - value
        compared = f", baseline {label} {base:.6g}"
        if "max_drop" in options and drop > _number(options["max_drop"], "max_drop"):
            findings.append(
                Finding(f"{metric} fell by {drop:.6g} from {label} (at most {options['max_drop']})")
            )
        if "max_drop_rel" in options and base != 0:
            relative = drop / abs(base)
            if relative > _number(options["max_drop_rel"], "max_drop_rel"):
                findings.append(
                    Finding(
                        f"{metric} fell by {relative:.2%} from {label} "
                        f"(at most {float(options['max_drop_rel']):.2%})"
                    )
                )
        if "max_rise" in options and -drop > _number(options["max_rise"], "max_rise"):
            findings.append(
                Finding(
                    f"{metric} rose by {-drop:.6g} from {label} (at most {options['max_rise']})"
                )
            )
    status = Status.FAILED if findings else Status.PASSED
    summary = f"{subject}: {metric} = {value:.6g}{compared}"
    return CheckResult(name, "metric", status, summary, tuple(findings))


def judge_repro(name: str, subject: str, verdict: str | None, require: str) -> CheckResult:
    """The last repro verdict of ``subject`` against the one required."""
    if require not in REPRO_ORDER[:2]:
        raise ValueError(f"require must be 'identical' or 'within tolerance', not {require!r}")
    if verdict is None:
        finding = Finding(f"{subject} was never reproduced: run 'parity repro {subject}'")
        return CheckResult(name, "repro", Status.FAILED, f"{subject}: never reproduced", (finding,))
    rank = REPRO_ORDER.index(verdict) if verdict in REPRO_ORDER else len(REPRO_ORDER)
    summary = f"{subject}: last repro {verdict}"
    if rank <= REPRO_ORDER.index(require):
        return CheckResult(name, "repro", Status.PASSED, summary)
    finding = Finding(f"the last repro of {subject} was {verdict}; {require} is required")
    return CheckResult(name, "repro", Status.FAILED, summary, (finding,))


def judge_lineage(name: str, subject: str, lineage: Lineage, allow_dirty: bool) -> CheckResult:
    """Is every link of the lineage here (runs, code, data, environment), and the code clean?"""
    findings = [
        Finding(f"run {run_id[:16]} is not in this workspace") for run_id in lineage.missing_runs
    ]
    runs = lineage.of_kind("run")
    if not runs:
        findings.append(Finding(f"{subject} was not made by a tracked run"))
    for run in runs:
        edges = {(e.relation) for e in lineage.children(run.id)}
        label = f"run {run.label}"
        if "code" not in edges:
            findings.append(Finding(f"{label} recorded no code state (not in a git repository)"))
        if "environment" not in edges:
            findings.append(Finding(f"{label} recorded no environment"))
    for code in lineage.of_kind("code"):
        if code.attributes.get("dirty") and not allow_dirty:
            message = f"code {code.label} had uncommitted changes when it ran"
            findings.append(Finding(message, Severity.MEDIUM))
    model = next(iter(lineage.of_kind("model")), None)
    if model is not None and model.attributes.get("environment_id") is None:
        findings.append(Finding(f"model {model.label} recorded no environment"))
    status = Status.FAILED if findings else Status.PASSED
    summary = f"{subject}: {len(lineage.nodes)} nodes" + (
        f", {len(findings)} gaps" if findings else ", complete"
    )
    return CheckResult(name, "lineage", status, summary, tuple(findings))
