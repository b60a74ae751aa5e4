"""A long metric series reduced to N buckets for a chart, keeping what a chart must not lose.

Each bucket holds an equal share of the points (in history order: by step) and keeps their
minimum, maximum and last value, so a one-step spike or dip survives any reduction: it is the
max or min of its bucket. NaN points (None) count in a bucket but not in its min and max.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass

from parity.core.errors import UsageError
from parity.core.run import Metric
from parity.tracking.series import SeriesColumns

MAX_BUCKETS = 10_000


@dataclass(frozen=True)
class Bucket:
    first_step: int
    last_step: int
    count: int
    min: float | None  # None when every value in the bucket is NaN
    max: float | None
    last: float | None  # the value of the bucket's last point
    last_timestamp_ms: int


def downsample(points: Sequence[Metric], buckets: int) -> list[Bucket]:
    """``points`` (a series, in order) in at most ``buckets`` buckets of equal point counts;
    a series no longer than ``buckets`` keeps one bucket per point."""
    if not 1 <= buckets <= MAX_BUCKETS:
        raise UsageError(f"buckets must be 1 to {MAX_BUCKETS}, not {buckets}")
    total = len(points)
    shares = min(buckets, total)
    found = []
    for index in range(shares):
        part = points[index * total // shares : (index + 1) * total // shares]
        numbers = [p.value for p in part if p.value is not None]
        first, final = part[0], part[-1]
        found.append(
            Bucket(
                first_step=first.step,
                last_step=final.step,
                count=len(part),
                min=min(numbers) if numbers else None,
                max=max(numbers) if numbers else None,
                last=final.value,
                last_timestamp_ms=final.timestamp_ms,
            )
        )
    return found


def steps_between(
    points: Sequence[Metric], min_step: int | None, max_step: int | None
) -> Sequence[Metric]:
    """The points of a series (in step order) whose step is in ``[min_step, max_step]``."""
    if min_step is None and max_step is None:
        return points
    low = 0 if min_step is None else bisect.bisect_left(points, min_step, key=_step)
    high = len(points) if max_step is None else bisect.bisect_right(points, max_step, key=_step)
    return points[low:high]


def _step(point: Metric) -> int:
    return point.step


def downsample_columns(series: SeriesColumns, buckets: int) -> list[Bucket]:
    """``downsample`` of a series held as columns: the same buckets, with each bucket's min
    and max taken over an array slice rather than point by point."""
    if not 1 <= buckets <= MAX_BUCKETS:
        raise UsageError(f"buckets must be 1 to {MAX_BUCKETS}, not {buckets}")
    total = len(series)
    shares = min(buckets, total)
    values = series.values
    has_nan = any(map(math.isnan, values))
    found = []
    for index in range(shares):
        low, high = index * total // shares, (index + 1) * total // shares
        part = values[low:high]
        numbers = [v for v in part if v == v] if has_nan else part
        final = part[-1]
        found.append(
            Bucket(
                first_step=series.steps[low],
                last_step=series.steps[high - 1],
                count=high - low,
                min=min(numbers) if numbers else None,
                max=max(numbers) if numbers else None,
                last=None if final != final else final,
                last_timestamp_ms=series.stamps[high - 1],
            )
        )
    return found


def columns_between(
    series: SeriesColumns, min_step: int | None, max_step: int | None
) -> SeriesColumns:
    """The part of ``series`` whose step is in ``[min_step, max_step]``."""
    if min_step is None and max_step is None:
        return series
    low = 0 if min_step is None else bisect.bisect_left(series.steps, min_step)
    high = len(series) if max_step is None else bisect.bisect_right(series.steps, max_step)
    return SeriesColumns(series.steps[low:high], series.stamps[low:high], series.values[low:high])
