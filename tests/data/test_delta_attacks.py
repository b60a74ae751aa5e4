"""Hostile chunk records: each is refused as a damaged record before anything is read."""

from __future__ import annotations

import random
import tracemalloc
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import pytest
import zstandard

from parity.core.errors import CorruptObject, UsageError
from parity.data.delta import DeltaBases, DeltaEncoder
from parity.data.manifest import Chunk, DataVersion
from parity.data.packs import PackReader
from parity.data.versions import load_version
from parity.store.objects import ObjectStore, blob
from tests.data.test_delta_storage import _add_versions, _deltas, _workspace

_D = "d" * 64
_PLAIN: list[Any] = [_D, 0, 0, 10, 10]


def _record(chunk: list[Any]) -> dict[str, Any]:
    file = {"path": "f", "size": 10, "mode": 0o644, "digest": _D, "chunks": [chunk]}
    return {"kind": "file", "packs": ["p" * 64], "files": [file]}


@pytest.mark.parametrize(
    "chunk",
    [
        [_D, 0, -1, 10, 10],  # a negative offset
        [_D, 0, 0, -10, 10],
        [_D, 0, 0, 10, -10],
        [_D, 0, True, 10, 10],  # a bool is an int to Python
        [_D, 0, 0.5, 10, 10],
        [_D, 0, "0", 10, 10],
        [_D, 0, 0, 10, 1 << 60],  # absurd
        [_D, 0, 1 << 70, 10, 10],
        [None, 0, 0, 10, 10],
        [_D, 0, 0, 10, 10, [_D, 0, -5, 10, 10]],  # a base with a negative offset
        [_D, 0, 0, 10, 10, [_D, 0, 0, 10.0, 10]],
        [_D, 0, 0, 10, 10, [5, 0, 0, 10, 10]],
        [_D, 0, 0, 10, 10, [_D, 0, 0, 10, 10, _PLAIN]],  # a chain of two
        [_D, 0, 0, 10, 10, [_D, 3, 0, 10, 10]],  # a pack the record does not list
    ],
)
def test_a_malformed_chunk_record_is_a_damaged_record(chunk: list[Any]) -> None:
    with pytest.raises(UsageError, match="damaged data version record"):
        DataVersion.from_dict(_record(chunk))


def test_a_sane_chunk_record_still_reads() -> None:
    version = DataVersion.from_dict(_record([_D, 0, 0, 10, 10, list(_PLAIN)]))
    assert version.files[0].chunks[0].base is not None


def test_an_entry_running_past_the_packs_end_is_refused_before_reading(tmp_path: Path) -> None:
    workspace = _workspace(tmp_path / "w")
    try:
        _, ids = _add_versions(workspace, 2)
        delta = _deltas(load_version(workspace.objects, ids[1]))[0]
        assert delta.base is not None
        # A record may state up to 2**48 - 1: reading that much would first allocate it.
        for hostile in (
            replace(delta, stored=(1 << 46) + 1),
            replace(delta, base=replace(delta.base, stored=(1 << 46) + 1)),
            replace(delta, offset=(1 << 47)),
        ):
            with PackReader(workspace.objects) as reader, pytest.raises(CorruptObject) as info:
                reader.read(hostile)
            assert "runs past the end of pack" in str(info.value)
    finally:
        workspace.close()


def test_a_frame_without_a_stated_size_is_decoded_in_pieces_and_stopped() -> None:
    unsized = zstandard.ZstdCompressor(write_content_size=False).compress(b"\0" * (8 << 20))
    assert zstandard.frame_content_size(unsized) == -1
    tracemalloc.start()
    try:
        # A hostile record states a 64 TiB chunk: nothing near that may be allocated.
        with pytest.raises(zstandard.ZstdError):
            blob.decompress_bounded(unsized, 4 << 20)
        assert blob.decompress_bounded(unsized, 1 << 46) == b"\0" * (8 << 20)
        assert tracemalloc.get_traced_memory()[1] < 64 << 20
    finally:
        tracemalloc.stop()


def test_a_small_chunk_against_a_large_base_keeps_no_delta_larger_than_itself() -> None:
    rng = random.Random(3)
    base_bytes = rng.randbytes(1 << 20)
    base = Chunk("b" * 64, "p" * 64, 0, len(base_bytes), len(base_bytes))  # stored raw
    encoder = DeltaEncoder(cast(ObjectStore, None), DeltaBases([base]), None)
    dictionary = zstandard.ZstdCompressionDict(base_bytes, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
    encoder._reader.base_dictionary = lambda *_args: dictionary  # type: ignore[method-assign]
    chunk = rng.randbytes(4096)  # shares nothing with the base: the delta is bigger than raw
    stored, kept_base = encoder.encode(chunk, 0)
    assert kept_base is None
    assert stored is None  # raw, as without deltas
