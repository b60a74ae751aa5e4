"""pylock.toml (PEP 751): every package with its index and the exact wheels, URL, size, sha256."""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import tomli_w

from parity.env.export_requirements import header
from parity.env.markers import environments_marker
from parity.env.pins import ExportPlan, LockedPackage

PYPI_FILES = "https://files.pythonhosted.org/"


def _index_of(package: LockedPackage, index_url: str, extra_indexes: Sequence[str]) -> str | None:
    """The index that served the files: the one their URLs live under, or the only one asked."""
    urls = [f.url for f in package.files]
    if any(url.startswith("file:") for url in urls):
        return None  # hashed from a local folder of wheels (--wheels): no index serves them
    for index in extra_indexes:
        base = index.rsplit("/simple", 1)[0]
        if urls and all(url.startswith(base) for url in urls):
            return index
    if not extra_indexes or all(url.startswith(PYPI_FILES) for url in urls):
        return index_url
    return None  # optional in PEP 751: better absent than wrong


def _package(
    package: LockedPackage, index_url: str, extra_indexes: Sequence[str]
) -> dict[str, Any] | None:
    entry: dict[str, Any] = {"name": package.name, "version": package.version}
    if package.kind == "vcs":
        entry["vcs"] = {
            "type": package.vcs or "git",
            "url": package.url,
            "commit-id": package.commit,
        }
        return entry
    if package.kind == "archive":
        if not package.archive_sha256:
            return None
        entry["archive"] = {"url": package.url, "hashes": {"sha256": package.archive_sha256}}
        return entry
    files = [
        {"url": f.url, "hashes": {"sha256": f.sha256}, **({"size": f.size} if f.size else {})}
        for f in package.files
    ]
    if not files:
        return None  # PEP 751 wants a hash for every file: listed as unhashed in the header
    index = package.index or _index_of(package, index_url, extra_indexes)
    if index:
        entry["index"] = index
    is_sdist = len(files) == 1 and not package.files[0].filename.endswith(".whl")
    if is_sdist:
        entry["sdist"] = files[0]
    else:
        entry["wheels"] = files
    return entry


def _parity_version() -> str:
    # Read from the installed metadata: importing the parity package would load the workspace.
    try:
        return version("parity-ml")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


def render_pylock(plan: ExportPlan) -> str:
    environment = plan.environment
    extra = plan.extra_index_urls
    packages = [_package(p, plan.index_url, extra) for p in plan.packages]
    document: dict[str, Any] = {
        "lock-version": "1.0",
        "environments": [environments_marker(environment)],
        "requires-python": f"=={environment.interpreter.minor}.*",
        "created-by": f"parity {_parity_version()}",
        "packages": [p for p in packages if p is not None],
        "tool": {"parity": {"environment": environment.id}},
    }
    if plan.excluded:
        # Named for machines too: verify the built environment with the same --exclude.
        document["tool"]["parity"]["excluded"] = list(plan.excluded)
    comments = "".join(f"{line}\n" for line in header(plan))
    return comments + tomli_w.dumps(document)
