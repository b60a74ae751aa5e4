"""pylock.toml (PEP 751), read and validated by ``packaging.pylock``."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path

from packaging.pylock import Pylock, PylockUnsupportedVersionError, PylockValidationError
from packaging.utils import canonicalize_name

from parity.core.errors import UsageError
from parity.env.lockfiles.declared import DeclaredLock, Expected


def read_pylock(path: Path, environment: Mapping[str, str]) -> DeclaredLock:
    try:
        lock = Pylock.from_dict(tomllib.loads(path.read_text("utf-8")))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from exc
    except (PylockValidationError, PylockUnsupportedVersionError) as exc:
        raise UsageError(f"{path} is not a valid pylock.toml: {exc}") from exc
    context: dict[str, str | frozenset[str]] = {
        **environment,
        "extras": frozenset(),
        "dependency_groups": frozenset(lock.default_groups or ()),
    }
    found: dict[str, Expected] = {}
    project: set[str] = set()
    for package in lock.packages:
        if package.marker is not None and not package.marker.evaluate(context, "lock_file"):
            continue
        name = canonicalize_name(package.name)
        if package.directory is not None:
            project.add(name)  # a local folder: the project itself
            continue
        found[name] = Expected(str(package.version) if package.version is not None else None)
    python = Expected(specifier=str(lock.requires_python)) if lock.requires_python else None
    return DeclaredLock(str(path), "pylock", found, frozenset(project), python)
