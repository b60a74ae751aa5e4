"""Gates for CI: the policy's named checks evaluated into one verdict, rendered as CI shows it.

>>> from parity.api import gate
>>> verdict = gate.evaluate("parity.toml")                       # doctest: +SKIP
>>> verdict.status, verdict.exit_code                            # doctest: +SKIP
(<Status.FAILED: 'failed'>, 1)
>>> gate.write_reports(verdict, junit="reports/gate.xml", markdown="reports/gate.md")
... # doctest: +SKIP

A verdict renders as JUnit XML (Jenkins, GitLab), Markdown (a GitHub step summary, appended to
``$GITHUB_STEP_SUMMARY`` when it is set), GitHub workflow annotations and a GitLab code quality
report. ``verdict_of`` makes the same verdict of one existing check's result, so ``env verify``,
``check-lock``, ``data validate``, ``monitor drift`` and ``env audit`` write the same reports.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from parity.api._session import session
from parity.core.file_errors import file_error
from parity.gate.annotations import render_annotations
from parity.gate.codequality import render_codequality
from parity.gate.junit import render_junit
from parity.gate.markdown import render_markdown
from parity.gate.policy import POLICY_FILE, Policy, load_policy
from parity.gate.verdict import CheckResult, Finding, GateVerdict, Severity, Status
from parity.workspace import Workspace

__all__ = [
    "CheckResult",
    "Finding",
    "GateVerdict",
    "Policy",
    "Severity",
    "Status",
    "evaluate",
    "render_annotations",
    "render_codequality",
    "render_junit",
    "render_markdown",
    "verdict_of",
    "write_reports",
]

PathLike = str | os.PathLike[str]
SUMMARY_VARIABLE = "GITHUB_STEP_SUMMARY"


def _policy_path(policy: PathLike | None, workspace: Workspace) -> Path:
    return Path(policy) if policy is not None else workspace.policy_path


def evaluate(
    policy: PathLike | None = None,
    *,
    model: str | None = None,
    workspace: Workspace | None = None,
) -> GateVerdict:
    """Evaluate every check of the policy (default: parity.toml at the git root) in order.

    >>> gate.evaluate().exit_code                                  # doctest: +SKIP
    0

    A check that finds a problem fails; one that cannot be evaluated (a model or file that is
    not there) is an error, and the verdict's exit code is 2 when nothing failed outright.
    With ``model`` (``NAME/VERSION``), every check about a model checks that version instead of
    the one the policy names, so a verdict recorded on it is a verdict about it.
    """
    from parity.api._gate_checks import (  # lazy: the checks load SQLAlchemy and the registry
        evaluate_check,
    )

    with session(workspace) as ws:
        loaded = load_policy(_policy_path(policy, ws))
        checks = loaded.checks
        if model is not None:
            pinned = ws.registry.resolve(model).ref  # NAME/VERSION, even when given an alias
            checks = tuple(
                replace(check, options={**check.options, "model": pinned})
                if "model" in check.options
                else check
                for check in checks
            )
        return GateVerdict.of(loaded.name, [evaluate_check(ws, check) for check in checks])


def verdict_of(result: object, name: str, *, subject: str | None = None) -> GateVerdict:
    """A one-check verdict of an existing check's result (``models.verify``,
    ``environments.verify``, ``environments.check_lock``, ``environments.audit``,
    ``data.validate``, ``monitor.drift``),
    so it renders as ``parity gate``'s do; ``subject`` names the file or model it was about.

    >>> gate.verdict_of(environments.check_lock(), "lock")         # doctest: +SKIP
    """
    from parity.api._gate_checks import (  # lazy: the result types load SQLAlchemy, packaging
        check_of,
    )

    return GateVerdict.of(name, [check_of(result, name, subject)])


def _write(path: Path, text: str) -> Path:
    from parity.store.objects.local import atomic_write_bytes  # lazy: loads zstandard

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, text.encode("utf-8"))
    except OSError as exc:
        raise file_error(exc, path, "write") from exc
    return path


def write_reports(
    verdict: GateVerdict,
    *,
    junit: PathLike | None = None,
    markdown: PathLike | None = None,
    codequality: PathLike | None = None,
    default_path: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[Path]:
    """Write the reports asked for; the Markdown one is also appended to
    ``$GITHUB_STEP_SUMMARY`` when that is set (in ``environ``, default this process's).
    Returns the files written.

    ``default_path`` is the file a finding about no file points at (the policy), in the code
    quality report.
    """
    written = []
    if junit is not None:
        written.append(_write(Path(junit), render_junit(verdict)))
    text = render_markdown(verdict)
    if markdown is not None:
        written.append(_write(Path(markdown), text))
    summary = (os.environ if environ is None else environ).get(SUMMARY_VARIABLE)
    if summary and markdown is not None:
        try:
            with Path(summary).open("a", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as exc:
            raise file_error(exc, summary, "write") from exc
        written.append(Path(summary))
    if codequality is not None:
        written.append(
            _write(Path(codequality), render_codequality(verdict, default_path or POLICY_FILE))
        )
    return written
