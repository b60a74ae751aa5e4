"""Adding a file or folder: scan, reuse what the stat cache and the previous version know, read
and hash the rest, store only chunks no version stored before, and write one manifest.

The steps and their owners: ``scan`` lists the files; ``Adder`` sorts them (reused, known to the
stat cache, small, large) and reads small files in batches; large files go through
``large_file.store_large_file`` (chunk, dedup, write); ``dedup.ChunkDeduper`` decides which chunks
are new; ``writers.PackLanes`` owns the pack writers; ``manifest_body`` builds the record body,
copying the previous version's entries of the files reused unchanged. A large file's new chunks
may be stored as deltas against its previous version's (``delta``).

Order of durability: packs (fsynced) → chunk index → manifest record; the caller then writes the
pointer. A crash at any point leaves at worst unreferenced packs, which gc removes.
"""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import blake3

from parity.data.dedup import ChunkDeduper
from parity.data.delta import DeltaBases
from parity.data.hashing import read_small
from parity.data.large_file import store_large_file
from parity.data.manifest import EXECUTABLE, REGULAR, FileEntry
from parity.data.manifest_body import (
    BuiltVersion,
    PreviousBody,
    build_body,
)
from parity.data.packs import EntryCompressor
from parity.data.progress import Progress, no_progress
from parity.data.scan import ScannedFile, scan
from parity.data.statcache import MTIME, ScanMark, Stat, StatCache, cached_digest, signature
from parity.data.unchanged import Unchanged
from parity.data.writers import PackLanes
from parity.store.objects.store import ObjectStore, object_key

if TYPE_CHECKING:
    from parity.data.index_port import ChunkIndexPort

_BATCH = 1024  # files read per batch, and at most _BATCH_BYTES of them
_BATCH_BYTES = 32 << 20
_LOOKUPS = 2000  # more files left to sort than this: read the folder's whole stat cache


@dataclass
class AddStats:
    files: int = 0
    size: int = 0
    files_read: int = 0
    bytes_read: int = 0
    chunks_new: int = 0
    bytes_stored: int = 0
    packs: list[str] = field(default_factory=list)


@dataclass
class _Plan:
    path: str
    size: int
    mode: int
    digest: str
    chunks: list[str]


def _mode(file: ScannedFile) -> int:
    return EXECUTABLE if file.executable else REGULAR


def _read_batch(
    files: Sequence[ScannedFile], compressor: EntryCompressor | None
) -> list[tuple[bytes, Stat, str, bytes | None]]:
    """Worker: read, hash and try compressing a batch of small files."""
    out = []
    for file in files:
        data, stat = read_small(file)
        packed = None if compressor is None else compressor.compress(data)
        out.append((data, stat, blake3.blake3(data).hexdigest(), packed))
    return out


