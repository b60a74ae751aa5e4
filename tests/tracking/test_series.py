"""Columnar metric chunks: every point comes back, in order, NaN included."""

from __future__ import annotations

import math

import pytest
import zstandard

from parity.core.errors import StorageError, UsageError
from parity.core.run import Metric
from parity.tracking import series


def test_chunks_round_trip_per_key() -> None:
    points = [Metric("loss", 1.0 / (s + 1), s, 1000 + s) for s in range(500)]
    points += [Metric("acc", None, 3, 7), Metric("acc", math.inf, 1, 8), Metric("acc", -0.5, 2, 9)]
    chunks = series.encode(points)
    assert [(c.key, c.first_step, c.last_step, c.count) for c in chunks] == [
        ("loss", 0, 499, 500),
        ("acc", 1, 3, 3),
    ]
    loss = series.decode("loss", 500, chunks[0].data)
    assert loss == points[:500]
    assert series.series([("acc", 3, chunks[1].data)]) == [
        Metric("acc", math.inf, 1, 8),
        Metric("acc", -0.5, 2, 9),
        Metric("acc", None, 3, 7),
    ]
    assert len(chunks[0].data) < 500 * 24  # compressed: steps and timestamps are regular


def test_a_chunk_from_a_newer_parity_is_refused() -> None:
    data = zstandard.ZstdCompressor().compress(bytes([99]) + bytes(24))
    with pytest.raises(UsageError) as info:
        series.decode("x", 1, data)
    assert info.value.exit_code == 2
    assert str(info.value) == (
        "metric 'x' is stored in chunk format 99, newer than this Parity reads "
        "(upgrade Parity: pip install -U parity-ml)"
    )


@pytest.mark.parametrize(
    ("data", "detail"),
    [
        (b"not zstd at all", "frame header"),
        (zstandard.ZstdCompressor().compress(b""), "no format byte"),
        (zstandard.ZstdCompressor().compress(bytes([1]) + bytes(23)), "23 bytes for 1 points"),
    ],
)
def test_a_damaged_chunk_is_a_storage_error_naming_the_metric(data: bytes, detail: str) -> None:
    with pytest.raises(StorageError, match=f"series of metric 'loss' is corrupt: .*{detail}"):
        series.decode("loss", 1, data)
