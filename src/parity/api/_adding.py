"""Versioning a file or folder: store what is new, write its pointer (``parity data add``)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from parity.api._worktree import current_version, data_target, stat_cache
from parity.core.errors import UsageError
from parity.core.file_errors import file_error
from parity.data.adding import Adder, collector_paused
from parity.data.hashing import CHUNK_THRESHOLD
from parity.data.pointer import Pointer, pointer_path, write_pointer
from parity.data.progress import Progress, no_progress
from parity.data.versions import store_version
from parity.workspace import Workspace, now_ms


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
    before, previous = current_version(workspace, pointer_file)
    # Temp files an add or transfer killed before this one began left behind (none of ours yet).
    workspace.objects.sweep_scratch(started)
    cache = stat_cache(workspace)
    # The collector stays paused until the version is stored: its record is built from the
    # same many small objects (a 2 GiB file's 30,000 chunks cost ~50 ms of collections here).
    with collector_paused():
        try:
            adder = Adder(
                workspace.objects,
                workspace.chunk_index,
                cache,
                chunk_threshold(workspace),
                progress,
                compress=workspace.config.section("data").get("compress", True) is not False,
                within=None if follow_symlinks else workspace.root,
                # Two adds at once (two processes, or two machines sharing PostgreSQL) would
                # each miss the chunks the other is storing, and store them again.
                exclusive=lambda: workspace.records.meta.exclusive("data-add"),
            )
            version = adder.add(target, key, previous)
            label = f"{key} · {len(version.files)} files · {version.size} bytes"
            version_id = store_version(workspace.records, version, now_ms(), label)
            adder.remember_clean(key, version_id)
        except OSError as exc:  # a file unreadable or gone mid-add: one line, packs aborted
            raise file_error(exc, None, "read") from exc
        finally:
            cache.close()
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
