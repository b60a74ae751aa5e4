"""environment.yml (conda): the pip section must match; conda packages are checked when pip sees
them (a conda package without Python metadata, e.g. openssl, is invisible to an environment
fingerprint, so it may be absent)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import yaml
from packaging.utils import canonicalize_name

from parity.core.errors import UsageError
from parity.env.lockfiles.declared import DeclaredLock, Expected
from parity.env.lockfiles.requirements import parse_requirement_lines

_SPEC = re.compile(r"^(?:[^:\s]+::)?(?P<name>[A-Za-z0-9_.\-]+)\s*(?P<rest>.*)$")
_SKIPPED = {"pip"}


def conda_expectation(rest: str, optional: bool) -> Expected:
    """Conda's version syntax: ``==1.2.3`` exact, ``=1.2`` a prefix (1.2.*), ranges as they are."""
    rest = rest.strip().split(" ")[0]
    if rest.startswith("=="):
        return Expected(rest[2:].split("=")[0], optional=optional)
    if rest.startswith("="):
        version = rest[1:].split("=")[0].rstrip("*").rstrip(".")
        return Expected(specifier=f"=={version}.*" if version else "", optional=optional)
    if rest[:1] in ("<", ">", "!", "~"):
        return Expected(specifier=rest, optional=optional)
    # "name 1.2.3 build" (space form): the version is a prefix, the build string is ignored.
    version = rest.split("=")[0].rstrip("*").rstrip(".")
    return Expected(specifier=f"=={version}.*" if version else "", optional=optional)


def read_conda(path: Path, environment: Mapping[str, str]) -> DeclaredLock:
    try:
        document = yaml.safe_load(path.read_text("utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from exc
    found: dict[str, Expected] = {}
    project: set[str] = set()
    python: Expected | None = None
    for entry in document.get("dependencies") or []:
        if isinstance(entry, dict):
            lines = [str(line) for line in entry.get("pip") or []]
            pip_found, pip_project = parse_requirement_lines(lines, environment, path.parent, set())
            found.update(pip_found)
            project |= pip_project
            continue
        match = _SPEC.match(str(entry).strip())
        if match is None:
            raise UsageError(f"not a conda package spec in {path}: {entry!r}")
        name = canonicalize_name(match["name"])
        if name == "python":
            python = conda_expectation(match["rest"], optional=False)
        elif name not in _SKIPPED:
            found.setdefault(name, conda_expectation(match["rest"], optional=True))
    return DeclaredLock(str(path), "conda", found, frozenset(project), python)
