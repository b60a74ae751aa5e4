"""``parity run -- CMD``: any command as a tracked run, ending with the command's exit code.

The command runs as a child that sees ``PARITY_RUN_ID``, so ``parity.start_run()`` inside it logs
into this run. Not public: the CLI is its one caller.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from parity.api._run import (
    ERROR_TAG,
    RUN_ID_VARIABLE,
    WORKSPACE_VARIABLE,
    begin_run,
    python_warning,
)
from parity.api._session import session
from parity.core.errors import CommandNotFound, UsageError
from parity.core.run import RunStatus
from parity.tracking.child import run_child
from parity.workspace import Workspace

# Exit codes of a child that Ctrl-C or SIGTERM ended without dying of the signal itself.
_INTERRUPTED = (130, 143)


@dataclass(frozen=True)
class CommandRun:
    run_id: str
    status: RunStatus
    exit_code: int | None  # None when the command never ran


def _nothing(_: object) -> None:
    return None


def python_of(command: Sequence[str]) -> str | None:
    """The interpreter a command runs in, when it starts with one (``python train.py``)."""
    found = shutil.which(command[0])
    return found if found and Path(found).name.startswith("python") else None


def check_program(command: Sequence[str]) -> None:
    """Refuse, before any run is recorded, a command whose program cannot be found: a typo
    must not leave a failed run behind."""
    program = command[0]
    if os.sep in program or (os.altsep and os.altsep in program):
        found = Path(program).exists()  # one that exists but cannot start fails as a run
    else:
        found = shutil.which(program) is not None
    if not found:
        raise CommandNotFound(
            program, hint="check its spelling or give its path; no run was recorded"
        )


def track_command(
    command: Sequence[str],
    *,
    experiment: str | None = None,
    name: str | None = None,
    params: Mapping[str, object] | None = None,
    inputs: Sequence[Path] = (),
    outputs: Sequence[Path] = (),
    stdout: IO[bytes] | None = None,
    stderr: IO[bytes] | None = None,
    on_start: Callable[[str], None] = _nothing,
    on_missing_output: Callable[[Path], None] = _nothing,
    infra: Sequence[str] = (),
    on_warning: Callable[[str], None] | None = None,
    workspace: Workspace | None = None,
) -> CommandRun:
    """Run ``command`` as a tracked run; inputs are versioned before, outputs after success.

    >>> parity.runs.track(["python", "train.py"], inputs=[Path("data/train.csv")])  # doctest: +SKIP

    ``on_start`` gets the run id once the run exists; ``on_missing_output`` each output the
    command did not write. The last 64 KiB of the child's stdout and stderr become log artifacts.
    A program that is not on PATH raises ``CommandNotFound`` and records nothing. ``infra``
    adds glob patterns to ``[lineage] infra``: the files they match are stored with the run,
    secret-looking values redacted (``on_warning`` hears which; default: a Python warning).
    """
    check_program(command)
    with session(workspace) as ws:
        tracked = begin_run(
            ws,
            experiment=experiment,
            name=name,
            command=command,
            python=python_of(command),
            guard=False,
            infra=infra,
            on_warning=on_warning or python_warning,
        )
        on_start(tracked.id)
        status, exit_code = RunStatus.FAILED, None
        try:
            tracked.log_params(params or {})
            for path in inputs:
                tracked.use_data(path)
            env = {**os.environ, RUN_ID_VARIABLE: tracked.id, WORKSPACE_VARIABLE: str(ws.root)}
            env.setdefault("PYTHONUNBUFFERED", "1")  # so the tee shows a Python child's output live
            try:
                result = run_child(
                    command, env, stdout or sys.stdout.buffer, stderr or sys.stderr.buffer
                )
            except OSError as exc:
                tracked.set_tag(ERROR_TAG, f"cannot run {command[0]}: {exc.strerror}")
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
                        on_missing_output(path)
                status = RunStatus.FINISHED
            elif result.signalled or exit_code in _INTERRUPTED:
                status = RunStatus.KILLED
        finally:
            tracked.end(status, exit_code)
        return CommandRun(tracked.id, status, exit_code)
