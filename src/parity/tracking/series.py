"""Metric series stored in columnar chunks: one row per (batch, key), not one row per point.

A batch of points for one key becomes three packed arrays (steps, timestamps, values; NaN where
the value is None), zstd-compressed into one blob. Writing 100,000 points is then a handful of
rows instead of 100,000 index updates; reading a series decodes its chunks in order.
"""

from __future__ import annotations

import itertools
import math
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import zstandard

from parity.core.errors import StorageError, UsageError
from parity.core.run import Metric
from parity.store.objects.blob import decompress_bounded

CHUNK_FORMAT = 1
_LEVEL = 1  # fast: the win is in rows, not bytes


@dataclass(frozen=True)
class Chunk:
    key: str
    first_step: int
    last_step: int
    count: int
    data: bytes


def encode(points: Sequence[Metric]) -> list[Chunk]:
    """One chunk per key of ``points``, each keeping the points' order."""
    columns: dict[str, tuple[list[int], list[int], list[float]]] = {}
    nan = math.nan
    for key, value, step, stamp in points:
        column = columns.get(key)
        if column is None:
            column = columns[key] = ([], [], [])
        column[0].append(step)
        column[1].append(stamp)
        column[2].append(nan if value is None else value)
    compressor = zstandard.ZstdCompressor(level=_LEVEL)
    chunks = []
    for key, (steps, stamps, values) in columns.items():
        raw = bytes([CHUNK_FORMAT]) + (
            array("q", steps).tobytes()
            + array("q", stamps).tobytes()
            + array("d", values).tobytes()
        )
        chunks.append(Chunk(key, min(steps), max(steps), len(steps), compressor.compress(raw)))
    return chunks


def decode(key: str, count: int, data: bytes) -> list[Metric]:
    steps, stamps, values = _decode_columns(key, count, data)
    return [
        Metric(key, None if math.isnan(v) else v, s, t)
        for s, t, v in zip(steps, stamps, values, strict=True)
    ]


def _corrupt(key: str, detail: str) -> StorageError:
    return StorageError(
        f"the stored series of metric {key!r} is corrupt: {detail}",
        hint="restore the metadata database from a backup",
    )


def series(rows: Iterable[tuple[str, int, bytes]]) -> list[Metric]:
    """The points of chunk rows (key, count, data), sorted by step then timestamp."""
    points = [point for key, count, data in rows for point in decode(key, count, data)]
    points.sort(key=lambda p: (p.step, p.timestamp_ms))  # stable: logging order breaks ties
    return points


@dataclass(frozen=True)
class SeriesColumns:
    """One series as packed columns, in step (then timestamp) order: what a chart reads,
    without a Python object per point."""

    steps: array[int]
    stamps: array[int]
    values: array[float]  # NaN where a point is NaN

    def __len__(self) -> int:
        return len(self.steps)


def series_columns(rows: Iterable[tuple[str, int, bytes]]) -> SeriesColumns:
    """The columns of chunk rows (key, count, data), in the order ``series`` gives."""
    steps, stamps, values = array("q"), array("q"), array("d")
    for key, count, data in rows:
        chunk_steps, chunk_stamps, chunk_values = _decode_columns(key, count, data)
        steps.extend(chunk_steps)
        stamps.extend(chunk_stamps)
        values.extend(chunk_values)
    if _out_of_order(steps, stamps):
        order = sorted(range(len(steps)), key=lambda i: (steps[i], stamps[i]))
        steps = array("q", (steps[i] for i in order))
        stamps = array("q", (stamps[i] for i in order))
        values = array("d", (values[i] for i in order))
    return SeriesColumns(steps, stamps, values)


def _out_of_order(steps: array[int], stamps: array[int]) -> bool:
    """Whether the points are not already by step, then timestamp (chunks logged out of
    order, or a step logged twice)."""
    return any(
        step > following or (step == following and stamp > later)
        for (step, stamp), (following, later) in itertools.pairwise(zip(steps, stamps, strict=True))
    )


def _decode_columns(
    key: str, count: int, data: bytes
) -> tuple[array[int], array[int], array[float]]:
    try:
        # The row's point count bounds the chunk: a forged one cannot expand past it.
        raw = decompress_bounded(data, 1 + 3 * 8 * count)
    except zstandard.ZstdError as exc:
        raise _corrupt(key, str(exc)) from exc
    if raw[:1] != bytes([CHUNK_FORMAT]):
        raise (
            _corrupt(key, "no format byte")
            if raw[:1] < bytes([CHUNK_FORMAT])
            else UsageError(
                f"metric {key!r} is stored in chunk format {raw[0]}, newer than this Parity reads",
                hint="upgrade Parity: pip install -U parity-ml",
            )
        )
    body = memoryview(raw)[1:]
    width = count * 8
    if len(body) != 3 * width:
        raise _corrupt(key, f"{len(body)} bytes for {count} points")
    steps, stamps, values = array("q"), array("q"), array("d")
    steps.frombytes(body[:width])
    stamps.frombytes(body[width : 2 * width])
    values.frombytes(body[2 * width : 3 * width])
    return steps, stamps, values
