"""Restore a recorded environment into a new venv: exact files, no resolution, then verify.

uv creates the venv and installs the exported pylock.toml (every file by URL and sha256), so
nothing is resolved again; the lock comes from the cache on a second restore of the same record.
The new venv is then fingerprinted and verified against the record: what still differs (another
OS, a package that could not be had) is in the result, not hidden.
"""

from __future__ import annotations

import dataclasses
import os
import platform
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from parity.core.env_rules import Risk
from parity.core.environment import Environment
from parity.core.errors import NotFoundError, StorageError, UsageError
from parity.env.capture import capture
from parity.env.export_pylock import render_pylock
from parity.env.hashes import DEFAULT_INDEX
from parity.env.interpreters import display_name, find_interpreter
from parity.env.pins import ExportPlan, plan_export
from parity.env.uv_binary import uv_bin
from parity.env.verification import verify_environment

if TYPE_CHECKING:
    from parity.env.verification import VerifyResult

INSTALL_TIMEOUT_SECONDS = 1800


@dataclass(frozen=True)
class RestoreResult:
    venv: Path
    python: Path
    plan: ExportPlan
    verify: VerifyResult
    environment: Environment | None = None  # the new venv's, as captured to verify it

    @property
    def cached(self) -> bool:
        """The lock came from the cache: no index was asked which files to install."""
        return self.plan.cached

    @property
    def ok(self) -> bool:
        return self.verify.ok and self.plan.ok


def _headline(stderr: str) -> str:
    """uv's own one-line error (``error: …``) rather than the last of its cause lines."""
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    for line in lines:
        if line.startswith("error:"):
            return line.removeprefix("error:").strip()
    return lines[-1] if lines else "no output"


def _run(command: list[str], what: str, environ: dict[str, str] | None = None) -> None:
    try:
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT_SECONDS,
            check=False,
            env=environ,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise StorageError(f"{what} failed: {exc}") from exc
    if result.returncode != 0:
        # The whole message travels as the cause: `env restore --verbose` prints it.
        raise StorageError(
            f"{what} failed: {_headline(result.stderr)}", hint="--verbose shows uv's whole message"
        ) from subprocess.CalledProcessError(
            result.returncode, command, result.stdout, result.stderr
        )


def _same_place(environment: Environment, python: str | None) -> bool:
    """Do the record's own wheels fit here: same OS, CPU and C library, and its own Python?"""
    recorded = environment.platform
    libc, libc_version = platform.libc_ver()
    return (
        python is None
        and (recorded.system, recorded.machine) == (platform.system(), platform.machine())
        and (recorded.libc_family or "", recorded.libc_version or "") == (libc, libc_version)
    )


def _interpreter(environment: Environment, python: str | None, download: bool) -> str:
    """The interpreter the venv is made with: ``python`` when it is a path, else an installed
    one of the recorded (or requested) version; with ``download``, a version for uv to fetch."""
    if python is not None and (os.sep in python or Path(python).is_file()):
        return python
    implementation = environment.interpreter.implementation
    version = python or environment.interpreter.version
    found = find_interpreter(implementation, version, uv_bin())
    if found is not None:
        return str(found.path)
    if download:
        return version
    raise NotFoundError(
        f"needs {display_name(implementation, version)}: pass --python PATH",
        hint="none is installed where uv, pyenv's versions folder or PATH would show it; "
        "--download-python lets uv download it",
    )


def _create_venv(venv: Path, python: str, download: bool) -> Path:
    if venv.exists() and any(venv.iterdir()) and not (venv / "pyvenv.cfg").is_file():
        raise UsageError(
            f"{venv} exists and is not a virtual environment", hint="pick another --venv"
        )
    # Asked to, uv may download the version; otherwise it must take the interpreter it is given.
    downloads = "automatic" if download else "never"
    _run(
        [uv_bin(), "venv", "--quiet", "--clear", "--python", python, str(venv)],
        "uv venv",
        {**os.environ, "UV_PYTHON_DOWNLOADS": downloads},
    )
    return venv / "bin" / "python"


def restore_environment(
    environment: Environment,
    venv: Path,
    *,
    python: str | None = None,
    index_url: str = DEFAULT_INDEX,
    extra_index_urls: tuple[str, ...] = (),
    cache_dir: Path | None = None,
    wheels_dir: Path | None = None,
    threshold: Risk = Risk.HIGH,
    exclude: frozenset[str] = frozenset(),
    download_python: bool = False,
    compile_bytecode: bool = False,
) -> RestoreResult:
    """Build ``venv`` with exactly ``environment``'s packages and verify it against the record.

    ``exclude`` (normalized names) leaves packages out on purpose: the verification rates what
    became of them as info. ``python`` is a path, or a version to look for instead of the
    recorded one; an interpreter is downloaded only with ``download_python``.
    ``compile_bytecode`` compiles every module at install, for a venv run with
    PYTHONDONTWRITEBYTECODE=1 (uv also reads ``UV_COMPILE_BYTECODE``).
    """
    base = _interpreter(environment, python, download_python)
    target = _create_venv(venv, base, download_python)
    wanted = environment
    if not _same_place(environment, python):
        # Another OS, CPU, C library or Python: the same versions, in the builds this venv takes;
        # the verification below then says what that changes.
        here = capture(target)
        wanted = dataclasses.replace(
            environment, interpreter=here.interpreter, platform=here.platform
        )
    plan = plan_export(
        wanted,
        index_url=index_url,
        extra_index_urls=extra_index_urls,
        cache_dir=cache_dir,
        wheels_dir=wheels_dir,
        exclude=exclude,
    )
    with tempfile.TemporaryDirectory(prefix="parity-restore-") as scratch:
        lock = Path(scratch) / "pylock.toml"  # uv recognises a PEP 751 lock by this name
        lock.write_text(render_pylock(plan), encoding="utf-8")
        # Not compiled unless asked: compiling costs ~10 s for a scikit-learn + MLflow venv, 20x a
        # warm restore, and Python writes each module's bytecode on first import anyway. Only a
        # venv run with PYTHONDONTWRITEBYTECODE=1 (as in containers) needs it at install.
        sync = [uv_bin(), "pip", "sync", "--quiet"]
        if compile_bytecode:
            sync.append("--compile-bytecode")
        _run([*sync, "--python", str(target), str(lock)], "installing the recorded packages")
    actual = capture(target)
    verified = verify_environment(environment, actual, threshold, excluded=exclude)
    return RestoreResult(venv, target, plan, verified, actual)
