"""``parity run -- CMD ARGS…``: track any command as a run, and exit with its exit code."""

from __future__ import annotations

from pathlib import Path

import click

from parity.api import runs
from parity.cli.output import ExistingPath, hint, warn
from parity.cli.runs_commands import runs_group
from parity.core.errors import CommandNotFound, UsageError


def _params(pairs: tuple[str, ...]) -> dict[str, str]:
    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(
                f"--param {pair!r} is not KEY=VALUE", hint="write it as --param lr=0.1"
            )
        params[key.strip()] = value
    return params


@click.command(
    "run",
    context_settings={"allow_interspersed_args": False, "ignore_unknown_options": True},
)
@click.option("--experiment", "-e", help="The experiment to file the run under.")
@click.option("--name", help="A name for the run.")
@click.option("--param", "-p", "param_pairs", multiple=True, help="KEY=VALUE; repeatable.")
@click.option(
    "--input",
    "-i",
    "inputs",
    multiple=True,
    type=ExistingPath(path_type=Path),
    help="Data the command reads: versioned and recorded before it starts.",
)
@click.option(
    "--output",
    "-o",
    "outputs",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Data the command writes: versioned and recorded when it succeeds.",
)
@click.option(
    "--infra",
    "infra_globs",
    multiple=True,
    metavar="GLOB",
    help="Infrastructure files to store with the run (besides [lineage] infra); repeatable.",
)
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@click.pass_context
def run(
    ctx: click.Context,
    experiment: str | None,
    name: str | None,
    param_pairs: tuple[str, ...],
    inputs: tuple[Path, ...],
    outputs: tuple[Path, ...],
    infra_globs: tuple[str, ...],
    command: tuple[str, ...],
) -> int:
    """Run COMMAND as a tracked run: code, environment, params, data, output and exit code.

    The command sees PARITY_RUN_ID, so parity.start_run() inside it logs into this run.
    Parity exits with the command's exit code; a failing command leaves a failed run, a
    program that is not found leaves nothing (exit 3). Infrastructure files ([lineage] infra in
    .parity/config.toml, --infra) are stored with the run, secret-looking values redacted.

        parity run --experiment churn --input data/train.csv -- python train.py --lr 0.1
    """
    params = _params(param_pairs)
    # 'parity run list' is most often 'parity runs list' mistyped: a program of that name that
    # exists still runs (parity run wraps any command), with a note; one that does not is refused.
    word = command[0]
    means_runs = word in runs_group.words(ctx)

    def started(run_id: str) -> None:
        click.echo(f"parity: run {run_id}", err=True)
        if means_runs:
            hint(f"'{word}' runs as a program; for Parity's runs, use 'parity runs {word}'")

    try:
        done = runs.track(
            command,
            experiment=experiment,
            name=name,
            params=params,
            inputs=inputs,
            outputs=outputs,
            on_start=started,
            on_missing_output=lambda path: warn(f"output {path} was not written: not recorded"),
            infra=infra_globs,
            on_warning=warn,
        )
    except CommandNotFound as exc:
        if means_runs:
            raise CommandNotFound(
                exc.program, hint=f"did you mean 'parity runs {word}'? nothing was recorded"
            ) from exc
        raise
    short = runs.short_ids([done.run_id])[done.run_id]
    code = "" if done.exit_code is None else f" (exit code {done.exit_code})"
    click.echo(f"parity: run {short} {done.status}{code}", err=True)
    return done.exit_code if done.exit_code is not None else 1
