"""``parity import mlflow``: experiments, runs, metric histories and artifacts from MLflow."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator

import click

from parity.api import migrate
from parity.cli.output import JSON_OPTION, err_console, human_size, print_json, print_table, say
from parity.core.errors import CheckFailed

_SHOWN_DIFFERENCES = 10


def _quiet(_done: int, _total: int) -> None:
    pass


@contextlib.contextmanager
def _runs_bar(label: str) -> Iterator[Callable[[int, int], None]]:
    """A Rich bar on stderr counting runs, only on a TTY."""
    if not sys.stderr.isatty():
        yield _quiet
        return
    from rich.progress import Progress  # lazy: Rich only loads when a terminal shows the bar

    with Progress(console=err_console(), transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


@click.command("mlflow")
@click.option(
    "--from",
    "uri",
    required=True,
    metavar="URI",
    help="MLflow's tracking URI: sqlite:///mlflow.db, postgresql://…, http(s)://… or ./mlruns.",
)
@click.option(
    "--experiment",
    "experiments",
    multiple=True,
    metavar="NAME",
    help="Import this MLflow experiment (repeat for more; default: every active one).",
)
@click.option("--since", metavar="DATE", help="Only runs started at or after a date or ISO time.")
@click.option("--dry-run", is_flag=True, help="Count what would be imported; write nothing.")
@click.option(
    "--verify",
    is_flag=True,
    help="Compare every count and a sample of metric histories with the source; exit 1 on a "
    "difference.",
)
@JSON_OPTION
def import_mlflow(
    uri: str,
    experiments: tuple[str, ...],
    since: str | None,
    dry_run: bool,
    verify: bool,
    json_output: bool,
) -> None:
    """Import MLflow experiments and runs (params, tags, every metric point, artifacts)."""
    with _runs_bar("importing runs") as update:
        result = migrate.import_mlflow(
            uri,
            experiments=experiments,
            since=since,
            dry_run=dry_run,
            verify=verify,
            progress=update,
        )
    if json_output:
        print_json(result.to_dict())
    else:
        _summary(result)
    report = result.verify
    if report is not None and not report.ok:
        raise CheckFailed(
            f"the workspace differs from {result.source} in {len(report.differences)} places",
            hint="an import cut short is completed by importing again; anything else "
            "differing was changed after the import",
        )


def _summary(result: migrate.MlflowImport) -> None:
    counts = result.counts
    verb = "would import" if result.dry_run else "imported"
    rows = [
        ("experiments", counts.experiments),
        ("runs", counts.runs),
        ("runs already imported", counts.runs_skipped),
        ("params", counts.params),
        ("tags", counts.tags),
        ("metric points", counts.metric_points),
        ("dataset inputs", counts.datasets),
        ("artifacts", f"{counts.artifacts} ({human_size(counts.artifact_bytes)})"),
        *((f"registry: {kind}", n) for kind, n in sorted(counts.registry.items())),
    ]
    print_table(["kind", verb], rows, title=f"MLflow import from {result.source}")
    report = result.verify
    if report is None:
        return
    if report.ok:
        say(
            f"verified: {report.checked.get('runs', 0)} runs, "
            f"{report.checked.get('metric_points', 0)} metric points, "
            f"{report.sampled_runs} runs' histories point by point: no difference"
        )
        return
    for difference in report.differences[:_SHOWN_DIFFERENCES]:
        where = f"run {difference.run}: " if difference.run else ""
        what = f"{where}{difference.what}"
        say(f"differs: {what}: MLflow {difference.source}, Parity {difference.parity}")
    if len(report.differences) > _SHOWN_DIFFERENCES:
        say(f"… and {len(report.differences) - _SHOWN_DIFFERENCES} more (--json lists them all)")
