"""Packs: many small files and chunks appended into one object, so 20,000 files are one write.

A pack's content is ``b"PPAK" | format (1 byte)`` followed by entries, each the bytes of one
chunk, zstd-compressed when that saves space. The pack is stored in the object store under the
BLAKE3 digest of that content (raw blob codec, so an entry sits at a fixed offset in the local
file), which makes push, pull and fsck treat it as an ordinary object. Where an entry is, how long
it is stored and how long it is live in the data version record; every entry read is checked
against its own digest, so one flipped byte is reported as ``CorruptObject`` naming the chunk.
An entry may be a delta: zstd with another entry's bytes (its base, stored whole) as a raw-content
dictionary (``data/delta.py``); reading it reads the base, and the result is checked against the
chunk's digest (the base's own, only when that fails: to name the damaged entry).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import blake3
import zstandard

from parity.core.errors import CorruptObject, NotFoundError
from parity.data.manifest import Chunk
from parity.data.pack_file import BufferPool, PackFile
from parity.store.objects import blob, scratch
from parity.store.objects.store import ObjectStore, object_key

PACK_MAGIC = b"PPAK"
PACK_FORMAT = 1
PACK_HEADER = PACK_MAGIC + bytes((PACK_FORMAT,))
TARGET_PACK_SIZE = 64 << 20
ZSTD_LEVEL = 3
# Compress an entry only when that saves at least this fraction (decompression costs every read).
MIN_SAVING = blob.MIN_SAVING
MIN_COMPRESSIBLE = 64


# After this many entries in a row did not compress, only every SKIP_EVERY-th is tried (until
# one compresses again): 20,000 incompressible files then cost 20,000 / 16 zstd attempts.
GIVE_UP_AFTER = 16
SKIP_EVERY = 16


class EntryCompressor:
    """The zstd form of an entry when it saves enough, giving up on content that does not
    compress (above). Not thread-safe. One per add, or per large file and writer: whether an
    entry is compressed must depend only on the entries before it in the same add, never on
    what the process compressed earlier, or the same tree would get another version id."""

    def __init__(self) -> None:
        self._zstd = zstandard.ZstdCompressor(level=ZSTD_LEVEL)
        self._misses = 0

    def compress(self, data: bytes | memoryview) -> bytes | None:
        if len(data) < MIN_COMPRESSIBLE:
            return None
        misses = self._misses
        if misses >= GIVE_UP_AFTER and misses % SKIP_EVERY:
            self._misses = misses + 1
            return None
        packed: bytes = self._zstd.compress(data)
        if len(packed) <= len(data) * (1 - MIN_SAVING):
            self._misses = 0
            return packed
        self._misses = misses + 1
        return None


@dataclass(frozen=True)
class Placed:
    """Where ``PackWriter.add`` put an entry; ``slot`` becomes a pack digest on ``close``."""

    slot: int
    offset: int
    stored: int
    size: int
    base: Chunk | None = None  # a delta's base (``packed`` was compressed against it)


class PackWriter:
    """Appends entries into pack files in the store's scratch folder, hashing them as they go,
    and hands finished packs to a background thread that fsyncs and moves them into place.

    A pack's bytes are written around the page cache (see ``pack_file``), so the disk works
    while files are still being read and the final fsync finds nothing left to write. Not
    thread-safe: one thread appends at a time."""

    def __init__(self, store: ObjectStore, target_size: int = TARGET_PACK_SIZE) -> None:
        self.store = store
        self.target_size = target_size
        self._background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="parity-pack")
        self._writes = ThreadPoolExecutor(max_workers=1, thread_name_prefix="parity-pack-write")
        self._pool: BufferPool | None = None
        self._finished: list[Future[str]] = []
        self._handed: list[tuple[int, Path]] = []  # each finished pack's fd and temp file
        self._tmp: Path | None = None
        self._fd = -1
        self._file: PackFile | None = None
        self._hasher = blake3.blake3()
        self._offset = 0
        self.bytes_written = 0
        self.entries = 0

    def add(self, data: bytes | memoryview, compressor: EntryCompressor | None = None) -> Placed:
        """Append one chunk's bytes, compressed by ``compressor`` if given and worth it."""
        return self.add_encoded(data, None if compressor is None else compressor.compress(data))

    def add_encoded(
        self, data: bytes | memoryview, packed: bytes | None, base: Chunk | None = None
    ) -> Placed:
        """Append one chunk, given its compressed form when ``EntryCompressor`` found one, or
        its delta against ``base`` (``delta.DeltaEncoder``)."""
        size = len(data)
        payload = data if packed is None else packed
        (self._file or self._open()).append(payload)
        placed = Placed(len(self._finished), self._offset, len(payload), size, base)
        self._advance(len(payload))
        return placed

    def add_file_range(self, source: int, chunks: Sequence[tuple[int, int]]) -> list[Placed]:
        """Append raw entries for ``(offset, size)`` runs of the open file ``source``: each run
        of adjacent chunks is read straight into the pack's buffers (one ``preadv`` a buffer,
        never through Python objects)."""
        placed: list[Placed] = []
        start = end = -1  # the run of the source file not yet appended
        for offset, size in chunks:
            file = self._file or self._open()
            if offset != end:
                if end > start:
                    file.append_from(source, start, end - start)
                start = end = offset
            placed.append(Placed(len(self._finished), self._offset, size, size))
            end += size
            if self._offset + size >= self.target_size:
                file.append_from(source, start, end - start)
                start = end = -1
            self._advance(size)
        if end > start and self._file is not None:
            self._file.append_from(source, start, end - start)
        return placed

    def _advance(self, stored: int) -> None:
        self._offset += stored
        self.bytes_written += stored
        self.entries += 1
        if self._offset >= self.target_size:
            self._finish()

    def close(self) -> list[str]:
        """Finish the last pack, wait for every pack to be durable; return digests by slot."""
        try:
            if self._file is not None:
                self._finish()
            return [future.result() for future in self._finished]
        finally:
            self._shutdown(cancel=False)

    def abort(self) -> None:
        """Drop the pack being written and those not yet moved into place (packs already moved
        stay: gc finds them)."""
        file, tmp = self._file, self._tmp
        self._file = self._tmp = None
        if file is not None:
            file.abandon()
            os.close(self._fd)
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        self._shutdown(cancel=True)
        for future, (fd, finished) in zip(self._finished, self._handed, strict=True):
            if future.cancelled():  # never ran: its temp file and fd are still ours
                finished.unlink(missing_ok=True)
                os.close(fd)

    def _shutdown(self, cancel: bool) -> None:
        self._writes.shutdown(wait=True, cancel_futures=cancel)
        self._background.shutdown(wait=True, cancel_futures=cancel)
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def _open(self) -> PackFile:
        fd, tmp = scratch.create(self.store.backend.scratch_dir(), ".pack-")
        self._fd, self._tmp = fd, tmp
        if self._pool is None:
            self._pool = BufferPool()
        self._hasher = blake3.blake3()
        file = self._file = PackFile(
            fd, self._pool, self._writes, self._hasher.update, hash_from=blob.HEADER_SIZE
        )
        file.append(blob.header(blob.CODEC_RAW) + PACK_HEADER)
        self._offset = len(PACK_HEADER)
        return file

    def _finish(self) -> None:
        file, tmp = self._file, self._tmp
        assert file is not None
        assert tmp is not None
        self._file = self._tmp = None
        try:
            file.finish()
        except BaseException:
            file.abandon()
            tmp.unlink(missing_ok=True)
            os.close(self._fd)
            raise
        digest = self._hasher.hexdigest()
        # The fd stays open until the pack is in place: its lock keeps sweeps off the file.
        self._handed.append((self._fd, tmp))
        self._finished.append(
            self._background.submit(_store_pack, self.store, self._fd, tmp, digest)
        )


