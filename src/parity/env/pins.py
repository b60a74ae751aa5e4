"""What an export pins: every recorded distribution as an exact, hashed, installable thing.

An export is only as good as its worst package, so the plan says which distributions cannot be
rebuilt elsewhere (editable installs and local folders or files) and which have no hash; the
exporters write what can be written and the caller turns either list into exit 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from packaging.tags import Tag
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from parity.core.environment import Distribution, Environment
from parity.env.hashes import DEFAULT_INDEX, PackageFile, PackageFiles, lookup_files


@dataclass(frozen=True)
class LockedPackage:
    name: str
    version: str
    kind: str  # "index" | "archive" | "vcs"
    files: tuple[PackageFile, ...] = ()  # the wheels (or the sdist) that install this build
    url: str | None = None  # the archive URL, or the VCS repository
    vcs: str | None = None
    commit: str | None = None
    archive_sha256: str | None = None
    index: str | None = None  # the index that serves the files, when known

    @property
    def hashes(self) -> tuple[str, ...]:
        if self.archive_sha256:
            return (self.archive_sha256,)
        return tuple(sorted({f.sha256 for f in self.files}))

    @property
    def requirement(self) -> str:
        """The PEP 508 line: ``name==version``, or a direct reference with its commit."""
        if self.kind == "vcs":
            return f"{self.name} @ {self.vcs or 'git'}+{self.url}@{self.commit}"
        if self.kind == "archive":
            return f"{self.name} @ {self.url}"
        return f"{self.name}=={self.version}"


@dataclass(frozen=True)
class NotReproducible:
    name: str
    version: str
    reason: str


@dataclass(frozen=True)
class ExportPlan:
    environment: Environment
    packages: tuple[LockedPackage, ...]
    not_reproducible: tuple[NotReproducible, ...]
    unhashed: tuple[str, ...]  # "name==version" of packages no hash could be found for
    index_url: str
    cached: bool = False
    extra_index_urls: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()  # "name==version" left out on request (--exclude)

    @property
    def ok(self) -> bool:
        return not self.not_reproducible and not self.unhashed


def _tags(dist: Distribution) -> frozenset[str]:
    return frozenset(dist.wheel_tags)


def _exact_build(dist: Distribution, found: PackageFiles) -> tuple[PackageFile, ...]:
    """The wheels whose tags are the installed wheel's: the very build, not just the version."""
    wanted = _tags(dist)
    exact = []
    for wheel in found.wheels:
        try:
            tags: frozenset[Tag] = parse_wheel_filename(wheel.filename)[3]
        except InvalidWheelFilename:
            continue
        if wanted & {str(tag) for tag in tags}:
            exact.append(wheel)
    if exact:
        return tuple(exact)
    if found.wheels:
        return found.wheels
    return (found.sdist,) if found.sdist is not None else ()


def _is_local(url: str | None) -> bool:
    return url is None or url.startswith("file:") or Path(url).is_absolute()


def plan_export(
    environment: Environment,
    *,
    hashes: bool = True,
    index_url: str = DEFAULT_INDEX,
    extra_index_urls: tuple[str, ...] = (),
    cache_dir: Path | None = None,
    wheels_dir: Path | None = None,
    exclude: frozenset[str] = frozenset(),
) -> ExportPlan:
    """Pin every distribution of ``environment``; look up hashes unless ``hashes`` is False.

    ``exclude`` names (normalized) distributions to leave out on purpose, such as the project's
    own editable package that a Dockerfile installs from its source instead.
    """
    packages: list[LockedPackage] = []
    excluded = tuple(
        f"{d.name}=={d.version}" for d in environment.distributions if d.name in exclude
    )
    not_reproducible: list[NotReproducible] = []
    unhashed: list[str] = []
    index_dists: list[Distribution] = []
    for dist in environment.distributions:
        if dist.name in exclude:
            continue
        source = dist.source
        if source.kind == "index":
            index_dists.append(dist)
        elif source.kind == "vcs" and source.url and source.commit:
            packages.append(
                LockedPackage(
                    dist.name,
                    dist.version,
                    "vcs",
                    url=source.url,
                    vcs=source.vcs,
                    commit=source.commit,
                )
            )
            # pip cannot hash a repository: a VCS pin is exact by its commit, not by a hash.
            unhashed.append(f"{dist.name}=={dist.version}")
        elif source.kind == "archive" and not _is_local(source.url):
            sha256 = (source.archive_hash or "").partition("sha256=")[2] or None
            packages.append(
                LockedPackage(
                    dist.name, dist.version, "archive", url=source.url, archive_sha256=sha256
                )
            )
            if sha256 is None:
                unhashed.append(f"{dist.name}=={dist.version}")
        else:
            where = source.url or "an unknown place"
            what = "an editable install" if source.kind == "editable" else "installed"
            not_reproducible.append(
                NotReproducible(dist.name, dist.version, f"{what} from {where}")
            )
    cached = False
    if hashes and index_dists:
        found = lookup_files(
            [(d.name, d.version) for d in index_dists],
            environment,
            index_url=index_url,
            extra_index_urls=extra_index_urls,
            cache_dir=cache_dir,
            wheels_dir=wheels_dir,
        )
        cached = found.cached
        for dist in index_dists:
            files = found.files.get(dist.name)
            build = _exact_build(dist, files) if files is not None else ()
            if not build:
                unhashed.append(f"{dist.name}=={dist.version}")
            index = files.index if files is not None else None
            packages.append(
                LockedPackage(dist.name, dist.version, "index", files=build, index=index)
            )
    else:
        packages += [LockedPackage(d.name, d.version, "index") for d in index_dists]
    if not hashes:
        unhashed = []  # not asked for, so none is missing
    return ExportPlan(
        environment,
        tuple(sorted(packages, key=lambda p: p.name)),
        tuple(not_reproducible),
        tuple(sorted(unhashed)),
        index_url,
        cached,
        extra_index_urls,
        excluded,
    )
