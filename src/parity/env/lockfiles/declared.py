"""What a project's lock file declares: the one small record every lock-file parser returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version


@dataclass(frozen=True)
class Expected:
    """One declared package: an exact version, or a range when the file does not pin one."""

    version: str | None = None  # the pinned version; None when any version (or a range) will do
    specifier: str = ""  # a PEP 440 range, for files that do not pin ("" = any version)
    optional: bool = False  # may be absent (a dev group, a conda package pip cannot see)

    def describe(self) -> str:
        return self.version or self.specifier or "any version"

    def accepts(self, installed: str) -> bool:
        if self.version is not None:
            return _same_version(self.version, installed)
        if not self.specifier:
            return True
        try:
            return SpecifierSet(self.specifier).contains(installed, prereleases=True)
        except (InvalidSpecifier, InvalidVersion):
            return False


def _same_version(declared: str, installed: str) -> bool:
    try:
        return Version(declared) == Version(installed)
    except InvalidVersion:
        return declared == installed


@dataclass(frozen=True)
class DeclaredLock:
    path: str
    format: str  # "uv.lock" | "poetry.lock" | "Pipfile.lock" | "requirements" | "pylock" | "conda"
    packages: Mapping[str, Expected]  # normalized name -> expectation, markers already applied
    project: frozenset[str] = field(default=frozenset())  # the project itself: may be installed
    python: Expected | None = None  # the interpreter version, when the file pins it


def marker_holds(marker: str | None, environment: Mapping[str, str]) -> bool:
    """Does a PEP 508 marker hold in the recorded environment? An unreadable one counts as yes,
    so a package is never hidden from the check by a marker Parity cannot parse."""
    if not marker:
        return True
    from packaging.markers import InvalidMarker, Marker, UndefinedEnvironmentName  # lazy: rare

    try:
        return Marker(marker).evaluate(dict(environment))
    except (InvalidMarker, UndefinedEnvironmentName):
        return True
