"""The data API: version a file or folder, and check out, inspect, clean and check versions.

The CLI and the tracking API call these; they compose the data services with the workspace's
stores. ``version_path`` is what ``run.use_data(path)`` and ``parity run --output`` use.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parity.core.errors import NotFoundError, UsageError
from parity.data.hashing import CHUNK_THRESHOLD
from parity.data.pointer import (
    SUFFIX,
    Pointer,
    pointer_path,
    read_pointer,
    target_of,
    write_pointer,
)
from parity.data.progress import Progress, no_progress
from parity.workspace import Workspace, now_ms

if TYPE_CHECKING:
    from parity.data.checkout import CheckoutResult
    from parity.data.fsck import FsckResult
    from parity.data.gc import GcPlan
    from parity.data.git import PointerCommit
    from parity.data.manifest import DataVersion
    from parity.data.statcache import StatCache
    from parity.data.status import DataStatus

STAT_CACHE = Path("cache") / "stat.db"


@dataclass(frozen=True)
class AddResult:
    data_version: str
    pointer: Path
    files: int
    size: int
    files_read: int  # files read and hashed (the rest came from the stat cache)
    chunks_new: int  # chunks no earlier version had stored
    bytes_stored: int  # bytes written into new packs
    changed: bool  # whether the pointer names another version than before

    def to_dict(self) -> dict[str, Any]:
        return {
            "data_version": self.data_version,
            "pointer": str(self.pointer),
            "files": self.files,
            "size": self.size,
            "files_read": self.files_read,
            "chunks_new": self.chunks_new,
            "bytes_stored": self.bytes_stored,
            "changed": self.changed,
        }


def data_target(workspace: Workspace, path: Path) -> tuple[Path, str]:
    """The absolute data path for ``path`` (a data path or its pointer) and its cache key
    (the path relative to the workspace root, POSIX)."""
    # Resolve the folders above, not the data path itself: a symlinked folder is versioned
    # where it appears, and the workspace root is a resolved path.
    absolute = Path(os.path.normpath(Path.cwd() / path))
    absolute = absolute.parent.resolve() / absolute.name
    if absolute.name.endswith(SUFFIX) and absolute.name != SUFFIX:
        absolute = target_of(absolute)
    try:
        relative = absolute.relative_to(workspace.root)
    except ValueError as exc:
        raise UsageError(
            f"{path} is outside the workspace {workspace.root}",
            hint="version data inside the project folder",
        ) from exc
    if not relative.parts or relative.parts[0] in (".parity", ".git"):
        raise UsageError(f"{path} cannot be versioned", hint="give a file or folder of your data")
    return absolute, relative.as_posix()


def chunk_threshold(workspace: Workspace) -> int:
    value = workspace.config.section("data").get("chunk_threshold", CHUNK_THRESHOLD)
    if not isinstance(value, int) or value < 1:
        raise UsageError(
            f"[data] chunk_threshold must be a positive number of bytes, not {value!r}",
            hint="fix .parity/config.toml",
        )
    return value


def stat_cache(workspace: Workspace) -> StatCache:
    from parity.data.statcache import StatCache

    return StatCache(workspace.parity_dir / STAT_CACHE)


def current_version(
    workspace: Workspace, pointer_file: Path
) -> tuple[Pointer | None, DataVersion | None]:
    """The pointer at ``pointer_file`` and its version, when both are here (else None)."""
    from parity.data.versions import load_version

    if not pointer_file.is_file():
        return None, None
    pointer = read_pointer(pointer_file)
    try:
        return pointer, load_version(workspace.objects, pointer.data_version)
    except NotFoundError:
        return pointer, None


def add_data(workspace: Workspace, path: Path, progress: Progress = no_progress) -> AddResult:
    """Version ``path``: store what is new, write ``PATH.parity`` and its .gitignore entry.

    >>> add_data(workspace, Path("data/train"))            # doctest: +SKIP
    AddResult(data_version='3f2a…', files=20000, …)
    """
    from parity.data.adding import Adder, collector_paused
    from parity.data.index import ChunkIndex
    from parity.data.versions import store_version

    target, key = data_target(workspace, path)
    pointer_file = pointer_path(target)
    before, previous = current_version(workspace, pointer_file)
    cache = stat_cache(workspace)
    # The collector stays paused until the version is stored: its record is built from the
    # same many small objects (a 2 GiB file's 30,000 chunks cost ~50 ms of collections here).
    with collector_paused():
        try:
            adder = Adder(
                workspace.objects,
                ChunkIndex(workspace.meta, workspace.objects),
                cache,
                chunk_threshold(workspace),
                progress,
                compress=workspace.config.section("data").get("compress", True) is not False,
            )
            version = adder.add(target, key, previous)
        finally:
            cache.close()
        label = f"{key} · {len(version.files)} files · {version.size} bytes"
        version_id = store_version(workspace.records, version, now_ms(), label)
    pointer = Pointer(version_id, version.size, len(version.files), version.kind)
    if before != pointer:
        write_pointer(pointer_file, pointer)
    stats = adder.stats
    return AddResult(
        data_version=version_id,
        pointer=pointer_file,
        files=stats.files,
        size=stats.size,
        files_read=stats.files_read,
        chunks_new=stats.chunks_new,
        bytes_stored=stats.bytes_stored,
        changed=before is None or before.data_version != version_id,
    )


def version_path(workspace: Workspace, path: Path) -> str:
    """The data version id of ``path``'s current content, versioning it first if it is new or
    changed (unchanged files are not read again: the stat cache knows them)."""
    return add_data(workspace, path).data_version


def _pointer_files(workspace: Workspace, paths: tuple[Path, ...]) -> list[tuple[Path, Path, str]]:
    """(data path, pointer file, key) for ``paths``, or for every pointer in the workspace."""
    from parity.data.pointer import find_pointers

    if paths:
        targets = [data_target(workspace, p) for p in paths]
    else:
        targets = [data_target(workspace, p) for p in find_pointers(workspace.root)]
    return [(target, pointer_path(target), key) for target, key in targets]


def data_status(workspace: Workspace, paths: tuple[Path, ...] = ()) -> list[DataStatus]:
    """Added / modified / deleted files of each path against its pointer (default: all)."""
    from parity.data.status import DataStatus, confirm_clean, expected_files
    from parity.data.status import data_status as compare
    from parity.data.versions import load_body

    results = []
    cache = stat_cache(workspace)
    try:
        for target, pointer_file, key in _pointer_files(workspace, paths):
            if not pointer_file.is_file():
                results.append(DataStatus(key, None, added=(key,)))
                continue
            pointer = read_pointer(pointer_file)
            remembered = cache.clean_tree(key, pointer.data_version) if target.is_dir() else None
            if remembered is not None and confirm_clean(target, remembered):
                results.append(DataStatus(key, pointer.data_version))
                continue
            expected = expected_files(load_body(workspace.objects, pointer.data_version))
            results.append(compare(target, key, pointer.data_version, expected, cache))
    finally:
        cache.close()
    return results


def checkout_data(
    workspace: Workspace,
    paths: tuple[Path, ...] = (),
    rev: str | None = None,
    force: bool = False,
    progress: Progress = no_progress,
) -> list[tuple[str, CheckoutResult]]:
    """Make each path hold the version its pointer names (at git revision ``rev`` if given;
    the pointer file is then updated to that revision's)."""
    from parity.data.checkout import checkout
    from parity.data.git import pointer_at
    from parity.data.versions import load_version

    done = []
    cache = stat_cache(workspace)
    try:
        for target, pointer_file, key in _pointer_files(workspace, paths):
            pointer, current = current_version(workspace, pointer_file)
            if rev is not None:
                pointer = pointer_at(pointer_file, rev)
            if pointer is None:
                raise UsageError(
                    f"{key} has no pointer {pointer_file.name}",
                    hint=f"version it with 'parity data add {key}'",
                )
            want = load_version(workspace.objects, pointer.data_version)
            result = checkout(workspace.objects, cache, target, key, want, current, force, progress)
            if rev is not None:
                write_pointer(pointer_file, pointer)
            done.append((key, result))
    finally:
        cache.close()
    return done


def data_log(workspace: Workspace, path: Path) -> list[PointerCommit]:
    """The versions of ``path`` in git history, newest first."""
    from parity.data.git import history

    target, _key = data_target(workspace, path)
    return history(pointer_path(target))


def _live_versions(workspace: Workspace) -> dict[str, str]:
    """Data versions something still needs → who: pointers in the work tree and in every git
    ref, the references each record kind declares, and the metadata store's declared columns."""
    from parity.data.liveness import live_versions

    return live_versions(workspace.root, workspace.records)


def gc_data(workspace: Workspace, delete: bool = False) -> GcPlan:
    """Plan (and with ``delete``, do) the removal of data nothing reaches any more."""
    from parity.data.gc import plan_gc, run_gc
    from parity.data.index import ChunkIndex
    from parity.data.manifest import DATA_KIND

    index = ChunkIndex(workspace.meta, workspace.objects)
    live = _live_versions(workspace)
    plan = plan_gc(workspace.objects, index, live, workspace.meta.record_ids(DATA_KIND))
    return run_gc(workspace.objects, index, plan) if delete else plan


def fsck_data(workspace: Workspace) -> FsckResult:
    """Re-hash every object; find what the work tree's pointers need but the store lacks."""
    from parity.data.fsck import fsck
    from parity.data.pointer import find_pointers

    named = [
        (read_pointer(p).data_version, str(p.relative_to(workspace.root)))
        for p in find_pointers(workspace.root)
    ]
    return fsck(workspace.objects, named)
