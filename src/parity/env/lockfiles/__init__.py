"""Read a project's declared lock, whatever tool wrote it, into one small record.

Each format has its own module; every one returns a ``DeclaredLock`` (normalized name -> the
expected version) with the file's markers already evaluated for the environment being checked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path

from packaging.pylock import is_valid_pylock_path

from parity.core.errors import NotFoundError, UsageError
from parity.env.lockfiles.conda import read_conda
from parity.env.lockfiles.declared import DeclaredLock, Expected
from parity.env.lockfiles.pipfile_lock import read_pipfile_lock
from parity.env.lockfiles.poetry_lock import read_poetry_lock
from parity.env.lockfiles.pylock import read_pylock
from parity.env.lockfiles.requirements import read_requirements
from parity.env.lockfiles.uv_lock import read_uv_lock

__all__ = ["DeclaredLock", "Expected", "find_lock", "read_lock"]

Reader = Callable[[Path, Mapping[str, str]], DeclaredLock]

# Looked for in this order at the project root when no file is named.
SEARCH_ORDER = (
    "uv.lock",
    "poetry.lock",
    "Pipfile.lock",
    "pylock.toml",
    "requirements.lock",
    "requirements.txt",
    "environment.yml",
    "environment.yaml",
)
_REQUIREMENTS = re.compile(r"^requirements.*\.(txt|lock|in)$")


def reader_for(path: Path) -> Reader:
    name = path.name
    fixed: dict[str, Reader] = {
        "uv.lock": read_uv_lock,
        "poetry.lock": read_poetry_lock,
        "Pipfile.lock": read_pipfile_lock,
    }
    if name in fixed:
        return fixed[name]
    if is_valid_pylock_path(path):
        return read_pylock
    if path.suffix in (".yml", ".yaml"):
        return read_conda
    if _REQUIREMENTS.match(name) or path.suffix == ".txt":
        return read_requirements
    raise UsageError(
        f"cannot tell which lock format {name} is",
        hint="name it uv.lock, poetry.lock, Pipfile.lock, pylock.toml, requirements*.txt "
        "or environment.yml",
    )


def read_lock(path: Path, environment: Mapping[str, str]) -> DeclaredLock:
    """``path`` as a DeclaredLock, its markers evaluated in ``environment`` (a marker env)."""
    if not path.is_file():
        raise NotFoundError(f"no lock file at {path}")
    return reader_for(path)(path, environment)


def find_lock(root: Path) -> Path:
    """The project's lock at ``root`` (the git root), by the tools' usual file names."""
    for name in SEARCH_ORDER:
        if (root / name).is_file():
            return root / name
    candidates = sorted(p for p in root.glob("requirements*.txt") if p.is_file())
    if candidates:
        return candidates[0]
    raise NotFoundError(
        f"no lock file at {root}",
        hint="pass one: uv.lock, poetry.lock, Pipfile.lock, requirements*.txt, pylock.toml, "
        "environment.yml",
    )
