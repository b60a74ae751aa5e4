"""Downsampling a series for a chart: equal shares of points, each keeping min, max and last."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parity.core.errors import UsageError
from parity.core.run import Metric
from parity.tracking import series
from parity.tracking.downsample import Bucket, columns_between, downsample, downsample_columns


def _series(values: list[float | None]) -> list[Metric]:
    return [Metric("loss", value, step, 1000 + step) for step, value in enumerate(values)]


def test_a_one_step_spike_survives_any_reduction() -> None:
    values: list[float | None] = [0.5] * 100_000
    values[54_321] = 1000.0  # one bad step
    values[7] = -3.0  # and one dip
    points = _series(values)
    for buckets in (1, 3, 100, 999, 10_000):
        reduced = downsample(points, buckets)
        assert len(reduced) == buckets
        assert sum(b.count for b in reduced) == 100_000
        assert max(b.max for b in reduced if b.max is not None) == 1000.0
        assert min(b.min for b in reduced if b.min is not None) == -3.0
        spiked = next(b for b in reduced if b.max == 1000.0)
        assert spiked.first_step <= 54_321 <= spiked.last_step
        assert reduced[-1].last == 0.5
        assert reduced[-1].last_step == 99_999
        assert reduced[-1].last_timestamp_ms == 1000 + 99_999


def test_buckets_cover_the_series_in_order_without_overlap() -> None:
    reduced = downsample(_series([float(i) for i in range(10)]), 3)
    assert [(b.first_step, b.last_step, b.count) for b in reduced] == [
        (0, 2, 3),
        (3, 5, 3),
        (6, 9, 4),
    ]
    assert [(b.min, b.max, b.last) for b in reduced] == [(0, 2, 2), (3, 5, 5), (6, 9, 9)]


def test_a_short_series_keeps_one_bucket_per_point_and_nan_counts_but_has_no_extremes() -> None:
    reduced = downsample(_series([1.0, None, 3.0]), 10)
    assert reduced == [
        Bucket(0, 0, 1, 1.0, 1.0, 1.0, 1000),
        Bucket(1, 1, 1, None, None, None, 1001),
        Bucket(2, 2, 1, 3.0, 3.0, 3.0, 1002),
    ]
    assert downsample([], 5) == []
    with pytest.raises(UsageError, match="buckets must be 1 to 10000"):
        downsample(_series([1.0]), 0)


@given(
    st.lists(st.none() | st.floats(allow_nan=False, allow_infinity=False), max_size=300),
    st.integers(min_value=1, max_value=50),
)
def test_every_extreme_is_kept(values: list[float | None], buckets: int) -> None:
    reduced = downsample(_series(values), buckets)
    numbers = [v for v in values if v is not None]
    assert sum(b.count for b in reduced) == len(values)
    assert len(reduced) == min(buckets, len(values))
    if numbers:
        assert max(b.max for b in reduced if b.max is not None) == max(numbers)
        assert min(b.min for b in reduced if b.min is not None) == min(numbers)
    if values:
        assert reduced[-1].last == values[-1]


@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=40),
            st.integers(min_value=0, max_value=5),
            st.none() | st.floats(allow_nan=False, allow_infinity=False),
        ),
        max_size=200,
    ),
    st.integers(min_value=1, max_value=30),
    st.integers(min_value=1, max_value=4),
)
def test_the_columnar_path_gives_the_same_buckets(
    points: list[tuple[int, int, float | None]], buckets: int, chunks: int
) -> None:
    """A chart's columnar read (chunks decoded into arrays, sorted only when out of order)
    buckets a series exactly as the point-by-point path does, NaN and repeated steps too."""
    metrics = [Metric("loss", value, step, stamp) for step, stamp, value in points]
    size = max(1, len(metrics) // chunks + 1)
    rows = []
    for first in range(0, len(metrics), size):
        (chunk,) = series.encode(metrics[first : first + size])
        rows.append((chunk.key, chunk.count, chunk.data))
    columns = series.series_columns(rows)
    history = series.series(rows)
    assert list(columns.steps) == [p.step for p in history]
    if history:
        assert downsample_columns(columns, buckets) == downsample(history, buckets)
    low, high = 10, 30
    between = columns_between(columns, low, high)
    assert list(between.steps) == [p.step for p in history if low <= p.step <= high]
