"""The recorded command made to run again in the checkout and the restored environment.

The interpreter (``python``, ``python3.11``, an absolute path to one) becomes the restored
venv's; an argument that named a path inside the original repository names the same path inside
the checkout; the working folder is the recorded one, relative to the repository root. The child
sees the numerics variables the run saw (and none it did not), the venv first on PATH, and the
Parity variables that make ``parity.start_run()`` inside it log into the reproducing run.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from parity.core.environment import NUMERICS_VARIABLES
from parity.core.errors import UsageError
from parity.core.launch import Launch


@dataclass(frozen=True)
class ReRun:
    """What to start: the command line, its folder, and the variables it changes or removes."""

    command: tuple[str, ...]
    cwd: Path
    variables: Mapping[str, str]
    removed: tuple[str, ...]  # numerics variables set here that the original run did not see

    def environ(self, base: Mapping[str, str], extra: Mapping[str, str]) -> dict[str, str]:
        """``base`` (this process's variables, Parity's own left out) with the re-run's."""
        environ = {k: v for k, v in base.items() if not k.startswith("PARITY_")}
        for name in self.removed:
            environ.pop(name, None)
        environ.pop("PYTHONHOME", None)
        return {**environ, **self.variables, **extra}


def _is_python(program: str) -> bool:
    return Path(program).name.startswith("python")


def _mapped(argument: str, repository: Path, checkout: Path) -> str:
    """An absolute path inside the original repository, moved into the checkout."""
    if not argument.startswith(os.sep):
        return argument
    try:
        return str(checkout / Path(argument).relative_to(repository))
    except ValueError:
        return argument


def plan_rerun(
    command: Sequence[str],
    launch: Launch | None,
    *,
    repository: Path,
    checkout: Path,
    workspace_folder: Path,
    venv: Path,
    current: Mapping[str, str],
) -> ReRun:
    """The re-run of ``command`` in ``checkout`` with the interpreter of ``venv``.

    ``launch`` None (a run recorded before launches were) runs in the workspace's folder.
    ``current`` are this process's variables: numerics ones the run did not see are removed.
    """
    program, *arguments = command
    python = venv / "bin" / "python"
    start = str(python) if _is_python(program) else _mapped(program, repository, checkout)
    argv = (start, *(_mapped(a, repository, checkout) for a in arguments))
    if launch is not None and launch.in_repository:
        cwd = checkout / launch.cwd
    else:
        cwd = checkout / workspace_folder
    if not cwd.resolve().is_relative_to(checkout.resolve()):
        raise UsageError(
            f"the run's recorded working folder {str(launch.cwd if launch else cwd)!r} is "
            "outside its code",
            hint="a launch record names a folder inside the repository; this one was not made "
            "by Parity",
        )
    # Only the numerics variables a run records are ever passed on: a forged launch record
    # naming PYTHONPATH or LD_PRELOAD would otherwise run code of its choosing first.
    variables = {
        name: value
        for name, value in (launch.variables if launch is not None else {}).items()
        if name in NUMERICS_VARIABLES
    }
    removed = tuple(
        name
        for name in NUMERICS_VARIABLES
        if launch is not None and name in current and name not in variables
    )
    path = f"{venv / 'bin'}{os.pathsep}{current.get('PATH', os.defpath)}"
    variables.update({"PATH": path, "VIRTUAL_ENV": str(venv), "PYTHONUNBUFFERED": "1"})
    return ReRun(argv, cwd, variables, removed)
