"""poetry.lock: every locked package; those outside the main group may be absent."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from parity.core.errors import UsageError
from parity.env.lockfiles.declared import DeclaredLock, Expected, marker_holds


def project_names(folder: Path) -> frozenset[str]:
    """The project's own name from the pyproject.toml beside the lock (it is never locked)."""
    try:
        document = tomllib.loads((folder / "pyproject.toml").read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return frozenset()
    name = document.get("project", {}).get("name") or (
        document.get("tool", {}).get("poetry", {}).get("name")
    )
    return frozenset({canonicalize_name(name)}) if name else frozenset()


def _marker(package: Mapping[str, Any]) -> str | None:
    markers = package.get("markers")
    if isinstance(markers, dict):  # lock 2.1: one marker per group
        return markers.get("main") or next(iter(markers.values()), None)
    return markers


def read_poetry_lock(path: Path, environment: Mapping[str, str]) -> DeclaredLock:
    try:
        document = tomllib.loads(path.read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from exc
    found: dict[str, Expected] = {}
    for package in document.get("package", []):
        if not marker_holds(_marker(package), environment):
            continue
        groups = package.get("groups", ["main"])
        optional = bool(package.get("optional")) or "main" not in groups
        source_type = (package.get("source") or {}).get("type")
        version = None if source_type in ("git", "directory", "file", "url") else package["version"]
        found[canonicalize_name(package["name"])] = Expected(version, optional=optional)
    return DeclaredLock(str(path), "poetry.lock", found, project_names(path.parent))
