"""Packs: raw file ranges copied by the kernel read back byte for byte, across pack ends."""

from __future__ import annotations

import mmap
import os
from pathlib import Path

import blake3
import pytest

from parity.data.manifest import Chunk
from parity.data.packs import PackReader, PackWriter
from parity.store.objects import open_backend
from parity.store.objects.store import ObjectStore


def _write_ranges(tmp_path: Path, ranges: list[tuple[int, int]]) -> tuple[bytes, list[Chunk]]:
    content = os.urandom(200_000)
    source = tmp_path / "source.bin"
    source.write_bytes(content)
    store = ObjectStore(open_backend(str(tmp_path / "objects")))
    # A pack target of 50 KB: the 200 KB of ranges must spread over several packs.
    writer = PackWriter(store, target_size=50_000)
    fd = os.open(source, os.O_RDONLY)
    try:
        with mmap.mmap(fd, 0, access=mmap.ACCESS_READ) as view:
            writer.add(b"a small entry first")
            placed = writer.add_file_range(fd, view, ranges)
            writer.add(b"and one after")
        packs = writer.close()
    finally:
        os.close(fd)
    chunks = [
        Chunk(blake3.blake3(content[o : o + n]).hexdigest(), packs[p.slot], p.offset, p.stored, n)
        for (o, n), p in zip(ranges, placed, strict=True)
    ]
    assert all(p.stored == p.size for p in placed)  # raw entries
    assert len(set(packs)) >= 3
    with PackReader(store) as reader:
        for chunk, (offset, size) in zip(chunks, ranges, strict=True):
            assert reader.read(chunk) == content[offset : offset + size]
    return content, chunks


def test_adjacent_and_scattered_ranges_read_back_exactly(tmp_path: Path) -> None:
    # Adjacent runs (copied as one), a gap, a range out of order, one crossing a pack's end.
    ranges = [(0, 30_000), (30_000, 30_000), (70_000, 40_000), (10_000, 5_000), (110_000, 90_000)]
    _write_ranges(tmp_path, ranges)


def test_ranges_are_copied_in_user_space_where_the_kernel_cannot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unsupported(*_args: object) -> int:
        raise OSError(38, "copy_file_range is not supported here")

    monkeypatch.setattr(os, "copy_file_range", unsupported)
    _write_ranges(tmp_path, [(0, 100_000), (100_000, 100_000)])


def test_a_source_that_ends_early_is_a_conflict_not_a_short_entry(tmp_path: Path) -> None:
    from parity.core.errors import ConflictError

    source = tmp_path / "source.bin"
    source.write_bytes(os.urandom(100_000))
    writer = PackWriter(ObjectStore(open_backend(str(tmp_path / "objects"))))
    fd = os.open(source, os.O_RDONLY)
    try:
        # As if the file had been cut to 100 KB after its chunks were found.
        with (
            mmap.mmap(fd, 0, access=mmap.ACCESS_READ) as view,
            pytest.raises(ConflictError, match="shrank while it was being stored"),
        ):
            writer.add_file_range(fd, view, [(0, 150_000)])
    finally:
        os.close(fd)
        writer.abort()
    assert not list((tmp_path / "objects").rglob(".pack-*"))
