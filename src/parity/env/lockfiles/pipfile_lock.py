"""Pipfile.lock: the ``default`` section must be installed; ``develop`` may be."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from parity.core.errors import UsageError
from parity.env.lockfiles.declared import DeclaredLock, Expected, marker_holds


def _expected(entry: Mapping[str, Any], optional: bool) -> Expected:
    version = str(entry.get("version", ""))
    if version.startswith("=="):
        return Expected(version[2:], optional=optional)
    return Expected(specifier=version if version != "*" else "", optional=optional)


def read_pipfile_lock(path: Path, environment: Mapping[str, str]) -> DeclaredLock:
    try:
        document = json.loads(path.read_text("utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from exc
    found: dict[str, Expected] = {}
    project: set[str] = set()
    for section, optional in (("develop", True), ("default", False)):
        for name, entry in (document.get(section) or {}).items():
            if not marker_holds(entry.get("markers"), environment):
                continue
            if entry.get("editable") or "path" in entry:
                project.add(canonicalize_name(name))  # the project itself, installed with -e .
                continue
            found[canonicalize_name(name)] = _expected(entry, optional)
    return DeclaredLock(str(path), "Pipfile.lock", found, frozenset(project))
