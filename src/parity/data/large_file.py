"""Storing one large file: its chunks are cut, deduplicated and copied into packs at once, so the
disk and the page cache work during the chunk pass, not after it.

One object owns each step:

- ``LargeFileChunker`` (chunk): one read-only memory map of the file, cut by FastCDC from its
  start and, from ``hashing.PARALLEL_FROM`` up, from its middle on another thread
  (``hashing.chunk_file``); it refuses a file that changes from open until the last copy.
- ``ChunkDeduper`` (dedup, ``data/dedup.py``): which chunks of each batch a lane stores.
- ``ChunkCopier`` (write): one thread per lane that copies batches of new chunks from the file
  into the lane's pack writer (``data/writers.py``), as deltas against the previous version of
  the file where that is clearly smaller (``data/delta.py``).

``store_large_file`` wires them: the first half's batches go to the add's main lane, the second
half's, as they are cut, to a lane of its own (waiting for the halves to meet left 0.37 s of a
2 GiB add to one copier after the pass). See docs/data.md, "Parallelism where it pays".
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from types import TracebackType

from parity.data import hashing
from parity.data.dedup import ChunkDeduper
from parity.data.delta import DeltaBases, DeltaEncoder
from parity.data.hashing import ChunkedFile, CutChunk, OnChunks, changed_while_reading
from parity.data.packs import EntryCompressor, Placed
from parity.data.scan import ScannedFile, stat_of
from parity.data.writers import Lane, PackLanes
from parity.store.objects import blob

_SAMPLE = 1 << 20  # whether a large file's chunks are worth compressing is judged from this much
# The second half's lane stores its first chunks whole, never as deltas: those cut before the
# halves meet are in no chunk list, so only the chunk index (which holds no deltas) can find
# them again, and a re-read of the same file must store nothing (halves meet within a few
# chunks; in a file where they never do, its later unnamed chunks are stored again).
TAIL_WHOLE = 8


class LargeFileChunker:
    """The chunk step. Chunks are copied out of the file while the chunk pass reads it, so the
    file must not change from ``__enter__`` until ``check_unchanged``, or a copied entry could
    differ from its digest."""

    def __init__(self, file: ScannedFile) -> None:
        self.file = file

    def __enter__(self) -> LargeFileChunker:
        self.fd = os.open(self.file.full, os.O_RDONLY)
        try:
            self._before = stat_of(os.fstat(self.fd))
            self.view = mmap.mmap(self.fd, 0, access=mmap.ACCESS_READ)
        except BaseException:
            os.close(self.fd)
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            self.view.close()
        finally:
            os.close(self.fd)

    def compressible(self) -> bool:
        """Judged once, from the first MiB, like a whole blob (``blob.worth_compressing``)."""
        return blob.worth_compressing(self.view[:_SAMPLE])

    def cut(self, on_head: OnChunks, on_tail: OnChunks | None) -> ChunkedFile:
        """Chunk and hash the file; ``on_head`` gets the first half's batches as they are cut,
        ``on_tail`` (if given) the second half's (``hashing.hash_chunks``)."""
        return hashing.chunk_file(self.file, on_chunks=on_head, view=self.view, on_tail=on_tail)

    def check_unchanged(self, chunked: ChunkedFile) -> None:
        """Refuse the file if it moved since it was opened (call once every copy is done)."""
        if chunked.stat != self._before:
            raise changed_while_reading(self.file.full)
        hashing.check_unchanged(self.file.full, self.fd, self._before)


