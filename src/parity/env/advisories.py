"""An offline OSV advisory set: a folder of OSV JSON files, one file, or OSV's ``all.zip``.

Only PyPI advisories are kept, indexed by normalized package name so matching an environment
costs one lookup per distribution.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from parity.core.errors import NotFoundError, UsageError

ECOSYSTEM = "PyPI"
# OSV's published export of every PyPI advisory (osv.dev, "Data dumps"), refreshed daily.
OSV_PYPI_ALL = "https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip"


# Severity as advisories state it (GitHub's database_specific.severity), lowest first; an
# advisory that states none is "unknown", which a gate counts as high unless told otherwise.
SEVERITIES = ("low", "moderate", "high", "critical")
UNKNOWN_SEVERITY = "unknown"


@dataclass(frozen=True)
class Advisory:
    id: str
    aliases: tuple[str, ...]
    summary: str
    severity: str = UNKNOWN_SEVERITY


def severity_of(document: Mapping[str, Any]) -> str:
    """The advisory's own severity word (LOW, MODERATE/MEDIUM, HIGH, CRITICAL), lower case."""
    specific = document.get("database_specific")
    stated = specific.get("severity") if isinstance(specific, Mapping) else None
    word = str(stated or "").lower()
    word = "moderate" if word == "medium" else word
    return word if word in SEVERITIES else UNKNOWN_SEVERITY


@dataclass(frozen=True)
class AffectedRange:
    """One ECOSYSTEM range: its events (introduced / fixed / last_affected / limit) in order."""

    events: tuple[tuple[str, str], ...]

    def contains(self, version: Version) -> bool:
        affected = False
        for kind, bound in self.events:
            if kind == "introduced":
                affected = affected or bound == "0" or version >= _parse(bound, version)
            elif _ends(kind, bound, version):
                affected = False
        return affected

    @property
    def fixed(self) -> tuple[str, ...]:
        return tuple(bound for kind, bound in self.events if kind == "fixed")


def _ends(kind: str, bound: str, version: Version) -> bool:
    """Does this event close the range before ``version``?"""
    if kind in ("fixed", "limit"):
        return version >= _parse(bound, version)
    if kind == "last_affected":
        return version > _parse(bound, version)
    return False


def _parse(bound: str, fallback: Version) -> Version:
    try:
        return Version(bound)
    except InvalidVersion:
        return fallback  # an unreadable bound counts as the version being checked


def _order(event: tuple[str, str]) -> tuple[int, Version | int]:
    bound = event[1]
    if bound == "0":
        return (0, 0)
    try:
        return (1, Version(bound))
    except InvalidVersion:
        return (2, 0)


@dataclass(frozen=True)
class Affected:
    advisory: Advisory
    versions: frozenset[str]
    ranges: tuple[AffectedRange, ...]

    def matches(self, version: str) -> bool:
        try:
            parsed = Version(version)
        except InvalidVersion:
            return version in self.versions
        if version in self.versions or any(_equal(parsed, v) for v in self.versions):
            return True
        return any(r.contains(parsed) for r in self.ranges)

    @property
    def fixed(self) -> tuple[str, ...]:
        return tuple(sorted({f for r in self.ranges for f in r.fixed}))


def _equal(version: Version, text: str) -> bool:
    try:
        return version == Version(text)
    except InvalidVersion:
        return False


@dataclass(frozen=True)
class AdvisorySet:
    by_package: Mapping[str, tuple[Affected, ...]]
    count: int  # PyPI advisories read

    def affecting(self, name: str, version: str) -> list[Affected]:
        return [a for a in self.by_package.get(name, ()) if a.matches(version)]


def _documents(path: Path) -> Iterator[tuple[str, bytes]]:
    if path.is_file() and path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                if member.endswith(".json"):
                    yield f"{path}:{member}", archive.read(member)
    elif path.is_file():
        yield str(path), path.read_bytes()
    elif path.is_dir():
        for child in sorted(path.rglob("*")):
            if child.suffix in (".json", ".zip") and child.is_file():
                yield from _documents(child)
    else:
        raise NotFoundError(
            f"no advisory set at {path}",
            hint=f"download {OSV_PYPI_ALL} where there is a network, then pass its path",
        )


def _ranges(entry: Mapping[str, Any]) -> tuple[AffectedRange, ...]:
    ranges = []
    for item in entry.get("ranges") or ():
        if item.get("type") != "ECOSYSTEM":
            continue  # GIT ranges name commits, not released versions
        events = [
            (kind, str(bound)) for event in item.get("events", ()) for kind, bound in event.items()
        ]
        ranges.append(AffectedRange(tuple(sorted(events, key=_order))))
    return tuple(ranges)


def load_advisories(path: Path) -> AdvisorySet:
    by_package: dict[str, list[Affected]] = {}
    count = 0
    for where, data in _documents(path):
        try:
            document = json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise UsageError(f"{where} is not an OSV JSON document: {exc}") from exc
        if not isinstance(document, dict) or document.get("withdrawn"):
            continue
        advisory = Advisory(
            str(document.get("id", where)),
            tuple(document.get("aliases") or ()),
            str(document.get("summary") or document.get("details", "")[:120]),
            severity_of(document),
        )
        relevant = False
        for entry in document.get("affected") or ():
            package = entry.get("package") or {}
            if package.get("ecosystem") != ECOSYSTEM or "name" not in package:
                continue
            relevant = True
            affected = Affected(
                advisory, frozenset(map(str, entry.get("versions") or ())), _ranges(entry)
            )
            by_package.setdefault(canonicalize_name(package["name"]), []).append(affected)
        count += relevant
    return AdvisorySet({name: tuple(found) for name, found in by_package.items()}, count)
