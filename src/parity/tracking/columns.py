"""Metric points as JSON columns: how a batch travels to a Parity server and sits in a journal.

A batch is one object per metric key with three parallel arrays, so a key is written once per
batch, not once per point::

    {"batch": "9f…", "series": [{"key": "loss", "steps": [0, 1], "timestamps": [17…, 17…],
                                 "values": [0.9, 0.7]}]}

A value of None stands for NaN (as in ``Metric``); JSON has no infinities, so they travel as the
strings ``"inf"`` and ``"-inf"``. A server also takes the flat form, one entry per point:
``{"batch": …, "keys": […], "values": […], "steps": […], "timestamps": […]}``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from parity.core.errors import UsageError
from parity.core.run import Metric, check_key, number_from_json, numbers_to_json
from parity.tracking.downsample import Bucket

Columns = dict[str, list[Any]]


def series_of(points: Sequence[Metric]) -> list[dict[str, Any]]:
    """One object per key of ``points`` (in order of first appearance), points in order."""
    columns: dict[str, tuple[list[int], list[int], list[float | None]]] = {}
    for key, value, step, stamp in points:
        column = columns.get(key)
        if column is None:
            column = columns[key] = ([], [], [])
        column[0].append(step)
        column[1].append(stamp)
        column[2].append(value)
    return [
        {"key": key, "steps": steps, "timestamps": stamps, "values": numbers_to_json(values)}
        for key, (steps, stamps, values) in columns.items()
    ]


def batch_document(points: Sequence[Metric], batch: str) -> dict[str, Any]:
    return {"batch": batch, "series": series_of(points)}


def points_of(document: Mapping[str, Any]) -> list[Metric]:
    """The points of a batch in either form; UsageError when its columns disagree."""
    if document.get("series") is not None:
        points: list[Metric] = []
        for item in document["series"]:
            key = check_key(item["key"], "metric name")
            points += _points(
                [key] * len(item["steps"]), item["values"], item["steps"], item["timestamps"]
            )
        return points
    keys = document.get("keys") or []
    for key in set(keys):
        check_key(key, "metric name")
    return _points(
        keys,
        document.get("values") or [],
        document.get("steps") or [],
        document.get("timestamps") or [],
    )


def _points(
    keys: Sequence[str], values: Sequence[Any], steps: Sequence[int], stamps: Sequence[int]
) -> list[Metric]:
    if not len(keys) == len(values) == len(steps) == len(stamps):
        raise UsageError(
            f"a batch's columns differ in length ({len(keys)} keys, {len(values)} values, "
            f"{len(steps)} steps, {len(stamps)} timestamps)",
            hint="send one key, value, step and timestamp per point",
        )
    return [
        Metric(key, number_from_json(value), int(step), int(stamp))
        for key, value, step, stamp in zip(keys, values, steps, stamps, strict=True)
    ]


def history_columns(points: Sequence[Metric]) -> Columns:
    """A series as columns: ``steps``, ``timestamps``, ``values``."""
    return {
        "steps": [p.step for p in points],
        "timestamps": [p.timestamp_ms for p in points],
        "values": numbers_to_json(p.value for p in points),
    }


def history_points(key: str, columns: Mapping[str, Sequence[Any]]) -> list[Metric]:
    return _points(
        [key] * len(columns["steps"]), columns["values"], columns["steps"], columns["timestamps"]
    )


def bucket_columns(buckets: Sequence[Bucket]) -> Columns:
    """Downsampled buckets as columns, one entry per bucket."""
    return {
        "first_steps": [b.first_step for b in buckets],
        "last_steps": [b.last_step for b in buckets],
        "counts": [b.count for b in buckets],
        "min": numbers_to_json(b.min for b in buckets),
        "max": numbers_to_json(b.max for b in buckets),
        "last": numbers_to_json(b.last for b in buckets),
        "last_timestamps": [b.last_timestamp_ms for b in buckets],
    }


def buckets_of(columns: Mapping[str, Sequence[Any]]) -> list[Bucket]:
    return [
        Bucket(
            first_step=int(first),
            last_step=int(last),
            count=int(count),
            min=number_from_json(low),
            max=number_from_json(high),
            last=number_from_json(final),
            last_timestamp_ms=int(stamp),
        )
        for first, last, count, low, high, final, stamp in zip(
            columns["first_steps"],
            columns["last_steps"],
            columns["counts"],
            columns["min"],
            columns["max"],
            columns["last"],
            columns["last_timestamps"],
            strict=True,
        )
    ]
