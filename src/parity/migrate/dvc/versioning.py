"""Versioning a staged DVC output with Parity's own machinery: the ``data add`` adder (BLAKE3,
FastCDC chunks, the chunk index's dedup), the data version record, and its pointer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from parity.core.ids import digest_bytes
from parity.data.adding import Adder
from parity.data.pointer import Pointer
from parity.data.progress import Progress, no_progress
from parity.data.statcache import StatCache
from parity.data.versions import store_version
from parity.store.records import RecordStore

if TYPE_CHECKING:
    from parity.data.index_port import ChunkIndexPort


@dataclass(frozen=True)
class Versioning:
    """What versioning needs of the workspace (the API layer builds it)."""

    records: RecordStore
    index: ChunkIndexPort
    chunk_threshold: int
    compress: bool
    clock: Callable[[], int]


def version_staged(
    versioning: Versioning,
    staged: Path,
    key: str,
    cache_file: Path,
    progress: Progress = no_progress,
) -> tuple[Pointer, bool]:
    """Store the file or folder at ``staged`` as a data version; its pointer, and whether the
    version is new to this workspace (False: an earlier import or add stored the same)."""
    records = versioning.records
    # A stat cache of its own (``cache_file``, thrown away after the import): the workspace's
    # describes the work tree, not staged copies.
    cache = StatCache(cache_file)
    try:
        adder = Adder(
            records.objects,
            versioning.index,
            cache,
            versioning.chunk_threshold,
            progress,
            compress=versioning.compress,
            within=staged.parent,
            # Two adds at once would each miss the chunks the other is storing.
            exclusive=lambda: records.meta.exclusive("data-add"),
        )
        version = adder.add(staged, key, None)
    finally:
        cache.close()
    new = records.meta.record_kind(digest_bytes(version.record_bytes())) is None
    label = f"{key} · {version.files} files · {version.size} bytes"
    version_id = store_version(records.objects, records.meta, version, versioning.clock(), label)
    return Pointer(version_id, version.size, version.files, version.kind), new