class ChunkCopier:
    """The write step of one lane for one file: batches of new chunks are copied into the
    lane's writer on a thread of its own, one job a batch (one job a chunk cost more in GIL
    hand-offs than the copy). Incompressible content is read straight into the pack's buffers;
    compressible chunks are compressed one by one and appended."""

    def __init__(
        self,
        lane: Lane,
        chunker: LargeFileChunker,
        compressed: bool,
        name: str,
        bases: DeltaBases | None = None,
        whole_first: int = 0,
    ) -> None:
        self.lane = lane
        self._whole_first = whole_first  # this many stored chunks are never deltas (below)
        self._fd = chunker.fd
        self._view = chunker.view
        self._compressor = EntryCompressor() if compressed else None  # used on the thread only
        self._encoder = (
            None
            if bases is None
            else DeltaEncoder(lane.writer.store, bases, self._compressor)  # on the thread only
        )
        self._thread = ThreadPoolExecutor(1, thread_name_prefix=name)
        self._jobs: list[Future[list[tuple[str, Placed]]]] = []

    def submit(self, chunks: list[CutChunk]) -> None:
        if self._encoder is not None:
            copy = self._copy_delta
        else:
            copy = self._copy_raw if self._compressor is None else self._copy_compressed
        self._jobs.append(self._thread.submit(copy, chunks))

    def wait(self) -> list[tuple[str, Placed]]:
        """Where every chunk submitted went, in order (raises the first copy that failed)."""
        return [pair for job in self._jobs for pair in job.result()]

    def _copy_raw(self, chunks: list[CutChunk]) -> list[tuple[str, Placed]]:
        placed = self.lane.writer.add_file_range(self._fd, [(c.offset, c.size) for c in chunks])
        return [(c.digest, p) for c, p in zip(chunks, placed, strict=True)]

    def _copy_compressed(self, chunks: list[CutChunk]) -> list[tuple[str, Placed]]:
        out = []
        with memoryview(self._view) as whole:
            for chunk in chunks:
                with whole[chunk.offset : chunk.offset + chunk.size] as data:
                    out.append((chunk.digest, self.lane.writer.add(data, self._compressor)))
        return out

    def _copy_delta(self, chunks: list[CutChunk]) -> list[tuple[str, Placed]]:
        encoder = self._encoder
        assert encoder is not None
        out = []
        with memoryview(self._view) as whole:
            for chunk in chunks:
                with whole[chunk.offset : chunk.offset + chunk.size] as data:
                    if self._whole_first > 0:
                        self._whole_first -= 1
                        out.append((chunk.digest, self.lane.writer.add(data, self._compressor)))
                        continue
                    packed, base = encoder.encode(data, chunk.offset)
                    out.append((chunk.digest, self.lane.writer.add_encoded(data, packed, base)))
        return out

    def __enter__(self) -> ChunkCopier:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._thread.shutdown(wait=True)
        if self._encoder is not None:
            self._encoder.close()


@dataclass(frozen=True)
class _HandOver:
    """What the chunk pass calls with each batch one half cut: the deduper picks the chunks
    this lane stores, the copier copies them, and the batch counts as progress."""

    deduper: ChunkDeduper
    copier: ChunkCopier
    progress: Callable[[int], None]

    def __call__(self, chunks: list[CutChunk]) -> None:
        fresh = self.deduper.claim(self.copier.lane, [c.digest for c in chunks])
        new = [chunk for chunk, new in zip(chunks, fresh, strict=True) if new]
        if new:
            self.copier.submit(new)
        self.progress(sum(c.size for c in chunks))


def store_large_file(
    file: ScannedFile,
    deduper: ChunkDeduper,
    lanes: PackLanes,
    compressed: bool,
    progress: Callable[[int], None],
    bases: DeltaBases | None = None,
) -> ChunkedFile:
    """Chunk ``file``, store the chunks ``deduper`` finds new, and return its chunk list.

    ``compressed`` allows compression (it is then still judged from the file's first MiB);
    ``progress`` is called with the size of every batch cut; ``bases``, the previous version of
    the file, allows deltas against it (and finds its delta chunks again, see ``delta``)."""
    head = lanes.main
    tail = lanes.open() if file.size >= hashing.PARALLEL_FROM else None
    if bases is not None:
        deltas = bases.deltas()
        missing = lanes.store.missing({p for c in deltas.values() for p in c.packs})
        deduper.seed({d: c for d, c in deltas.items() if not set(c.packs) & missing})
    # Copiers are shut down (every copy finished) before the map and the file are closed.
    with LargeFileChunker(file) as chunker, ExitStack() as copiers:
        compressed = compressed and chunker.compressible()
        head_copier = copiers.enter_context(
            ChunkCopier(head, chunker, compressed, "parity-store", bases)
        )
        tail_copier = (
            None
            if tail is None
            else copiers.enter_context(
                ChunkCopier(tail, chunker, compressed, "parity-store-tail", bases, TAIL_WHOLE)
            )
        )
        try:
            chunked = chunker.cut(
                _HandOver(deduper, head_copier, progress),
                None if tail_copier is None else _HandOver(deduper, tail_copier, progress),
            )
        finally:
            head_placed = head_copier.wait()
            tail_placed = [] if tail_copier is None else tail_copier.wait()
        chunker.check_unchanged(chunked)
    head.placed.update(head_placed)
    if tail is not None:
        tail.placed.update(tail_placed)
    deduper.file_done()
    return chunked
