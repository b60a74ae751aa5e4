"""pylock.toml (PEP 751): every package with its index and the exact wheels, URL, size, sha256."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

import tomli_w

from parity.env.export_requirements import header
from parity.env.markers import environments_marker
from parity.env.pins import ExportPlan, LockedPackage


def _package(package: LockedPackage, index_url: str) -> dict[str, Any] | None:
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
    entry["index"] = index_url
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
    packages = [_package(p, plan.index_url) for p in plan.packages]
    document: dict[str, Any] = {
        "lock-version": "1.0",
        "environments": [environments_marker(environment)],
        "requires-python": f"=={environment.interpreter.minor}.*",
        "created-by": f"parity {_parity_version()}",
        "packages": [p for p in packages if p is not None],
        "tool": {"parity": {"environment": environment.id}},
    }
    comments = "".join(f"{line}\n" for line in header(plan))
    return comments + tomli_w.dumps(document)
