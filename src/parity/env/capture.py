"""Capture an environment: run the probe in a target interpreter, or in this one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from parity.core.environment import Environment
from parity.core.errors import UsageError
from parity.env import probe

PROBE_SOURCE = Path(probe.__file__).read_text(encoding="utf-8")
PROBE_TIMEOUT_SECONDS = 120


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


def capture(python: str | Path | None = None, deep: bool = False) -> Environment:
    """Fingerprint ``python`` (a path to an interpreter; default: the running one).

    ``deep`` re-hashes every installed file against its RECORD and asks threadpoolctl for the
    BLAS and OpenMP libraries actually loaded (importing numpy and scipy in the target).
    """
    if python is None or _is_this_interpreter(Path(python)):
        return Environment.from_dict(probe.collect(deep))
    return Environment.from_dict(run_probe(Path(python), deep))


def run_probe(python: Path, deep: bool) -> dict[str, object]:
    if not python.exists():
        raise UsageError(f"no interpreter at {python}", hint="pass the path of a python executable")
    command = [str(python), "-c", PROBE_SOURCE] + (["--deep"] if deep else [])
    try:
        # A neutral working folder, so the probe never sees packages lying in the user's cwd.
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT_SECONDS,
            check=False,
            cwd=python.parent,
        )
    except OSError as exc:
        raise UsageError(
            f"cannot run {python}: {exc.strerror}", hint="is it a Python interpreter?"
        ) from exc
    except subprocess.TimeoutExpired as exc:
        raise UsageError(f"{python} did not answer within {PROBE_TIMEOUT_SECONDS} s") from exc
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise UsageError(
            f"the environment probe failed in {python}: {last}",
            hint="Parity needs Python 3.8 or newer in the target",
        )
    try:
        document: dict[str, object] = json.loads(result.stdout)
    except json.JSONDecodeError as exc:
        raise UsageError(f"the environment probe in {python} printed no fingerprint") from exc
    return document
