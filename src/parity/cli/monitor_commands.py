"""``parity monitor``: watch served models for input drift."""

from __future__ import annotations

from pathlib import Path

import click

from parity.api import monitor
from parity.cli import completion
from parity.cli.output import JSON_OPTION, print_json, print_table, say
from parity.cli.reports import report_options, write_check_reports
from parity.core.errors import CheckFailed


@click.group("monitor")
def monitor_group() -> None:
    """Watch served models."""


@monitor_group.command("drift")
@click.argument("reference", metavar="MODEL_REF", shell_complete=completion.model_references)
@click.option("--since", help="Only inputs logged since: 30m, 24h, 7d or an ISO time.")
@click.option(
    "--reference",
    "training",
    help="Training table, its data version, or a profile id "
    "(default: the profiled input of the model's run).",
)
@click.option(
    "--min-rows", default=100, type=click.IntRange(min=1), help="Fewer rows give no verdict."
)
@click.option("--report", type=click.Path(path_type=Path), help="Also write a Markdown report.")
@JSON_OPTION
@report_options
def drift(
    reference: str,
    since: str | None,
    training: str | None,
    min_rows: int,
    report: Path | None,
    json_output: bool,
    junit_report: Path | None,
    markdown_report: Path | None,
) -> None:
    """Compare MODEL_REF's logged inputs with its training data; exit 1 on drift."""
    result = monitor.drift(reference, reference=training, since=since or None, min_rows=min_rows)
    if report is not None:
        report.write_text(result.to_markdown(reference), encoding="utf-8")
    if json_output:
        print_json(result.to_dict())
    elif not result.enough_rows:
        say(f"{result.rows} rows logged; at least {result.min_rows} are needed for a verdict")
    else:
        print_table(
            ["feature", "rows", "PSI", "PSI limit", "KS", "KS limit", "drift"],
            [
                (
                    f.name,
                    f.rows,
                    f"{f.psi:.4f}",
                    f"{f.psi_threshold:.4f}",
                    "-" if f.ks is None else f"{f.ks:.4f}",
                    "-" if f.ks_threshold is None else f"{f.ks_threshold:.4f}",
                    "DRIFT" if f.drifted else "",
                )
                for f in result.features
            ],
            title=f"drift of {reference} over {result.rows} rows",
        )
    write_check_reports(result, f"drift {reference}", junit_report, markdown_report, reference)
    if not result.ok:
        raise CheckFailed(f"input drift in {', '.join(result.drifted)}")
