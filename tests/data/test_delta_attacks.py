"""Hostile input against deltas and the packs they live in: damaged records, entries that run
past their pack, zstd frames that expand far beyond what the record says, and deltas kept when
they are not smaller than what they replace. Each is refused with a one-line error naming what is
wrong, before anything large is read or allocated."""

from __future__ import annotations

import contextlib
import os
import random
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import blake3
import pytest
import zstandard

from parity.core.errors import CorruptObject, UsageError
from parity.data.delta import DeltaBases, DeltaEncoder
from parity.data.manifest import Chunk, DataVersion
from parity.data.manifest_body import PreviousBody, build_body
from parity.data.packs import EntryCompressor, PackReader, PackWriter
from parity.store.objects import blob, open_backend
from parity.store.objects.store import ObjectStore

_D = "d" * 64
_P = "e" * 64
_PLAIN: list[Any] = [_D, 0, 0, 10, 10]


def _record(chunk: list[Any], packs: list[Any] | None = None) -> dict[str, Any]:
    file = {"path": "f", "size": 10, "mode": 0o644, "digest": _D, "chunks": [chunk]}
    return {"kind": "file", "packs": [_P] if packs is None else packs, "files": [file]}


@pytest.mark.parametrize(
    "chunk",
    [
        [_D, 0, -1, 10, 10],  # a negative offset
        [_D, 0, 0, -10, 10],  # a negative stored length
        [_D, 0, 0, 10, -10],  # a negative size
        [_D, 0, True, 10, 10],  # a bool is an int to Python
        [_D, False, 0, 10, 10],
        [_D, 0, 0.0, 10, 10],
        [_D, 0, "0", 10, 10],
        [_D, 0, None, 10, 10],
        [_D, 0, 0, 10, 1 << 60],  # absurdly large
        [_D, 0, 1 << 70, 10, 10],
        [_D, 0, 0, 1 << 64, 10],
        [_D, -1, 0, 10, 10],  # a pack number from the end of the list
        [_D, 1, 0, 10, 10],  # a pack the record does not list
        [None, 0, 0, 10, 10],  # no digest
        ["../../x", 0, 0, 10, 10],
        [_D.upper(), 0, 0, 10, 10],
        [_D, 0, 0, 10],  # too few fields
        [],
        "not a row",
        [_D, 0, 0, 10, 10, None],  # a base that is no chunk
        [_D, 0, 0, 10, 10, "base"],
        [_D, 0, 0, 10, 10, []],
        [_D, 0, 0, 10, 10, [_D, 0, -5, 10, 10]],  # a base at a negative offset
        [_D, 0, 0, 10, 10, [_D, 0, 0, 10.0, 10]],
        [_D, 0, 0, 10, 10, [5, 0, 0, 10, 10]],
        [_D, 0, 0, 10, 10, [_D, 7, 0, 10, 10]],
        [_D, 0, 0, 10, 10, [_D, 0, 0, 10, 10, _PLAIN]],  # a chain of two
    ],
)
def test_a_malformed_chunk_record_is_a_damaged_record(chunk: Any) -> None:
    with pytest.raises(UsageError, match="damaged data version record") as info:
        DataVersion.from_dict(_record(chunk))
    assert "\n" not in str(info.value)
    # An add never deltas against such a previous version: it stores the file whole.
    assert DeltaBases.of_entry({"chunks": [chunk]}, [_P]) is None


@pytest.mark.parametrize("pack", ["../../../etc/passwd", "e" * 63, 5, None, _P.upper()])
def test_a_pack_that_is_not_a_digest_is_a_damaged_record(pack: Any) -> None:
    with pytest.raises(UsageError, match="damaged data version record"):
        DataVersion.from_dict(_record(list(_PLAIN), [pack]))


def test_a_sane_chunk_record_still_reads() -> None:
    version = DataVersion.from_dict(_record([_D, 0, 0, 10, 10, list(_PLAIN)]))
    chunk = version.files[0].chunks[0]
    assert chunk.base == Chunk(_D, _P, 0, 10, 10)
    assert DataVersion.from_dict(_record([_D, 0, 5, 0, 0])).files[0].chunks[0].size == 0


# --- packs: entries past the end, and frames that expand beyond the record ----------------------


def _store(tmp_path: Path) -> ObjectStore:
    return ObjectStore(open_backend(str(tmp_path / "objects")))


