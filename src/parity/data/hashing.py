"""Reading files for a data version: whole small files, FastCDC chunks of large ones, BLAKE3
digests of both, and the guarantee that a file changed while it was read is never recorded.

Every read is bracketed by the stat taken before (by the scan) and an ``fstat`` after: if size,
mtime, ctime or inode moved, the file is read again (a few times), then refused.
"""

from __future__ import annotations

import mmap
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import blake3

from parity.core.errors import ConflictError
from parity.data.scan import ScannedFile, stat_of
from parity.data.statcache import SIZE, Stat

CHUNK_THRESHOLD = 4 << 20  # files at least this large are chunked: `[data] chunk_threshold`
AVERAGE_CHUNK = 64 << 10
ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class CutChunk:
    offset: int
    size: int
    digest: str


@dataclass(frozen=True)
class ChunkedFile:
    digest: str
    size: int
    stat: Stat
    chunks: list[CutChunk]


def changed_while_reading(path: str) -> ConflictError:
    return ConflictError(
        f"{path} kept changing while it was being read",
        hint="wait until whatever writes it has finished, then run the command again",
    )


def read_small(file: ScannedFile) -> tuple[bytes, Stat]:
    """The content of a small file and the stat it had while read (retrying if it moved).

    A file changed between the scan and the read is fine: its new content and stat are taken.
    """
    before: Stat | None = file.stat  # the scan's stat: unchanged since then is the usual case
    for _ in range(ATTEMPTS):
        fd = os.open(file.full, os.O_RDONLY)
        try:
            if before is None:
                before = stat_of(os.fstat(fd))
            data = _read_all(fd, before[SIZE])
            after = stat_of(os.fstat(fd))
        finally:
            os.close(fd)
        if before == after and len(data) == after[SIZE]:
            return data, after
        before = None
    raise changed_while_reading(file.full)


def _read_all(fd: int, size: int) -> bytes:
    data = os.read(fd, size + 1)  # one byte more, to see a file that grew
    if len(data) <= size:
        return data
    parts = [data]
    while block := os.read(fd, 1 << 20):
        parts.append(block)
    return b"".join(parts)


OnChunks = Callable[[list[CutChunk]], None]
_BATCH = 256
PARALLEL_FROM = 64 << 20  # files this large are chunked from both ends at once


def hash_chunks(
    path: str,
    average: int = AVERAGE_CHUNK,
    on_chunks: OnChunks | None = None,
    view: mmap.mmap | None = None,
    on_tail: OnChunks | None = None,
) -> tuple[str, list[CutChunk]]:
    """FastCDC chunks of a file with their BLAKE3 digests, and the digest of the whole file.

    The whole-file digest is computed in a second thread (blake3 releases the GIL), so the
    chunk pass runs at the speed of a bare chunk-and-hash loop when a core is free. Both
    threads read one memory map (``view``, the caller's, or one opened here): a page faulted
    in by one is mapped for the other, where two mappings would each pay for it.
    ``on_chunks`` is handed every batch of chunks as soon as they are cut (add stores them
    while the pass goes on). With ``on_tail``, a file chunked from both ends hands the chunks
    its second half's thread cut to ``on_tail`` instead, all of them and in order, while the
    pass goes on; ``on_chunks`` then gets the first half's up to where the halves met. The
    second half's first few chunks (before that point) are then not in the result.
    """
    if view is None:
        with open(path, "rb") as handle:
            if os.fstat(handle.fileno()).st_size == 0:
                return blake3.blake3().hexdigest(), []
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as own:
                return _hash_view(own, average, on_chunks, on_tail)
    return _hash_view(view, average, on_chunks, on_tail)


