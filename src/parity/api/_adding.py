"""Versioning a file or folder: store what is new, write its pointer (``parity data add``)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parity.api._worktree import current_body, data_target, stat_cache
from parity.core.errors import UsageError
from parity.core.file_errors import file_error
from parity.data.adding import Adder, collector_paused
from parity.data.hashing import CHUNK_THRESHOLD
from parity.data.index_direct import DirectDataIndex, open_direct_index
from parity.data.pointer import Pointer, pointer_path, write_pointer
from parity.data.progress import Progress, no_progress
from parity.data.versions import store_version
from parity.workspace import DATABASE_FILE, Workspace, now_ms

if TYPE_CHECKING:
    from parity.data.index_port import ChunkIndexPort
    from parity.data.versions import RecordRows


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


def chunk_threshold(workspace: Workspace) -> int:
    value = workspace.config.section("data").get("chunk_threshold", CHUNK_THRESHOLD)
    if not isinstance(value, int) or value < 1:
        raise UsageError(
            f"[data] chunk_threshold must be a positive number of bytes, not {value!r}",
            hint="fix .parity/config.toml",
        )
    return value


def direct_index(workspace: Workspace) -> DirectDataIndex | None:
    """The stdlib ``sqlite3`` index of the workspace's own database (``data.index_direct``), or
    None: for a server's or team database, a database set in the config, or one not exactly at
    this Parity's schema, the add goes through the metadata store (which migrates it)."""
    if workspace.server_url is not None or workspace.embedded or workspace.config.metadata_url:
        return None
    return open_direct_index(workspace.parity_dir / DATABASE_FILE, workspace.objects)


def add_path(
    workspace: Workspace,
    path: Path,
    progress: Progress = no_progress,
    follow_symlinks: bool = False,
) -> AddResult:
    """Version ``path``: store what is new, write ``PATH.parity`` and its .gitignore entry.

    A symlink to a file outside the workspace is refused unless ``follow_symlinks``."""
    started = time.time_ns()
    target, key = data_target(workspace, path)
    pointer_file = pointer_path(target)
    before, previous = current_body(workspace, pointer_file)
    # Temp files an add or transfer killed before this one began left behind (none of ours yet).
    workspace.objects.sweep_scratch(started)
    cache = stat_cache(workspace)
    direct = direct_index(workspace)
    index: ChunkIndexPort
    rows: RecordRows
    if direct is not None:
        index = rows = direct
        # Two adds at once would each miss the chunks the other is storing, and store them again:
        # the same lock file as the metadata store's ``exclusive``.
        exclusive = direct.exclusive
    else:
        index, rows = workspace.chunk_index, workspace.records.meta
        # PostgreSQL's lock also shuts out other machines sharing the database.
        exclusive = workspace.records.meta.exclusive
    # The collector stays paused until the version is stored: its record is built from the
    # same many small objects (a 2 GiB file's 30,000 chunks cost ~50 ms of collections here).
    with collector_paused():
        try:
            adder = Adder(
                workspace.objects,
                index,
                cache,
                chunk_threshold(workspace),
                progress,
                compress=workspace.config.section("data").get("compress", True) is not False,
                deltas=workspace.config.section("data").get("deltas", True) is not False,
                within=None if follow_symlinks else workspace.root,
                exclusive=lambda: exclusive("data-add"),
            )
            version = adder.add(target, key, previous)
            label = f"{key} · {version.files} files · {version.size} bytes"
            version_id = store_version(workspace.objects, rows, version, now_ms(), label)
            adder.remember_clean(key, version_id)
        except OSError as exc:  # a file unreadable or gone mid-add: one line, packs aborted
            raise file_error(exc, None, "read") from exc
        finally:
            cache.close()
            if direct is not None:
                direct.close()
    pointer = Pointer(version_id, version.size, version.files, version.kind)
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