def _pack(store: ObjectStore, entries: list[bytes]) -> tuple[str, list[int]]:
    """A pack holding ``entries`` as they are (no compression); its digest and their offsets."""
    writer = PackWriter(store)
    offsets = [writer.add_encoded(entry, None).offset for entry in entries]
    return writer.close()[0], offsets


def _remote(store: ObjectStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``store`` look like one without local files (S3, a server): packs are read whole."""
    monkeypatch.setattr(store.backend, "local_path", lambda key: None)


@pytest.mark.parametrize("where", ["local", "remote"])
@pytest.mark.parametrize("stored", [200, 1 << 40])
def test_an_entry_running_past_its_pack_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str, stored: int
) -> None:
    store = _store(tmp_path)
    pack, [offset] = _pack(store, [b"x" * 100])
    if where == "remote":
        _remote(store, monkeypatch)
    # Stated as compressed (stored < size) so nothing but the bound stops a 1 TiB read.
    chunk = Chunk(blake3.blake3(b"x" * 100).hexdigest(), pack, offset, stored, stored + 1)
    with PackReader(store) as reader, pytest.raises(CorruptObject, match="past the end") as info:
        reader.read(chunk)
    assert info.value.digest == chunk.digest
    assert "\n" not in str(info.value)


def test_an_entry_inside_its_pack_still_reads(tmp_path: Path) -> None:
    store = _store(tmp_path)
    pack, [_, second] = _pack(store, [b"a" * 50, b"b" * 70])
    with PackReader(store) as reader:
        chunk = Chunk(blake3.blake3(b"b" * 70).hexdigest(), pack, second, 70, 70)
        assert reader.read(chunk) == b"b" * 70


def _unsized(data: bytes, dictionary: zstandard.ZstdCompressionDict | None = None) -> bytes:
    """A zstd frame whose header does not state its content size (as a streaming writer makes)."""
    compressor = zstandard.ZstdCompressor(write_content_size=False, dict_data=dictionary)
    frame = compressor.compress(data)
    assert zstandard.frame_content_size(frame) == -1
    return frame


def _peak(action: Callable[[], object]) -> int:
    """The most memory Python allocated while ``action`` ran (zstandard's buffers included)."""
    tracemalloc.start()
    try:
        with contextlib.suppress(CorruptObject, zstandard.ZstdError):
            action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_an_unsized_frame_is_decoded_in_pieces_never_into_a_buffer_of_the_limit() -> None:
    frame = _unsized(b"row\n" * 1000)
    assert blob.decompress_bounded(frame, 1 << 30) == b"row\n" * 1000
    # zstandard's one-shot decode of an unsized frame allocates the whole limit up front.
    assert _peak(lambda: blob.decompress_bounded(frame, 256 << 20)) < 8 << 20


def test_an_unsized_bomb_stops_as_soon_as_it_passes_the_limit() -> None:
    bomb = _unsized(bytes(256 << 20))  # 256 MiB of zeros in ~8 KB
    assert len(bomb) < 64 << 10
    with pytest.raises(zstandard.ZstdError, match="more than"):
        blob.decompress_bounded(bomb, 1 << 20)
    assert _peak(lambda: blob.decompress_bounded(bomb, 3 << 20)) < 16 << 20


def test_a_frame_claiming_more_than_the_limit_is_refused_before_decoding() -> None:
    frame = zstandard.ZstdCompressor().compress(bytes(64 << 20))
    with pytest.raises(zstandard.ZstdError, match="claims 67108864 bytes"):
        blob.decompress_bounded(frame, 1 << 20)
    assert _peak(lambda: blob.decompress_bounded(frame, 1 << 20)) < 1 << 20


def test_an_unsized_bomb_in_a_pack_is_corrupt_and_bounded(tmp_path: Path) -> None:
    store = _store(tmp_path)
    bomb = _unsized(bytes(64 << 20))
    pack, [offset] = _pack(store, [bomb])
    chunk = Chunk(_D, pack, offset, len(bomb), 1 << 20)  # the record says 1 MiB
    with PackReader(store) as reader, pytest.raises(CorruptObject, match="more than") as info:
        reader.read(chunk)
    assert info.value.digest == _D
    with PackReader(store) as reader:
        assert _peak(lambda: reader.read(chunk)) < 8 << 20


def test_a_delta_is_decoded_within_the_same_bound(tmp_path: Path) -> None:
    store = _store(tmp_path)
    base_bytes = os.urandom(4096)
    dictionary = zstandard.ZstdCompressionDict(base_bytes, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
    small = _unsized(base_bytes[:1000], dictionary)
    bomb = _unsized(base_bytes * 16_384, dictionary)  # 64 MiB
    pack, [at_base, at_small, at_bomb] = _pack(store, [base_bytes, small, bomb])
    base = Chunk(blake3.blake3(base_bytes).hexdigest(), pack, at_base, 4096, 4096)
    digest = blake3.blake3(base_bytes[:1000]).hexdigest()
    with PackReader(store) as reader:
        assert (
            reader.read(Chunk(digest, pack, at_small, len(small), 1000, base))
            == (base_bytes[:1000])
        )
        # A record stating a huge size makes the bound huge, never the allocation.
        huge = Chunk(digest, pack, at_small, len(small), 1 << 30, base)
        assert _peak(lambda: reader.read(huge)) < 8 << 20
        exploding = Chunk(_D, pack, at_bomb, len(bomb), 1 << 20, base)
        with pytest.raises(CorruptObject, match="more than"):
            reader.read(exploding)
        assert _peak(lambda: reader.read(exploding)) < 8 << 20


# --- the keep shortcut ----------------------------------------------------------------------------


def _text(rng: random.Random, size: int) -> bytes:
    rows = (f"{rng.randint(0, 999)},{rng.choice(['Oslo', 'Lima'])},ok\n" for _ in range(size))
    return "".join(rows).encode()[:size]


@pytest.fixture
def large_base(tmp_path: Path) -> tuple[ObjectStore, DeltaBases]:
    """A previous version of one 64 KiB chunk that zstd halves or better."""
    store = _store(tmp_path)
    data = _text(random.Random(3), 64 << 10)
    writer = PackWriter(store)
    placed = writer.add(data, EntryCompressor())
    [pack] = writer.close()
    assert placed.stored < placed.size // 2
    chunk = Chunk(blake3.blake3(data).hexdigest(), pack, placed.offset, placed.stored, len(data))
    return store, DeltaBases([chunk])


def test_a_small_chunk_is_not_kept_as_a_delta_larger_than_itself(
    large_base: tuple[ObjectStore, DeltaBases],
) -> None:
    store, bases = large_base
    new = os.urandom(2048)  # shares nothing with the base and does not compress
    encoder = DeltaEncoder(store, bases, EntryCompressor())
    try:
        packed, base = encoder.encode(new, 0)
    finally:
        encoder.close()
    # The delta is ~2 KB: far below a quarter of the base's stored entry, but no smaller than
    # the chunk itself, so it is stored raw.
    assert (packed, base) == (None, None)
    assert encoder.kept == 0


def test_a_small_chunk_close_to_its_base_is_still_kept(
    large_base: tuple[ObjectStore, DeltaBases],
) -> None:
    store, bases = large_base
    [whole] = bases.chunks
    with PackReader(store) as reader:
        old = reader.read(whole)
    new = bytearray(old[:4096])
    new[100:110] = b"0123456789"
    encoder = DeltaEncoder(store, bases, EntryCompressor())
    try:
        packed, base = encoder.encode(bytes(new), 0)
    finally:
        encoder.close()
    assert base == whole
    assert packed is not None
    assert len(packed) < 200


# --- an add copying a previous version's entries -------------------------------------------------


@pytest.mark.parametrize(
    "chunk",
    [
        [_D, 0, -1, 10, 10],
        [_D, 0, 0, 10, 1 << 60],
        [_D, 0, 0.5, 10, 10],
        [None, 0, 0, 10, 10],
        [_D, 0, 0, 10, 10, [_D, 0, -5, 10, 10]],
        [_D, 0, 0, 10, 10, [_D, 0, 0, 10, True]],
    ],
)
def test_an_add_never_copies_a_malformed_chunk_into_a_new_record(chunk: list[Any]) -> None:
    body = _record(chunk)
    with pytest.raises(UsageError, match="damaged data version record"):
        build_body("file", PreviousBody(body).by_path.values(), (), [_P])


def test_an_add_never_copies_a_pack_that_is_not_a_digest() -> None:
    with pytest.raises(UsageError, match="damaged data version record"):
        PreviousBody(_record(list(_PLAIN), ["../../x"]))
