"""``parity export``: write Parity's history into another tool's store (MLflow)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click

from parity.api import migrate
from parity.cli.groups import AliasedGroup
from parity.cli.output import JSON_OPTION, err_console, print_json, print_table, say


@click.group("export", cls=AliasedGroup)
def export_group() -> None:
    """Write runs and model versions into another tool's store, so a team can leave freely."""


@contextmanager
def _counting_bar() -> Iterator[Callable[[str, int, int], None]]:
    """A Rich bar on stderr counting exported runs, on a terminal only."""
    if not sys.stderr.isatty():
        yield lambda _kind, _done, _total: None
        return
    from rich.progress import MofNCompleteColumn, Progress, TaskID  # lazy: for a terminal only

    with Progress(
        "{task.description}", MofNCompleteColumn(), console=err_console(), transient=True
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def update(kind: str, done: int, total: int) -> None:
            if kind not in tasks:
                tasks[kind] = bar.add_task(kind, total=total)
            bar.update(tasks[kind], completed=done, total=total)

        yield update


@export_group.command("mlflow")
@click.argument("runs", nargs=-1)
@click.option(
    "--to",
    "target",
    required=True,
    metavar="URI",
    help="An MLflow server (http(s)://…) or store (sqlite:///mlflow.db, ./mlruns).",
)
@click.option(
    "--model",
    "models",
    multiple=True,
    metavar="NAME",
    help="Also export model NAME: its versions, their runs, and its aliases.",
)
@click.option(
    "--mlflow",
    "mlflow_program",
    metavar="PATH",
    help="The mlflow program that serves a local store for the export.",
)
@JSON_OPTION
def export_mlflow(
    runs: tuple[str, ...],
    target: str,
    models: tuple[str, ...],
    mlflow_program: str | None,
    json_output: bool,
) -> None:
    """Export RUNS (params, tags, metric histories, inputs, artifacts) and models to MLflow.

    Exit 1 when something could not be exported (each is listed); runs already there are skipped.
    """  # fmt: skip
    if not runs and not models:
        raise click.UsageError("name at least one RUN or --model NAME to export")
    with _counting_bar() as progress:
        result = migrate.export_mlflow(
            runs, to=target, models=models, mlflow=mlflow_program, progress=progress
        )
    if json_output:
        print_json(result.to_dict())
    else:
        counts = result.counts.to_dict()
        print_table(["exported", "count"], [(k.replace("_", " "), v) for k, v in counts.items()])
        for what, why in result.failed:
            say(f"not exported: {what}: {why}")
        say(f"Exported to {result.target}" + ("" if result.ok else ", except what is listed above"))
    if not result.ok:
        sys.exit(1)
