"""Push and pull: the data versions of a workspace shared through a remote object store."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parity.core.config import Remote
from parity.core.errors import NotFoundError, UsageError
from parity.data import remotes
from parity.data.pointer import SUFFIX, find_pointers, pointer_path, read_pointer
from parity.data.reachable import objects_of_version
from parity.data.transfer import TransferProgress, TransferResult, transfer
from parity.store.http.credentials import token_for
from parity.store.objects.store import ObjectStore, corrupt_digests
from parity.workspace import TMP_DIR, Workspace, now_ms

if TYPE_CHECKING:
    from parity.data.checkout import CheckoutResult


@contextlib.contextmanager
def open_remote(workspace: Workspace, name: str | None) -> Iterator[tuple[Remote, ObjectStore]]:
    """The remote named ``name`` (default: the default remote) and its object store, whose
    connections are let go when the block ends."""
    remote = remotes.choose_remote(workspace.config, name)
    if not remote.url.startswith(("http://", "https://")):
        store = remotes.open_remote(remote, workspace.root)
    else:
        # A Parity server: PARITY_TOKEN, else the token 'parity login URL' saved for it. When
        # the workspace uses another server, PARITY_TOKEN is that server's: never sent here.
        url = remotes.check_remote_url(remote.url)
        own = workspace.server_url is None or workspace.server_url.rstrip("/") == url
        token = (workspace.environ_token if own else None) or token_for(url)
        scratch = workspace.parity_dir / TMP_DIR
        store = remotes.open_remote(remote, workspace.root, token=token, scratch=scratch)
    try:
        yield remote, store
    finally:
        store.close()


# push and pull -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class SyncReport:
    """What a push or pull did, for which data versions, with which remote; for a pull, what
    it then checked out, and which paths it left alone and why (``not_checked_out``)."""

    remote: Remote
    versions: tuple[str, ...]
    result: TransferResult
    checked_out: tuple[tuple[str, CheckoutResult], ...] = ()
    not_checked_out: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "remote": self.remote.name,
            "url": self.remote.url,
            "versions": list(self.versions),
            **self.result.to_dict(),
            "checked_out": {key: result.to_dict() for key, result in self.checked_out},
            "not_checked_out": dict(self.not_checked_out),
        }


def versions_of(
    workspace: Workspace, paths: Sequence[Path], versions: Sequence[str] = ()
) -> tuple[str, ...]:
    """The data versions named by the pointers of ``paths``, then ``versions`` (ids); every
    pointer's when neither is given."""
    if versions and not paths:
        return tuple(dict.fromkeys(versions))
    if paths:
        pointer_files = [p if p.name.endswith(SUFFIX) else pointer_path(p) for p in paths]
    else:
        pointer_files = find_pointers(workspace.root)
        if not pointer_files:
            raise UsageError(
                "there is no versioned data in this workspace",
                hint="version some with 'parity data add PATH' first",
            )
    named = [read_pointer(p).data_version for p in pointer_files]
    return tuple(dict.fromkeys([*named, *versions]))


def push_versions(
    workspace: Workspace,
    versions: Sequence[str],
    remote_name: str | None = None,
    jobs: int | None = None,
    progress: TransferProgress | None = None,
) -> SyncReport:
    """Copy what the remote lacks of ``versions``: packs first, manifests last."""
    versions = tuple(dict.fromkeys(versions))
    needed: set[str] = set()
    for version in versions:
        needed |= _objects_of(
            workspace.objects,
            version,
            "this workspace",
            "pull it here first with 'parity data pull'",
        )
    with open_remote(workspace, remote_name) as (remote, store):
        waves = [needed - set(versions), versions]
        result = transfer(workspace.objects, store, waves, jobs, progress)
    return SyncReport(remote, versions, result)


def pull_versions(
    workspace: Workspace,
    versions: Sequence[str],
    remote_name: str | None = None,
    jobs: int | None = None,
    progress: TransferProgress | None = None,
    verify: bool = False,
) -> SyncReport:
    """Fetch what this workspace lacks of ``versions`` and index them, so they check out.

    With ``verify``, the local copies are re-hashed too and corrupt ones fetched again.
    """
    versions = tuple(dict.fromkeys(versions))
    with open_remote(workspace, remote_name) as (remote, store):
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
            workspace.chunk_index.index_version(version, now_ms())
    return SyncReport(remote, versions, result)


def _objects_of(store: ObjectStore, version: str, where: str, hint: str) -> set[str]:
    try:
        return objects_of_version(store, version)
    except NotFoundError as exc:
        raise NotFoundError(
            f"data version {version[:12]} is not in {where} ({store.url})", hint=hint
        ) from exc
