"""uv.lock: walk the dependency graph from the project, evaluating each edge's marker."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from parity.core.errors import UsageError
from parity.env.lockfiles.declared import DeclaredLock, Expected, marker_holds

_PROJECT_SOURCES = ("virtual", "editable")


def read_uv_lock(path: Path, environment: Mapping[str, str]) -> DeclaredLock:
    try:
        document = tomllib.loads(path.read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from exc
    by_name: dict[str, list[dict[str, Any]]] = {}
    for package in document.get("package", []):
        by_name.setdefault(canonicalize_name(package["name"]), []).append(package)
    roots = [
        p
        for packages in by_name.values()
        for p in packages
        if any(key in p.get("source", {}) for key in _PROJECT_SOURCES)
    ]
    project = frozenset(canonicalize_name(p["name"]) for p in roots)
    found: dict[str, Expected] = {}
    # (package, optional, extras asked of it)
    pending: list[tuple[dict[str, Any], bool, tuple[str, ...]]] = [(p, False, ()) for p in roots]
    seen: set[tuple[str, str, bool, tuple[str, ...]]] = set()
    while pending:
        package, optional, extras = pending.pop()
        edges = [(d, optional) for d in package.get("dependencies", [])]
        # uv sync installs the dev group by default; other groups and the project's extras only
        # on request, so those may be installed or not, but not at another version.
        for group, deps in (package.get("dev-dependencies") or {}).items():
            edges += [(d, optional or group != "dev") for d in deps]
        is_root = package in roots
        for extra, deps in (package.get("optional-dependencies") or {}).items():
            if is_root or extra in extras:
                edges += [(d, optional or is_root) for d in deps]
        for dependency, edge_optional in edges:
            if not marker_holds(dependency.get("marker"), environment):
                continue
            name = canonicalize_name(dependency["name"])
            candidates = by_name.get(name, [])
            if "version" in dependency:
                candidates = [c for c in candidates if c.get("version") == dependency["version"]]
            wanted = tuple(sorted(dependency.get("extra", ())))
            for candidate in candidates[:1]:
                key = (name, str(candidate.get("version")), edge_optional, wanted)
                if key in seen or name in project:
                    continue
                seen.add(key)
                previous = found.get(name)
                if previous is None or (previous.optional and not edge_optional):
                    found[name] = Expected(candidate.get("version"), optional=edge_optional)
                pending.append((candidate, edge_optional, wanted))
    return DeclaredLock(str(path), "uv.lock", found, project)