def _check(chunk: Chunk, data: bytes) -> None:
    if blake3.blake3(data).hexdigest() != chunk.digest or len(data) != chunk.size:
        raise CorruptObject(
            chunk.digest, f"its bytes in pack {chunk.pack[:12]} at {chunk.offset} differ"
        )


def _store_pack(store: ObjectStore, fd: int, tmp: Path, digest: str) -> str:
    """Move a finished pack into the store (the backend fsyncs it first: one fsync a pack)."""
    try:
        key = object_key(digest)
        if not store.backend.exists(key):
            store.backend.write_file(key, tmp)
            _drop_cached(store.backend.local_path(key))
        return digest
    finally:
        tmp.unlink(missing_ok=True)
        os.close(fd)


def _drop_cached(path: Path | None) -> None:
    """Hand a durable pack's pages back to the kernel, so the next packs reuse them. This matters
    where packs went through the page cache (no O_DIRECT, or a remote store's copy): adding a
    2 GiB file then holds a few packs there, not 2 GiB of fresh pages (which cost seconds of
    system time to obtain on a VM whose host has reclaimed its free memory)."""
    if path is None or not hasattr(os, "posix_fadvise"):
        return
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


class PackReader:
    """Reads verified entries out of packs: pread on a local store, whole packs otherwise."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store
        self._fds: dict[str, int] = {}
        self._lengths: dict[str, int] = {}  # the content length of each pack in ``_fds``
        self._whole: dict[str, bytes] = {}
        # The last base read (digest, whether checked, as a dictionary): deltas in a row often
        # share one (appended rows).
        self._base: tuple[str, bool, zstandard.ZstdCompressionDict] | None = None

    def read(self, chunk: Chunk) -> bytes:
        if chunk.base is not None:
            return self._undelta(chunk, chunk.base)
        data = self._decoded(chunk)
        _check(chunk, data)
        return data

    def _decoded(self, chunk: Chunk) -> bytes:
        """The bytes of an entry stored whole, not yet checked against its digest."""
        stored = self._stored_bytes(chunk)
        if len(stored) != chunk.stored:
            raise CorruptObject(chunk.digest, f"pack {chunk.pack[:12]} is truncated")
        if not chunk.compressed:
            return stored
        try:
            return blob.decompress_bounded(stored, chunk.size)
        except zstandard.ZstdError as exc:
            raise CorruptObject(
                chunk.digest, f"cannot decompress it from pack {chunk.pack[:12]}: {exc}"
            ) from exc

    def base_dictionary(self, base: Chunk, verified: bool = True) -> zstandard.ZstdCompressionDict:
        """The bytes of ``base`` (a chunk stored whole) as a zstd raw-content dictionary, checked
        against its digest when ``verified`` (writing a delta needs that; reading one checks
        the result instead). The last one is kept: consecutive deltas often share their base."""
        cached = self._base
        if cached is not None and cached[0] == base.digest and (cached[1] or not verified):
            return cached[2]
        if base.base is not None:  # records never nest them (``manifest.chunk_of``)
            raise CorruptObject(base.digest, "a delta's base is a delta itself")
        data = self._decoded(base)
        if verified:
            _check(base, data)
        dictionary = zstandard.ZstdCompressionDict(data, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
        self._base = (base.digest, verified, dictionary)
        return dictionary

    def _undelta(self, chunk: Chunk, base: Chunk) -> bytes:
        """A delta's bytes, checked against the chunk's digest. The base is not hashed on the
        way (~40 µs a chunk): wrong base bytes cannot give the chunk's digest. Only when the
        result is wrong is the base checked, to name the entry that is damaged."""
        stored = self._stored_bytes(chunk)
        if len(stored) != chunk.stored:
            raise CorruptObject(chunk.digest, f"pack {chunk.pack[:12]} is truncated")
        failure = f"its bytes in pack {chunk.pack[:12]} at {chunk.offset} differ"
        data = None
        try:
            data = blob.decompress_bounded(stored, chunk.size, self._base_of(chunk, base, False))
        except zstandard.ZstdError as exc:
            failure = (
                f"cannot decompress it from pack {chunk.pack[:12]} with its base "
                f"{base.digest[:12]}: {exc}"
            )
        if (
            data is not None
            and len(data) == chunk.size
            and blake3.blake3(data).hexdigest() == chunk.digest
        ):
            return data
        self._base_of(chunk, base, True)  # raises when the base is what is damaged
        raise CorruptObject(chunk.digest, failure)

    def _base_of(self, chunk: Chunk, base: Chunk, verified: bool) -> zstandard.ZstdCompressionDict:
        try:
            return self.base_dictionary(base, verified)
        except CorruptObject as exc:
            raise CorruptObject(
                base.digest, f"{exc.detail} (it is the base of chunk {chunk.digest[:12]})"
            ) from exc

    def _stored_bytes(self, chunk: Chunk) -> bytes:
        fd = self._fds.get(chunk.pack)
        if fd is None and chunk.pack not in self._whole:
            local = self.store.backend.local_path(object_key(chunk.pack))
            if local is not None:
                fd = self._open_local(chunk.pack, local)
            else:
                self._whole[chunk.pack] = self.store.get_bytes(chunk.pack)
        length = self._lengths[chunk.pack] if fd is not None else len(self._whole[chunk.pack])
        if chunk.offset + chunk.stored > length:
            # Refused before reading: a damaged record must not make pread allocate what it
            # states (up to 2^48 bytes), nor return a short entry.
            raise CorruptObject(
                chunk.digest,
                f"its entry ({chunk.stored} bytes at {chunk.offset}) runs past the end of pack "
                f"{chunk.pack[:12]} ({length} bytes)",
            )
        if fd is not None:
            return os.pread(fd, chunk.stored, blob.HEADER_SIZE + chunk.offset)
        return self._whole[chunk.pack][chunk.offset : chunk.offset + chunk.stored]

    def _open_local(self, pack: str, path: Path) -> int:
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError as exc:
            raise NotFoundError(
                f"pack {pack} is not in {self.store.url}",
                hint="fetch it with 'parity data pull'",
            ) from exc
        head = os.pread(fd, blob.HEADER_SIZE + len(PACK_HEADER), 0)
        if head != blob.header(blob.CODEC_RAW) + PACK_HEADER:
            os.close(fd)
            raise CorruptObject(pack, "it is not a Parity pack (header damaged)")
        self._fds[pack] = fd
        self._lengths[pack] = os.fstat(fd).st_size - blob.HEADER_SIZE
        return fd

    def close(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()
        self._lengths.clear()
        self._whole.clear()
        self._base = None

    def __enter__(self) -> PackReader:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
