"""Remotes, push and pull: the data versions of a workspace shared through an object store."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from parity.core.config import Config, Remote
from parity.core.errors import NotFoundError, UsageError
from parity.data import remotes
from parity.data.index import index_version
from parity.data.pointer import SUFFIX, find_pointers, pointer_path, read_pointer
from parity.data.reachable import objects_of_version
from parity.data.transfer import TransferProgress, TransferResult, transfer
from parity.store.objects.store import ObjectStore, corrupt_digests
from parity.workspace import Workspace, now_ms, read_config


# remotes -----------------------------------------------------------------------------------------
def add_remote(
    workspace: Workspace,
    name: str,
    url: str,
    endpoint_url: str | None = None,
    region: str | None = None,
    make_default: bool = False,
) -> Remote:
    if "://" not in url and not Path(url).expanduser().is_absolute():
        # Typed relative to where the user stands; kept relative to the workspace root, so a
        # committed config.toml works in every clone.
        url = os.path.relpath(Path.cwd() / url, workspace.root)
    # Edit the file's own config, not the one with PARITY_* overrides applied, so an override
    # set in the shell is never written into config.toml.
    saved = remotes.add_remote(
        read_config(workspace.config_path), name, url, endpoint_url, region, make_default
    )
    _save_remotes(workspace, saved)
    return saved.remotes[name]


def remove_remote(workspace: Workspace, name: str) -> None:
    _save_remotes(workspace, remotes.remove_remote(read_config(workspace.config_path), name))


def list_remotes(workspace: Workspace) -> list[dict[str, Any]]:
    config = workspace.config
    return [
        {
            "name": r.name,
            "url": r.url,
            "endpoint_url": r.endpoint_url,
            "region": r.region,
            "default": r.name == config.default_remote,
        }
        for r in sorted(config.remotes.values(), key=lambda r: r.name)
    ]


def open_remote(workspace: Workspace, name: str | None) -> tuple[Remote, ObjectStore]:
    remote = remotes.choose_remote(workspace.config, name)
    return remote, remotes.open_remote(remote, workspace.root)


def _save_remotes(workspace: Workspace, saved: Config) -> None:
    current = workspace.config
    workspace.save_config(saved)
    workspace.config = replace(current, remotes=saved.remotes, default_remote=saved.default_remote)


# push and pull -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class SyncReport:
    """What a push or pull did, for which data versions, with which remote."""

    remote: Remote
    versions: tuple[str, ...]
    result: TransferResult

    def to_dict(self) -> dict[str, Any]:
        return {
            "remote": self.remote.name,
            "url": self.remote.url,
            "versions": list(self.versions),
            **self.result.to_dict(),
        }


def versions_of(workspace: Workspace, paths: Sequence[Path]) -> tuple[str, ...]:
    """The data versions named by the pointers of ``paths`` (all pointers when none is given)."""
    if paths:
        pointer_files = [p if p.name.endswith(SUFFIX) else pointer_path(p) for p in paths]
    else:
        pointer_files = find_pointers(workspace.root)
        if not pointer_files:
            raise UsageError(
                "there is no versioned data in this workspace",
                hint="version some with 'parity data add PATH' first",
            )
    return tuple(dict.fromkeys(read_pointer(p).data_version for p in pointer_files))


def push(
    workspace: Workspace,
    paths: Sequence[Path] = (),
    remote_name: str | None = None,
    jobs: int | None = None,
    progress: TransferProgress | None = None,
) -> SyncReport:
    """Copy what the remote lacks of the data versions of ``paths``: packs first, manifests last."""
    return push_versions(workspace, versions_of(workspace, paths), remote_name, jobs, progress)


def push_versions(
    workspace: Workspace,
    versions: Sequence[str],
    remote_name: str | None = None,
    jobs: int | None = None,
    progress: TransferProgress | None = None,
) -> SyncReport:
    """``push`` by data version id (for runs and models whose inputs have no pointer here)."""
    versions = tuple(dict.fromkeys(versions))
    remote, store = open_remote(workspace, remote_name)
    needed: set[str] = set()
    for version in versions:
        needed |= _objects_of(
            workspace.objects,
            version,
            "this workspace",
            "pull it here first with 'parity data pull'",
        )
    result = transfer(workspace.objects, store, [needed - set(versions), versions], jobs, progress)
    return SyncReport(remote, versions, result)


def pull(
    workspace: Workspace,
    paths: Sequence[Path] = (),
    remote_name: str | None = None,
    jobs: int | None = None,
    progress: TransferProgress | None = None,
    verify: bool = False,
) -> SyncReport:
    """Fetch what this workspace lacks of the data versions of ``paths`` and make them usable.

    With ``verify``, the local copies are re-hashed too and corrupt ones fetched again.
    """
    return pull_versions(
        workspace, versions_of(workspace, paths), remote_name, jobs, progress, verify
    )


def pull_versions(
    workspace: Workspace,
    versions: Sequence[str],
    remote_name: str | None = None,
    jobs: int | None = None,
    progress: TransferProgress | None = None,
    verify: bool = False,
) -> SyncReport:
    """``pull`` by data version id (what ``repro`` needs for a run's inputs)."""
    versions = tuple(dict.fromkeys(versions))
    remote, store = open_remote(workspace, remote_name)
    hint = "push it from the workspace that added it, or pick another remote with -r"
    needed = {v: _objects_of(store, v, f"remote {remote.name}", hint) for v in versions}
    everything = set().union(*needed.values())
    corrupt: set[str] = set()
    if verify:
        present = everything - workspace.objects.missing(everything)
        corrupt = {c.digest for c in corrupt_digests(workspace.objects, sorted(present))}
    result = transfer(
        store,
        workspace.objects,
        [everything - set(versions), versions],
        jobs,
        progress,
        replace=corrupt,
    )
    for version, objects in needed.items():
        if not objects & set(result.failed):
            index_version(workspace.meta, workspace.objects, version, now_ms())
    return SyncReport(remote, versions, result)


def _objects_of(store: ObjectStore, version: str, where: str, hint: str) -> set[str]:
    try:
        return objects_of_version(store, version)
    except NotFoundError as exc:
        raise NotFoundError(
            f"data version {version[:12]} is not in {where} ({store.url})", hint=hint
        ) from exc
