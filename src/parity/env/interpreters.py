"""Find an installed interpreter of the Python version a record names; never download one.

``uv venv --python 3.12.1`` takes the first ``python3.12`` on PATH, and pyenv's shim there exits
127 when 3.12 is installed but not selected; uv then downloads a build, or fails offline with its
last line ("failed to lookup address information"). So a restore looks itself, in this order:
uv's own discovery (its managed builds and what it finds on PATH), pyenv's versions folder
(which uv does not read), then each ``pythonX.Y``, ``python3`` and ``python`` on PATH. Every
candidate is run to learn its version; one that fails, such as a shim, is passed over.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

QUERY_TIMEOUT_SECONDS = 20
_QUERY = (
    "import platform, sys; "
    "print(sys.implementation.name, platform.python_version(), sys.executable)"
)
_NAMES = {"cpython": "CPython", "pypy": "PyPy", "graalpy": "GraalPy"}


@dataclass(frozen=True)
class FoundInterpreter:
    path: Path
    implementation: str  # sys.implementation.name: "cpython"
    version: str  # "3.12.1"
    where: str  # how it was found: "uv", "pyenv", "PATH"


def display_name(implementation: str, version: str) -> str:
    """``CPython 3.12.1``, as people name an interpreter."""
    return f"{_NAMES.get(implementation, implementation)} {version}"


def query(path: Path, where: str = "") -> FoundInterpreter | None:
    """What ``path`` is when run, or None when it is not a working interpreter."""
    try:
        result = subprocess.run(
            [str(path), "-I", "-c", _QUERY],
            capture_output=True,
            text=True,
            timeout=QUERY_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    implementation, version, executable = [*result.stdout.strip().split(" ", 2), "", ""][:3]
    if result.returncode != 0 or not version:
        return None
    # The interpreter itself, not a shim or link in front of it that may point elsewhere later.
    return FoundInterpreter(Path(executable or path), implementation, version, where)


def _from_uv(uv: str, request: str) -> Iterator[Path]:
    try:
        result = subprocess.run(
            [uv, "python", "list", request, "--only-installed", "--output-format", "json"],
            capture_output=True,
            text=True,
            timeout=QUERY_TIMEOUT_SECONDS * 3,
            check=False,
            env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"},
        )
        listed = json.loads(result.stdout) if result.returncode == 0 else []
    except (OSError, subprocess.TimeoutExpired, json.JSONDecodeError):
        return
    for entry in listed if isinstance(listed, list) else []:
        if isinstance(entry, dict) and entry.get("path"):
            yield Path(str(entry["path"]))


def _from_pyenv(version: str, minor: str) -> Iterator[Path]:
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    folders = [root / version, *sorted(p for p in _children(root) if p.name != version)]
    for folder in folders:
        yield folder / "bin" / f"python{minor}"


def _children(folder: Path) -> list[Path]:
    try:
        return [child for child in folder.iterdir() if child.is_dir()]
    except OSError:
        return []


def _from_path(minor: str) -> Iterator[Path]:
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        for name in (f"python{minor}", "python3", "python"):
            if folder:
                yield Path(folder) / name


def find_interpreter(implementation: str, version: str, uv: str) -> FoundInterpreter | None:
    """An installed ``implementation`` interpreter whose version is ``version`` or, for a request
    such as ``3.12``, starts with it; None when there is none here."""
    minor = ".".join(version.split(".")[:2])
    seen: set[Path] = set()
    sources = (
        ("uv", _from_uv(uv, version)),
        ("pyenv", _from_pyenv(version, minor)),
        ("PATH", _from_path(minor)),
    )
    for where, paths in sources:
        for path in paths:
            if path in seen or not os.access(path, os.X_OK) or path.is_dir():
                continue
            seen.add(path)
            found = query(path, where)
            if found is None or found.implementation != implementation:
                continue
            if found.version == version or found.version.startswith(version + "."):
                return found
    return None
