"""A file that changes while it is scanned or read is never recorded with a wrong digest."""

from __future__ import annotations

import os
import random
from pathlib import Path

import blake3
import pytest

from parity.core.errors import ConflictError
from parity.data.hashing import chunk_file, read_small
from parity.data.scan import scan, stat_of
from parity.data.statcache import StatCache, cached_digest


def test_a_file_changed_between_scan_and_read_is_read_as_it_is_now(tmp_path: Path) -> None:
    path = tmp_path / "data" / "a.txt"
    path.parent.mkdir()
    path.write_text("before\n")
    scanned = scan(tmp_path / "data").files[0]
    path.write_text("after, and longer\n")  # changes after the scan, before the read
    data, stat = read_small(scanned)
    assert data == b"after, and longer\n"
    assert stat == stat_of(path.stat())
    assert stat != scanned.stat


@pytest.mark.parametrize("size", [1 << 20, 6 << 20])
def test_a_file_that_keeps_changing_is_refused(
    tmp_path: Path, size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process appends to the file during every read (injected at the exact moment)."""
    from parity.data import hashing

    path = tmp_path / "growing.log"
    path.write_bytes(os.urandom(size))
    scanned = scan(path).files[0]
    real_read, real_hash = hashing._read_all, hashing.hash_chunks

    def append() -> None:
        with open(path, "ab") as handle:
            handle.write(b"more\n")

    def read_all(fd: int, expected: int) -> bytes:
        data = real_read(fd, expected)
        append()
        return data

    def hash_chunks(
        name: str,
        average: int = hashing.AVERAGE_CHUNK,
        on_chunks: object = None,
        view: object = None,
        on_tail: object = None,
    ) -> object:
        result = real_hash(name, average, None, view)  # type: ignore[arg-type]
        append()
        return result

    monkeypatch.setattr(hashing, "_read_all", read_all)
    monkeypatch.setattr(hashing, "hash_chunks", hash_chunks)
    with pytest.raises(ConflictError, match="kept changing while it was being read"):
        read_small(scanned) if size < 4 << 20 else chunk_file(scanned)


def test_the_stat_cache_forgets_nothing_it_should_not_trust(tmp_path: Path) -> None:
    cache = StatCache(tmp_path / "stat.db")
    old = (10, 1_000_000_000, 1_000_000_000, 7)
    fresh = (10, 5_000_000_000, 5_000_000_000, 8)
    digest = blake3.blake3(b"x").hexdigest()
    cache.record([("d/old", old, digest), ("d/fresh", fresh, digest)], scan_started_ns=6 * 10**9)
    entries = cache.under("d")
    assert cached_digest(entries, "d/old", old) == digest
    assert cached_digest(entries, "d/old", (11, *old[1:])) is None  # size moved
    assert "d/fresh" not in entries  # modified within the racy window of the scan
    assert cache.under("dx") == {}
    cache.close()


def test_add_refuses_a_large_file_changed_while_its_chunks_are_stored(
    workspace_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from parity.api import data as data_api
    from parity.data import hashing
    from parity.workspace import open_workspace

    path = workspace_dir / "big.bin"
    path.write_bytes(os.urandom(5 << 20))
    real = hashing.hash_chunks

    def hash_then_append(
        name: str,
        average: int,
        on_chunks: object = None,
        view: object = None,
        on_tail: object = None,
    ) -> object:
        result = real(name, average, on_chunks, view, on_tail)  # type: ignore[arg-type]
        with open(path, "ab") as handle:
            handle.write(b"late write")
        return result

    monkeypatch.setattr(hashing, "hash_chunks", hash_then_append)
    workspace = open_workspace(workspace_dir, environ={})
    try:
        with pytest.raises(ConflictError, match="kept changing"):
            data_api.add(path, workspace=workspace)
        assert workspace.meta.record_ids("data") == []
        assert not (workspace_dir / "big.bin.parity").exists()
    finally:
        workspace.close()


@pytest.mark.parametrize("kind", ["random", "zeros", "repeats"])
def test_chunking_from_both_ends_finds_the_single_pass_cuts(
    tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The two halves are spliced where their cuts meet; zeros never meet (every cut is at
    the maximum size from its chunk's start), so the first half runs to the end."""
    from pyfastcdc import FastCDC

    from parity.data import hashing

    monkeypatch.setattr(hashing, "PARALLEL_FROM", 1 << 20)
    rng = random.Random(kind)
    block = rng.randbytes(300_001)
    content = {
        "random": rng.randbytes(3_000_017),
        "zeros": bytes(3_000_017),
        "repeats": block * 7 + bytes(200_003) + block * 3,
    }[kind]
    path = tmp_path / "big.bin"
    path.write_bytes(content)
    batches: list[list[hashing.CutChunk]] = []
    digest, chunks = hashing.hash_chunks(str(path), 16 << 10, batches.append)
    single = [
        (c.offset, c.length, blake3.blake3(c.data).hexdigest())
        for c in FastCDC(16 << 10).cut_file(path)
    ]
    assert [(c.offset, c.size, c.digest) for c in chunks] == single
    assert [c for batch in batches for c in batch] == chunks
    assert digest == blake3.blake3(content).hexdigest()


def test_the_second_halfs_chunks_are_handed_over_whole_and_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``on_tail``, every chunk the second half's thread cut goes there, in order, and
    the first half's go to ``on_chunks`` up to where the halves met; the result is still the
    single pass's."""
    from pyfastcdc import FastCDC

    from parity.data import hashing

    monkeypatch.setattr(hashing, "PARALLEL_FROM", 1 << 20)
    monkeypatch.setattr(hashing, "_BATCH", 8)
    content = random.Random("tail").randbytes(3_000_017)
    path = tmp_path / "big.bin"
    path.write_bytes(content)
    split = len(content) // 2
    heads: list[list[hashing.CutChunk]] = []
    tails: list[list[hashing.CutChunk]] = []
    _, chunks = hashing.hash_chunks(str(path), 16 << 10, heads.append, None, tails.append)
    single = [(c.offset, c.length) for c in FastCDC(16 << 10).cut_file(path)]
    second_half = [(split + c.offset, c.length) for c in FastCDC(16 << 10).cut_buf(content[split:])]
    assert [(c.offset, c.size) for c in chunks] == single
    handed_tail = [(c.offset, c.size) for batch in tails for c in batch]
    assert handed_tail == second_half
    head = [c for batch in heads for c in batch]
    assert head == chunks[: len(head)]
    rest = [(c.offset, c.size) for c in chunks[len(head) :]]
    assert rest
    assert rest == handed_tail[len(handed_tail) - len(rest) :]


@pytest.mark.parametrize("meet", ["never", "early", "late"])
def test_where_the_halves_meet_does_not_change_the_result(
    tmp_path: Path, meet: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whether the halves' cuts never meet (zeros: every cut is the maximum size from its
    chunk's start, and the two starts are not a multiple of it apart), meet at the first
    cuts past the middle (random bytes) or only after a run of zeros that holds the middle,
    the chunks, their digests and the whole-file digest are the single pass's."""
    from pyfastcdc import FastCDC

    from parity.data import hashing

    monkeypatch.setattr(hashing, "PARALLEL_FROM", 1 << 20)
    rng = random.Random(meet)
    zeros_from, zeros_to = 1_400_003, 1_800_012
    content = {
        "never": bytes(3_000_017),
        "early": rng.randbytes(3_000_017),
        "late": rng.randbytes(zeros_from) + bytes(zeros_to - zeros_from) + rng.randbytes(1_400_011),
    }[meet]
    split = len(content) // 2
    average = 16 << 10
    assert meet != "late" or zeros_from < split < zeros_to
    path = tmp_path / "big.bin"
    path.write_bytes(content)
    heads: list[list[hashing.CutChunk]] = []
    tails: list[list[hashing.CutChunk]] = []
    digest, chunks = hashing.hash_chunks(str(path), average, heads.append, None, tails.append)
    single = [
        (c.offset, c.length, blake3.blake3(c.data).hexdigest())
        for c in FastCDC(average).cut_file(path)
    ]
    assert [(c.offset, c.size, c.digest) for c in chunks] == single
    assert digest == blake3.blake3(content).hexdigest()
    head = [c for batch in heads for c in batch]
    assert head == chunks[: len(head)]
    # The first half's thread stops where it meets the second's: its last chunk ends there.
    met = head[-1].offset + head[-1].size
    if meet == "never":
        assert head == chunks  # ran to the end on its own
    elif meet == "early":
        assert split < met <= split + 4 * average
    else:
        assert zeros_to < met < len(content)
    tail = [(c.offset, c.size) for batch in tails for c in batch]
    assert tail == [(split + c.offset, c.length) for c in FastCDC(average).cut_buf(content[split:])]


def test_a_scan_marked_on_the_file_systems_clock_trusts_files_written_just_before(
    tmp_path: Path,
) -> None:
    # git's racily-clean rule with the cache's clock file as the index: a file last written
    # before the mark is trusted however recent; one at or after it never is.
    cache = StatCache(tmp_path / "cache" / "stat.db")
    folder = tmp_path / "data"
    folder.mkdir()
    recent = folder / "recent.csv"
    recent.write_text("a\n")
    second_ago = recent.stat().st_mtime_ns - 1_000_000_000  # within the 2 s wall-clock window
    os.utime(recent, ns=(second_ago, second_ago))
    mark = cache.mark(folder)
    assert mark.window_ns == 0
    after = folder / "after.csv"
    after.write_text("b\n")
    assert after.stat().st_mtime_ns >= mark.started_ns  # any write after the mark shows
    racy = (2, mark.started_ns, mark.started_ns, 9)  # written in the mark's own tick
    digest = blake3.blake3(b"a\n").hexdigest()
    rows = [
        ("d/recent", stat_of(recent.stat()), digest),
        ("d/after", stat_of(after.stat()), digest),
        ("d/racy", racy, digest),
    ]
    cache.record(rows, *mark)
    entries = cache.under("d")
    assert cached_digest(entries, "d/recent", stat_of(recent.stat())) == digest
    assert "d/after" not in entries
    assert "d/racy" not in entries
    cache.close()


def test_the_first_status_after_an_add_reads_no_file(
    workspace_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from parity.api import data as data_api
    from parity.data import status

    folder = workspace_dir / "data"
    folder.mkdir()
    for i in range(20):
        path = folder / f"part-{i}.csv"
        path.write_text(f"{i}\n")
        moment_ago = path.stat().st_mtime_ns - 100_000_000  # written 0.1 s before the add
        os.utime(path, ns=(moment_ago, moment_ago))
    monkeypatch.chdir(workspace_dir)
    data_api.add(folder)

    def no_reading(*args: object, **kwargs: object) -> object:
        raise AssertionError("status read a file the add had just hashed")

    monkeypatch.setattr(status, "file_digest", no_reading)
    (found,) = data_api.status([folder])
    assert found.clean
