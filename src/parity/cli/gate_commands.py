"""``parity gate``: the policy's checks, one verdict, the reports CI systems show natively."""

from __future__ import annotations

from pathlib import Path

import click

from parity.api import gate, models
from parity.cli.output import JSON_OPTION, print_json, print_table, say
from parity.cli.reports import REPORT_PATH
from parity.core.errors import CheckFailed, UsageError

_MARK = {"passed": "ok", "failed": "FAILED", "error": "not evaluated"}


def _print(verdict: gate.GateVerdict) -> None:
    print_table(
        ["check", "kind", "result", "summary"],
        [(c.name, c.kind, _MARK[str(c.status)], c.summary) for c in verdict.checks],
        title=f"gate {verdict.name}",
    )
    for check in verdict.checks:
        for finding in check.findings:
            if check.status is not gate.Status.PASSED:
                say(f"{check.name}: [{finding.severity}] {finding.message}")
    counts = verdict.counts()
    say(
        f"gate {verdict.name}: {verdict.status} ({counts['passed']} passed, {counts['failed']} "
        f"failed, {counts['error']} not evaluated)"
    )


@click.command("gate")
@click.option(
    "--policy",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The policy file (default: parity.toml at the git root).",
)
@click.option("--junit", "junit_report", type=REPORT_PATH, help="Write a JUnit XML report.")
@click.option(
    "--markdown",
    "markdown_report",
    type=REPORT_PATH,
    help="Write a Markdown summary (appended to $GITHUB_STEP_SUMMARY when set).",
)
@click.option(
    "--github-annotations",
    "annotations",
    is_flag=True,
    help="Print GitHub workflow annotations (at most 10 per level).",
)
@click.option(
    "--gitlab-codequality",
    "codequality",
    type=REPORT_PATH,
    help="Write a GitLab code quality report.",
)
@click.option(
    "--model",
    "model",
    metavar="NAME/VERSION",
    help="Check this model version (in place of the policy's model) and record the verdict "
    "on it (promotion policies read it).",
)
@JSON_OPTION
def gate_command(
    policy: Path | None,
    model: str | None,
    junit_report: Path | None,
    markdown_report: Path | None,
    annotations: bool,
    codequality: Path | None,
    json_output: bool,
) -> None:
    """Evaluate the gate policy's checks into one verdict; exit 0 pass, 1 fail, 2 not evaluated.

    The checks (env verify, check-lock, data validate, drift, audit, metrics, the last repro,
    lineage) are listed under [[gate.checks]] in parity.toml. With --model NAME/VERSION the
    checks about a model check that version, and the verdict is recorded on it, for
    [promote.ALIAS] gates = [...] to read.
    """
    if json_output and annotations:
        raise UsageError("--json and --github-annotations both print to stdout", hint="pick one")
    verdict = gate.evaluate(policy, model=model)
    if model is not None:
        recorded = models.record_verdict(model, verdict)
        click.echo(f"recorded gate {verdict.name!r} {verdict.status} on {recorded.ref}", err=True)
    shown_policy = str(policy) if policy is not None else "parity.toml"
    for path in gate.write_reports(
        verdict,
        junit=junit_report,
        markdown=markdown_report,
        codequality=codequality,
        default_path=shown_policy,
    ):
        click.echo(f"wrote {path}", err=True)
    if json_output:
        print_json(verdict.to_dict())
    else:
        _print(verdict)
        if annotations:
            click.echo(gate.render_annotations(verdict, shown_policy), nl=False)
    if verdict.status is gate.Status.FAILED:
        failed = [c.name for c in verdict.with_status(gate.Status.FAILED)]
        raise CheckFailed(f"the gate failed: {', '.join(failed)}")
    if verdict.status is gate.Status.ERROR:
        unknown = [c.name for c in verdict.with_status(gate.Status.ERROR)]
        raise UsageError(
            f"the gate could not be evaluated: {', '.join(unknown)}",
            hint="each check's summary says what it lacked",
        )
