"""``parity run -- CMD ARGS…``: track any command as a run, and exit with its exit code."""

from __future__ import annotations

from pathlib import Path

import click

from parity.cli.output import warn


def _params(pairs: tuple[str, ...]) -> dict[str, str]:
    from parity.core.errors import UsageError

    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(
                f"--param {pair!r} is not KEY=VALUE", hint="write it as --param lr=0.1"
            )
        params[key.strip()] = value
    return params


def _python_of(command: tuple[str, ...]) -> str | None:
    """The interpreter a command runs in, when it starts with one (``python train.py``)."""
    import shutil

    found = shutil.which(command[0])
    return found if found and Path(found).name.startswith("python") else None


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
    type=click.Path(exists=True, path_type=Path),
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
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def run(
    experiment: str | None,
    name: str | None,
    param_pairs: tuple[str, ...],
    inputs: tuple[Path, ...],
    outputs: tuple[Path, ...],
    command: tuple[str, ...],
) -> int:
    """Run COMMAND as a tracked run: code, environment, params, data, output and exit code.

    The command sees PARITY_RUN_ID, so parity.start_run() inside it logs into this run.
    Parity exits with the command's exit code; a failing command leaves a failed run.

        parity run --experiment churn --input data/train.csv -- python train.py --lr 0.1
    """
    import os
    import sys

    from parity.api.tracking import RUN_ID_VARIABLE, WORKSPACE_VARIABLE, begin_run
    from parity.core.errors import UsageError
    from parity.core.run import RunStatus, short_run_id
    from parity.tracking.child import run_child
    from parity.workspace import open_workspace

    params = _params(param_pairs)
    workspace = open_workspace()
    tracked = begin_run(
        workspace,
        experiment=experiment,
        name=name,
        command=command,
        python=_python_of(command),
        guard=False,
    )
    click.echo(f"parity: run {tracked.id}", err=True)
    status, exit_code = RunStatus.FAILED, None
    try:
        tracked.log_params(params)
        for path in inputs:
            tracked.use_data(path)
        env = {**os.environ, RUN_ID_VARIABLE: tracked.id, WORKSPACE_VARIABLE: str(workspace.root)}
        env.setdefault("PYTHONUNBUFFERED", "1")  # so the tee shows a Python child's output live
        try:
            result = run_child(command, env, sys.stdout.buffer, sys.stderr.buffer)
        except OSError as exc:
            tracked.set_tag("error", f"cannot run {command[0]}: {exc.strerror}")
            raise UsageError(
                f"cannot run {command[0]}: {exc.strerror}", hint="check the command after --"
            ) from exc
        exit_code = result.exit_code
        for tail, file_name in (
            (result.stdout_tail, "stdout.txt"),
            (result.stderr_tail, "stderr.txt"),
        ):
            if tail:
                tracked.log_bytes(tail, file_name, kind="log")
        if exit_code == 0:
            for path in outputs:
                if path.exists():
                    tracked.log_output(path)
                else:
                    warn(f"output {path} was not written: not recorded")
            status = RunStatus.FINISHED
        elif result.signalled or exit_code in (130, 143):
            status = RunStatus.KILLED
    finally:
        tracked.end(status, exit_code)
    code = "" if exit_code is None else f" (exit code {exit_code})"
    click.echo(f"parity: run {short_run_id(tracked.id)} {status}{code}", err=True)
    return exit_code if exit_code is not None else 1