def _hash_view(
    view: mmap.mmap, average: int, on_chunks: OnChunks | None, on_tail: OnChunks | None = None
) -> tuple[str, list[CutChunk]]:
    """Chunk ``view`` from its start on this thread and from its middle on another, then
    splice: FastCDC's next cut depends only on where the current chunk starts, so once a cut
    of the first half lands on a cut of the second, every later cut is the same as a single
    pass would find. The result is exactly the single pass's (if the cuts never meet, this
    thread simply goes on to the end); the two halves run at once where a core is free."""
    from pyfastcdc import FastCDC  # lazy: the chunker loads only when a large file is cut

    whole: dict[str, str] = {}

    def digest_whole() -> None:
        whole["digest"] = blake3.blake3().update(memoryview(view)).hexdigest()

    helper = threading.Thread(target=digest_whole, name="parity-file-digest")
    helper.start()
    size = len(view)
    split = size // 2 if size >= PARALLEL_FROM else size
    tail: list[CutChunk] = []
    failed: list[BaseException] = []

    def cut_tail() -> None:
        try:
            for chunk in FastCDC(average).cut_buf(memoryview(view)[split:]):
                digest = blake3.blake3(chunk.data).hexdigest()
                tail.append(CutChunk(split + chunk.offset, chunk.length, digest))
        except BaseException as exc:  # handed to the caller's thread below
            failed.append(exc)

    second = threading.Thread(target=cut_tail, name="parity-chunk-tail") if split < size else None
    if second is not None:
        second.start()
    chunks: list[CutChunk] = []
    emitted = 0
    own = -1  # with on_tail: how many of ``chunks`` this thread cut (the rest are the tail's)
    tail_sent = 0

    def emit(final: bool) -> None:
        nonlocal emitted
        mine = len(chunks) if own < 0 else own
        while on_chunks is not None and (mine - emitted >= _BATCH or (final and emitted < mine)):
            batch = chunks[emitted : min(emitted + _BATCH, mine)]
            emitted += len(batch)
            on_chunks(batch)

    def send_tail(final: bool) -> None:
        # ``tail`` only grows (on the tail thread): a slice of what is there is safe to take.
        nonlocal tail_sent
        while on_tail is not None and (
            len(tail) - tail_sent >= _BATCH or (final and tail_sent < len(tail))
        ):
            batch = tail[tail_sent : tail_sent + _BATCH]
            tail_sent += len(batch)
            on_tail(batch)

    cuts = FastCDC(average).cut_buf(memoryview(view))
    starts: dict[int, int] | None = None
    try:
        for chunk in cuts:
            chunks.append(
                CutChunk(chunk.offset, chunk.length, blake3.blake3(chunk.data).hexdigest())
            )
            end = chunk.offset + chunk.length
            if second is not None and end >= split:
                if starts is None:
                    second.join()
                    if failed:
                        raise failed[0]
                    starts = {c.offset: index for index, c in enumerate(tail)}
                at = starts.get(end)
                if at is not None:
                    if on_tail is not None:
                        own = len(chunks)
                    chunks.extend(tail[at:])
                    break
            emit(False)
            send_tail(False)
        emit(True)
        if second is not None:
            second.join()
            if failed:
                raise failed[0]
        send_tail(True)
    finally:
        if second is not None:
            second.join()
        helper.join()
    return whole["digest"], chunks


def chunk_file(
    file: ScannedFile,
    average: int = AVERAGE_CHUNK,
    on_chunks: OnChunks | None = None,
    view: mmap.mmap | None = None,
    on_tail: OnChunks | None = None,
) -> ChunkedFile:
    """Chunk and hash a large file (through ``view`` if given, a memory map of it), refusing
    a file that changes while it is read."""
    for _ in range(ATTEMPTS):
        before = stat_of(Path(file.full).stat())
        if before[SIZE] == 0:
            return ChunkedFile(blake3.blake3().hexdigest(), 0, before, [])
        digest, chunks = hash_chunks(file.full, average, on_chunks, view, on_tail)
        after = stat_of(Path(file.full).stat())
        if before == after and sum(c.size for c in chunks) == after[SIZE]:
            return ChunkedFile(digest, after[SIZE], after, chunks)
    raise changed_while_reading(file.full)


def check_unchanged(path: str, fd: int, expected: Stat) -> None:
    """Refuse a file whose stat moved since it was hashed (called after copying its chunks)."""
    if stat_of(os.fstat(fd)) != expected:
        raise changed_while_reading(path)
