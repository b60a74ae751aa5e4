"""``parity repro RUN|MODEL_REF``: re-derive a run and say whether it reproduced, and why not."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from parity.api import repro
from parity.api import runs as api_runs
from parity.cli import completion
from parity.cli.output import JSON_OPTION, print_json, print_table, say
from parity.cli.reports import report_options, write_check_reports
from parity.core.errors import CheckFailed, UsageError


def _data_overrides(pairs: tuple[str, ...]) -> dict[str, str]:
    found = {}
    for pair in pairs:
        path, sep, version = pair.partition("=")
        if not sep or not path or not version:
            raise UsageError(
                f"--data {pair!r} is not PATH=VERSION", hint="e.g. --data data/train.csv=3f2a9c1d"
            )
        found[path] = version
    return found


def _print_plan(plan: repro.Plan) -> None:
    say(f"expected: {plan.expectation}")
    for reason in plan.reasons:
        say(f"  {reason.area}: {reason.text}")
    for blocker in plan.blockers:
        say(f"  cannot run: {blocker.area}: {blocker.text}")


def _print_report(report: repro.ReproReport) -> None:
    shown = api_runs.short_ids([report.original_id, *report.run_ids])
    original = shown[report.original_id]
    made = f" as run {shown[report.run_id]}" if report.run_id else ""
    say(f"repro of run {original}{made}: expected {report.plan.expectation}")
    if report.comparisons:
        print_table(
            ["kind", "what", "outcome", "detail"],
            [(c.kind, c.subject, str(c.outcome), c.detail) for c in report.comparisons],
        )
    if report.noise is not None:
        for band in report.noise.bands:
            span = f"[{band.low:.6g}, {band.high:.6g}]"
            say(f"noise over {report.noise.runs} runs: {band.key} in {span}")
    for note in report.notes:
        say(f"note: {note}")
    if report.causes:
        identical = report.verdict is repro.Verdict.IDENTICAL
        say("what differed, without changing the result:" if identical else "likely causes:")
    for number, cause in enumerate(report.causes, 1):
        say(f"  {number}. {cause.area}: {cause.text}")
    total, own = report.seconds.get("total", 0.0), report.overhead_seconds
    say(f"verdict: {report.verdict} ({total:.1f} s, Parity's own {own:.1f} s)")


@click.command("repro")
@click.argument("reference", metavar="RUN|MODEL_REF", shell_complete=completion.run_ids)
@click.option(
    "--venv",
    type=click.Path(path_type=Path, file_okay=False),
    help="Re-run in this venv: used as it is when it exists, else the run's environment is "
    "restored there (default: a venv cached per environment).",
)
@click.option("--plan", "plan_only", is_flag=True, help="Only predict; run nothing.")
@click.option(
    "--runs", default=1, type=click.IntRange(min=1), help="Re-run N times: measures noise."
)
@click.option(
    "--tolerance",
    "tolerances",
    multiple=True,
    metavar="METRIC=REL",
    help="Relative tolerance of a metric or output path (* for all); repeatable.",
)
@click.option("--strict-determinism", "strict", is_flag=True, help="Pass only when identical.")
@click.option(
    "--data",
    "data",
    multiple=True,
    metavar="PATH=VERSION",
    help="Re-run with another data version at an input path (what if the data changed).",
)
@click.option(
    "--wheels",
    "wheels_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="A folder of wheels for packages no index serves (as env restore takes it).",
)
@click.option("--exclude", "excluded", multiple=True, help="Leave a package out of the restore.")
@JSON_OPTION
@report_options
def repro_command(
    reference: str,
    venv: Path | None,
    plan_only: bool,
    runs: int,
    tolerances: tuple[str, ...],
    strict: bool,
    data: tuple[str, ...],
    wheels_dir: Path | None,
    excluded: tuple[str, ...],
    json_output: bool,
    junit_report: Path | None,
    markdown_report: Path | None,
) -> None:
    """Re-run RUN (or the run behind MODEL_REF) in its environment, code and data; compare.

    Exits 0 when it reproduced (identical, or within tolerance unless --strict-determinism),
    1 when it is different or could not run; the report names the likely causes, ranked.
    """
    if plan_only:
        made = repro.plan(reference, venv=venv)
        if json_output:
            print_json(made.to_dict())
        else:
            _print_plan(made)
        return
    report = repro.run(
        reference,
        venv=venv,
        runs=runs,
        tolerances=repro.parse_tolerances(tolerances),
        strict=strict,
        data=_data_overrides(data),
        wheels_dir=wheels_dir,
        exclude=excluded,
        output=None if json_output else sys.stderr.buffer,
    )
    if json_output:
        print_json(report.to_dict())
    else:
        _print_report(report)
    write_check_reports(report, f"repro {reference}", junit_report, markdown_report, reference)
    if not report.ok:
        first = f": {report.causes[0].area}: {report.causes[0].text}" if report.causes else ""
        raise CheckFailed(f"the run did not reproduce ({report.verdict}){first}")
