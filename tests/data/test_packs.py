"""Packs: raw file ranges read into aligned buffers read back byte for byte, across pack ends,
written with O_DIRECT or, where that is refused, through the page cache."""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path

import blake3
import pytest

from parity.data import pack_file
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
        writer.add(b"a small entry first")
        placed = writer.add_file_range(fd, ranges)
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


def _takes_o_direct(folder: Path) -> bool:
    """Whether this file system lets a file be written with O_DIRECT (ext4 does, tmpfs not)."""
    probe = folder / "o-direct-probe"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_DIRECT)
    except OSError:
        return False
    os.close(fd)
    probe.unlink()
    return True


def test_adjacent_and_scattered_ranges_read_back_exactly(tmp_path: Path) -> None:
    # Adjacent runs (copied as one), a gap, a range out of order, one crossing a pack's end.
    ranges = [(0, 30_000), (30_000, 30_000), (70_000, 40_000), (10_000, 5_000), (110_000, 90_000)]
    _write_ranges(tmp_path, ranges)


def test_packs_go_through_the_page_cache_where_o_direct_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pack_file, "_enable_direct", lambda _fd: False)
    _write_ranges(tmp_path, [(0, 100_000), (100_000, 100_000)])


def test_o_direct_refused_at_the_first_write_falls_back_to_the_page_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Some file systems accept O_DIRECT when it is set and refuse the writes (EINVAL).
    refused: list[int] = []
    real_pwrite = os.pwrite

    def pwrite(fd: int, data: memoryview, offset: int) -> int:
        if os.O_DIRECT & fcntl.fcntl(fd, fcntl.F_GETFL):
            refused.append(fd)
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_pwrite(fd, data, offset)

    monkeypatch.setattr(os, "pwrite", pwrite)
    _write_ranges(tmp_path, [(0, 100_000), (100_000, 100_000)])
    # Where O_DIRECT is taken, it was tried, refused, and the packs still read back.
    assert bool(refused) == _takes_o_direct(tmp_path)


def test_pack_file_is_aligned_for_o_direct_and_cut_to_its_exact_size(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    path = tmp_path / "pack"
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    hashed = blake3.blake3()
    pool = pack_file.BufferPool(count=2, size=64 << 10)  # small buffers: many full ones
    content = os.urandom(300_001)
    source = tmp_path / "source.bin"
    source.write_bytes(content)
    src = os.open(source, os.O_RDONLY)
    try:
        with ThreadPoolExecutor(1) as writes:
            file = pack_file.PackFile(fd, pool, writes, hashed.update, hash_from=3)
            assert file.direct == _takes_o_direct(tmp_path)
            file.append(b"abcdef")
            file.append_from(src, 1, 200_000)
            file.append(content[200_001:])
            file.finish()
    finally:
        os.close(src)
        os.close(fd)
        pool.close()
    expected = b"abcdef" + content[1:]
    assert path.read_bytes() == expected
    assert hashed.hexdigest() == blake3.blake3(expected[3:]).hexdigest()


def test_a_source_that_ends_early_is_a_conflict_not_a_short_entry(tmp_path: Path) -> None:
    from parity.core.errors import ConflictError

    source = tmp_path / "source.bin"
    source.write_bytes(os.urandom(100_000))
    writer = PackWriter(ObjectStore(open_backend(str(tmp_path / "objects"))))
    fd = os.open(source, os.O_RDONLY)
    try:
        # As if the file had been cut to 100 KB after its chunks were found.
        with pytest.raises(ConflictError, match="shrank while it was being stored"):
            writer.add_file_range(fd, [(0, 150_000)])
    finally:
        os.close(fd)
        writer.abort()
    assert not list((tmp_path / "objects").rglob(".pack-*"))


def test_a_full_disk_is_a_storage_error_and_leaves_no_pack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from parity.core.errors import StorageError

    def full(*_args: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "pwrite", full)
    writer = PackWriter(ObjectStore(open_backend(str(tmp_path / "objects"))))
    try:
        with pytest.raises(StorageError, match="No space left on device") as raised:
            writer.add(os.urandom(100_000))
            writer.close()
    finally:
        writer.abort()
    assert "free some disk space" in str(raised.value)
    assert raised.value.exit_code == 5
    assert not list((tmp_path / "objects").rglob(".pack-*"))
