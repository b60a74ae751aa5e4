"""requirements*.txt (pip's format): pins with markers, hashes, ``-r`` includes and ``-e`` lines."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from parity.core.errors import UsageError
from parity.env.lockfiles.declared import DeclaredLock, Expected, marker_holds

_COMMENT = re.compile(r"(^|\s)#.*$")
_EGG = re.compile(r"#egg=([A-Za-z0-9_.\-]+)")
_INCLUDE = ("-r", "--requirement")
_EDITABLE = ("-e", "--editable")


def logical_lines(text: str) -> Iterator[str]:
    """Lines with comments stripped and backslash continuations joined."""
    buffer = ""
    for raw in text.splitlines():
        egg = _EGG.search(raw)
        line = _COMMENT.sub("", raw).rstrip() if egg is None else raw.rstrip()
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        buffer += line
        if buffer.strip():
            yield buffer.strip()
        buffer = ""
    if buffer.strip():
        yield buffer.strip()


def without_hashes(line: str) -> str:
    return re.sub(r"\s--hash[=\s]\S+", "", f" {line}").strip()


def expectation(line: str, environment: Mapping[str, str]) -> tuple[str, Expected] | None:
    """One requirement line (without ``--hash`` options) as (name, expectation); None when its
    marker does not hold in ``environment``."""
    try:
        requirement = Requirement(line)
    except InvalidRequirement as exc:
        raise UsageError(f"not a requirement: {line!r} ({exc})") from exc
    if requirement.marker is not None and not marker_holds(str(requirement.marker), environment):
        return None
    name = canonicalize_name(requirement.name)
    pins = [
        s for s in requirement.specifier if s.operator in ("==", "===") and "*" not in s.version
    ]
    if requirement.url:
        return name, Expected()
    if len(pins) == 1 and len(requirement.specifier) == 1:
        return name, Expected(pins[0].version)
    return name, Expected(specifier=str(requirement.specifier))


def parse_requirement_lines(
    lines: Iterable[str], environment: Mapping[str, str], folder: Path, seen: set[Path]
) -> tuple[dict[str, Expected], set[str]]:
    found: dict[str, Expected] = {}
    project: set[str] = set()
    for line in lines:
        option, _, rest = line.partition(" ")
        if option in _INCLUDE or line.startswith("--requirement="):
            target = (rest or line.partition("=")[2]).strip()
            included = read_requirements(folder / target, environment, seen)
            found.update(included.packages)
            project |= included.project
            continue
        if option in _EDITABLE:
            egg = _EGG.search(rest)
            if egg:
                project.add(canonicalize_name(egg.group(1)))
            continue
        if line.startswith("-"):
            continue  # --index-url, -c constraints, --no-binary …: not packages
        parsed = expectation(without_hashes(line), environment)
        if parsed is not None:
            found[parsed[0]] = parsed[1]
    return found, project


def read_requirements(
    path: Path, environment: Mapping[str, str], seen: set[Path] | None = None
) -> DeclaredLock:
    seen = set() if seen is None else seen
    if path.resolve() in seen:
        return DeclaredLock(str(path), "requirements", {})
    seen.add(path.resolve())
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from exc
    found, project = parse_requirement_lines(logical_lines(text), environment, path.parent, seen)
    return DeclaredLock(str(path), "requirements", found, frozenset(project))