class Adder:
    def __init__(
        self,
        store: ObjectStore,
        index: ChunkIndexPort,
        cache: StatCache,
        threshold: int,
        progress: Progress = no_progress,
        # Measured on 20,000 files of 1-16 KB: two reader threads took 1.14 s and 1.31 CPU
        # seconds, one thread 0.83 s and 0.82: per-file work is Python holding the GIL (blake3
        # releases it only for large inputs), so threads only add contention. Large files
        # still use more threads (whole-file digest, pack copy), where the work is in C.
        workers: int = 1,
        compress: bool = True,
        within: Path | None = None,  # symlinks must stay inside it (None: follow any)
        # Held from the first chunk-index lookup through the index write, so two adds never
        # both store a chunk neither found in the index (taken only when there is such work).
        exclusive: Callable[[], AbstractContextManager[object]] = contextlib.nullcontext,
        # A large file's new chunks may be deltas against its previous version's (``delta``):
        # a kind of compression, so never without ``compress`` (entries are then raw bytes).
        deltas: bool = True,
    ) -> None:
        self.store = store
        self.index = index
        self.cache = cache
        self.threshold = threshold
        self.progress = progress
        self.workers = workers
        self.compress = compress
        self.within = within
        self.exclusive = exclusive
        self.deltas = deltas and compress
        self._local = store.backend.local_path(object_key("0" * 64)) is not None
        self.stats = AddStats()
        self._previous: PreviousBody | None = None
        self._dedup = ChunkDeduper(index)
        self._plans: dict[str, _Plan] = {}  # by path: the files read, or placed from the index
        self._unchanged: Unchanged | None = None  # the files the scan settled, their entries
        self._cache_rows: list[tuple[str, Stat, str]] = []
        # Each file's stat as the add read it (or trusted the cache for it; the files the
        # scan settled are in ``_unchanged``), and the scan's mark: what ``remember_clean``
        # vouches for once the version is stored.
        self._stats: dict[str, Stat] = {}
        self._kind = ""
        self._mark: ScanMark | None = None
        self._done = 0
        self._total = 0

    def add(self, target: Path, key: str, previous: PreviousBody | None) -> BuiltVersion:
        """Build the data version of ``target``; ``key`` names it in the stat cache."""
        with collector_paused():
            return self._add(target, key, previous)

    def _add(self, target: Path, key: str, previous: PreviousBody | None) -> BuiltVersion:
        started = time.time_ns()
        self._previous = previous
        mark = self._mark = self.cache.mark(target)
        unchanged = self._unchanged = (
            None if previous is None else Unchanged(self.cache, key, previous)
        )
        found = scan(target, self.within, None if unchanged is None else unchanged.hook())
        self._kind = found.kind

        def cache_key(file: ScannedFile) -> str:
            return key if found.kind == "file" else f"{key}/{file.path}"

        guessed, small, large = self._sort(found.files, key, cache_key)
        # An unchanged tree (every file reused from the previous version) asks the index
        # nothing and stores nothing: it never waits for another add.
        needs_index = bool(guessed or small or large)
        with self.exclusive() if needs_index else contextlib.nullcontext():
            small.extend(self._place_guessed(guessed))
            self._total = sum(f.size for f in small) + sum(f.size for f in large)
            lanes = PackLanes(self.store)
            try:
                self._add_small(small, lanes, cache_key)
                for file in large:
                    self._add_large(file, lanes, cache_key(file))
                new_chunks, packs = lanes.close()
            except BaseException:
                lanes.abort()
                raise
            if new_chunks:
                # The index has no field for a delta's base: only chunks stored whole go in.
                whole = [c for c in new_chunks if c.base is None]
                self.index.add(whole, packs, started // 1_000_000)
        self.cache.record(self._cache_rows, *mark)
        self.stats.packs = packs
        self.stats.chunks_new = len(new_chunks)
        where = self._dedup.located | {c.digest: c for c in new_chunks}
        copied = unchanged.copied if unchanged is not None else {}
        made = {
            p.path: FileEntry(p.path, p.size, p.mode, p.digest, tuple(where[d] for d in p.chunks))
            for p in self._plans.values()
        }
        # Every file is copied or made; listed by path, as records are.
        files = [copied.get(path) or made[path] for path in sorted([*copied, *made])]
        built = build_body(
            found.kind, files, found.empty_folders, previous.packs if previous else ()
        )
        self.stats.files = built.files
        self.stats.size = built.size
        return built

    def _sort(
        self,
        found: list[ScannedFile],
        key: str,
        cache_key: Callable[[ScannedFile], str],
    ) -> tuple[list[tuple[ScannedFile, str]], list[ScannedFile], list[ScannedFile]]:
        """Sort the files the scan did not settle: the small files the stat cache knows the
        digest of (to look up in the index), and the small and large files left to read.
        Asks the index nothing."""
        unchanged = self._unchanged
        cached = unchanged.entries if unchanged is not None else None
        if cached is None:
            # A few files left (most settled from the clean tree): look up just those.
            few = len(found) <= _LOOKUPS
            cached = self.cache.entries(map(cache_key, found)) if few else self.cache.under(key)
        small: list[ScannedFile] = []
        large: list[ScannedFile] = []
        guessed: list[tuple[ScannedFile, str]] = []
        for file in found:
            digest = cached_digest(cached, cache_key(file), file.stat)
            if digest is not None:
                if unchanged is not None and unchanged.take(file, digest):
                    continue
                if file.size < self.threshold:
                    guessed.append((file, digest))
                    continue
            (small if file.size < self.threshold else large).append(file)
        return guessed, small, large

    def _place_guessed(self, guessed: list[tuple[ScannedFile, str]]) -> list[ScannedFile]:
        """Plan the files the stat cache vouches for that the store holds; return the rest."""
        if not guessed:
            return []
        unread: list[ScannedFile] = []
        located = self._dedup.locate(d for _, d in guessed if d != _EMPTY)
        for file, digest in guessed:
            if file.size and digest not in located:
                unread.append(file)  # the cache knows it, the store no longer does
                continue
            chunks = [digest] if file.size else []
            self._stats[file.path] = file.stat
            self._plans[file.path] = _Plan(file.path, file.size, _mode(file), digest, chunks)
        return unread

    def remember_clean(self, key: str, version_id: str) -> None:
        """Record in the stat cache that the folder just added holds exactly ``version_id``, so
        the first ``data status`` after the add confirms it like later ones, without reading
        the version's record (a file too recent to trust, and it is not recorded)."""
        if self._kind != "folder" or self._mark is None:
            return
        limit = self._mark.started_ns - self._mark.window_ns
        if any(stat[MTIME] >= limit for stat in self._stats.values()):
            return  # a file too recent to trust: the next status reads it
        # The settled files' signatures were in the cache already, so none of them is recent.
        settled = self._unchanged.signatures if self._unchanged is not None else {}
        names = settled | {path: signature(stat) for path, stat in self._stats.items()}
        self.cache.remember_signatures(key, version_id, names)

    def _batches(
        self, files: list[ScannedFile]
    ) -> Iterator[tuple[Sequence[ScannedFile], list[tuple[bytes, Stat, str, bytes | None]]]]:
        batches: list[list[ScannedFile]] = []
        size = 0
        for file in files:
            if not batches or size + file.size > _BATCH_BYTES or len(batches[-1]) >= _BATCH:
                batches.append([])
                size = 0
            batches[-1].append(file)
            size += file.size
        if self.workers <= 1 or len(batches) <= 1:
            compressor = EntryCompressor() if self.compress else None  # one for the add
            for batch in batches:
                yield batch, _read_batch(batch, compressor)
            return
        # Batches run on any thread, in any order: one compressor each keeps what is
        # compressed independent of that.
        compressors = [EntryCompressor() if self.compress else None for _ in batches]
        with ThreadPoolExecutor(self.workers, thread_name_prefix="parity-read") as pool:
            results = pool.map(_read_batch, batches, compressors)
            yield from zip(batches, results, strict=True)

    def _add_small(
        self, files: list[ScannedFile], lanes: PackLanes, cache_key: Callable[[ScannedFile], str]
    ) -> None:
        """Small files are stored whole, by the main lane, as one entry each."""
        lane = lanes.main
        for batch, results in self._batches(files):
            fresh = iter(self._dedup.claim(lane, [d for data, _, d, _ in results if data]))
            for file, (data, stat, digest, packed) in zip(batch, results, strict=True):
                if data and next(fresh):
                    lane.placed[digest] = lane.writer.add_encoded(data, packed)
                self._plans[file.path] = _Plan(
                    file.path, len(data), _mode(file), digest, [digest] if data else []
                )
                self._cache_rows.append((cache_key(file), stat, digest))
                self._stats[file.path] = stat
                self.stats.files_read += 1
                self.stats.bytes_read += len(data)
                self._done += len(data)
            self.stats.bytes_stored = lanes.bytes_written
            self.progress(self._done, self._total)
        self._dedup.file_done()

    def _add_large(self, file: ScannedFile, lanes: PackLanes, key: str) -> None:
        if file.size == 0:
            self._add_small([file], lanes, lambda _: key)
            return
        chunked = store_large_file(
            file, self._dedup, lanes, self.compress, self._advance, self._bases(file)
        )
        digests = [c.digest for c in chunked.chunks]
        self._plans[file.path] = _Plan(
            file.path, chunked.size, _mode(file), chunked.digest, digests
        )
        self._cache_rows.append((key, chunked.stat, chunked.digest))
        self._stats[file.path] = chunked.stat
        self.stats.files_read += 1
        self.stats.bytes_read += chunked.size
        self.stats.bytes_stored = lanes.bytes_written

    def _bases(self, file: ScannedFile) -> DeltaBases | None:
        """The previous version of ``file`` (same path; a single file may have been renamed),
        as bases for deltas; None when deltas are off or there is none. Only a local store
        gets deltas: elsewhere reading the bases would fetch every pack of the previous
        version (``PackReader`` reads a remote pack whole)."""
        previous = self._previous
        if not self.deltas or previous is None or not self._local:
            return None
        entry = previous.by_path.get(file.path)
        if entry is None and self._kind == "file" and len(previous.by_path) == 1:
            entry = next(iter(previous.by_path.values()))
        return None if entry is None else DeltaBases.of_entry(entry, previous.packs)

    def _advance(self, size: int) -> None:
        self._done += size
        self.progress(min(self._done, self._total), self._total)


_EMPTY = blake3.blake3().hexdigest()


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector while an add builds its many small, acyclic records:
    with it on, a 2 GiB file's 32,000 chunks cost ~0.1 CPU second of collections, on the
    thread that also cuts chunks."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
