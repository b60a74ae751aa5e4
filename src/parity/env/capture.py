"""Capture an environment: run the probe in a target interpreter, or in this one.

A capture of another interpreter is mostly that interpreter's own start-up and its pass over
site-packages, so it is started first (``start_capture``) and the caller does its own work
(imports, finding the workspace) while the target runs on the other core.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from parity.core.errors import UsageError

if TYPE_CHECKING:
    from parity.core.environment import Environment

PROBE_PATH = Path(__file__).with_name("probe.py")
PROBE_TIMEOUT_SECONDS = 120
# The target imports the probe as a module (so its bytecode is cached next to it, as for any
# import) from this folder, which it then drops from sys.path before looking at anything.
BOOTSTRAP = (
    "import sys; sys.path.insert(0, sys.argv[1]); import probe; del sys.path[0]; "
    "probe.main(sys.argv)"
)


def _is_this_interpreter(python: Path) -> bool:
    try:
        return python.resolve() == Path(sys.executable).resolve() and sys.prefix == _prefix_of(
            python
        )
    except OSError:
        return False


def _prefix_of(python: Path) -> str:
    # A venv's python is a symlink to the base interpreter: the venv is the folder above bin/.
    venv = python.parent.parent
    return str(venv) if (venv / "pyvenv.cfg").is_file() else sys.base_prefix


class PendingCapture:
    """A capture under way: the probe runs in the target until ``environment()`` is asked for."""

    def __init__(self, python: Path | None, deep: bool) -> None:
        self.python = python
        self.deep = deep
        self._process: subprocess.Popen[str] | None = None
        if python is not None:
            self._process = _start_probe(python, deep)

    def environment(self, cache_dir: Path | None = None) -> Environment:
        """The captured environment. For this interpreter (without ``deep``), ``cache_dir``
        keeps unchanged distributions' facts between captures (``kept_distributions``)."""
        from parity.core.environment import Environment  # lazy: packaging, after the probe starts

        if self._process is None or self.python is None:
            if cache_dir is not None and not self.deep:
                from parity.env.kept_distributions import (
                    capture_here,
                )  # lazy: only captures of this interpreter in a workspace keep facts

                return capture_here(cache_dir)
            from parity.env import probe  # lazy: only this interpreter runs the probe in-process

            return Environment.from_dict(probe.collect(self.deep))
        return Environment.from_dict(_finish_probe(self.python, self._process))


def start_capture(python: str | Path | None = None, deep: bool = False) -> PendingCapture:
    """Start fingerprinting ``python`` (default: the running interpreter) and return at once."""
    if python is None:
        return PendingCapture(None, deep)
    # Absolute, but symlinks kept: a venv's bin/python is a link whose target is not the venv.
    target = Path(python).absolute()
    return PendingCapture(None if _is_this_interpreter(target) else target, deep)


def capture(python: str | Path | None = None, deep: bool = False) -> Environment:
    """Fingerprint ``python`` (a path to an interpreter; default: the running one).

    ``deep`` re-hashes every installed file against its RECORD and asks threadpoolctl for the
    BLAS and OpenMP libraries actually loaded (importing numpy and scipy in the target).
    """
    return start_capture(python, deep).environment()


def run_probe(python: Path, deep: bool) -> dict[str, object]:
    """The probe's output (the environment's dictionary form) from ``python``."""
    target = Path(python).absolute()
    return _finish_probe(target, _start_probe(target, deep))


def _start_probe(python: Path, deep: bool) -> subprocess.Popen[str]:
    if not python.exists():
        raise UsageError(f"no interpreter at {python}", hint="pass the path of a python executable")
    command = [str(python), "-c", BOOTSTRAP, str(PROBE_PATH.parent)] + (["--deep"] if deep else [])
    try:
        # A neutral working folder, so the probe never sees packages lying in the user's cwd.
        return subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=python.parent,
        )
    except OSError as exc:
        raise UsageError(
            f"cannot run {python}: {exc.strerror}", hint="is it a Python interpreter?"
        ) from exc


def _finish_probe(python: Path, process: subprocess.Popen[str]) -> dict[str, object]:
    try:
        stdout, stderr = process.communicate(timeout=PROBE_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired as exc:
        process.kill()
        process.communicate()
        raise UsageError(f"{python} did not answer within {PROBE_TIMEOUT_SECONDS} s") from exc
    if process.returncode != 0:
        last = (stderr.strip().splitlines() or ["no output"])[-1]
        raise UsageError(
            f"the environment probe failed in {python}: {last}",
            hint="Parity needs Python 3.8 or newer in the target",
        )
    try:
        document: dict[str, object] = json.loads(stdout)
    except json.JSONDecodeError as exc:
        raise UsageError(f"the environment probe in {python} printed no fingerprint") from exc
    return document
