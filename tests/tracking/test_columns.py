"""Metric points as JSON columns: what a batch, a history and buckets look like on the wire."""

from __future__ import annotations

import math

import orjson
import pytest

from parity.core.errors import UsageError
from parity.core.run import Metric, RunView, number_from_json
from parity.tracking.columns import (
    batch_document,
    bucket_columns,
    buckets_of,
    history_columns,
    history_points,
    points_of,
)
from parity.tracking.downsample import downsample

POINTS = [
    Metric("loss", 0.5, 0, 10),
    Metric("acc", 0.8, 0, 10),
    Metric("loss", None, 1, 11),  # NaN
    Metric("loss", math.inf, 2, 12),
    Metric("acc", -math.inf, 1, 11),
]


def test_a_batch_is_one_object_per_key_and_survives_json() -> None:
    document = batch_document(POINTS, "a" * 32)
    assert document["series"][0] == {
        "key": "loss",
        "steps": [0, 1, 2],
        "timestamps": [10, 11, 12],
        "values": [0.5, None, "inf"],
    }
    wired = orjson.loads(orjson.dumps(document))  # orjson would write an infinity as null
    back = points_of(wired)
    assert sorted(back, key=repr) == sorted(POINTS, key=repr)
    assert [p for p in back if p.key == "loss"] == [p for p in POINTS if p.key == "loss"]


def test_the_flat_form_is_one_entry_per_point() -> None:
    flat = {
        "batch": "b" * 32,
        "keys": ["x", "y", "x"],
        "values": [1, "-inf", None],
        "steps": [0, 0, 1],
        "timestamps": [5, 5, 6],
    }
    assert points_of(flat) == [
        Metric("x", 1.0, 0, 5),
        Metric("y", -math.inf, 0, 5),
        Metric("x", None, 1, 6),
    ]
    with pytest.raises(UsageError, match=r"columns differ in length \(3 keys, 2 values"):
        points_of({**flat, "values": [1, 2]})
    with pytest.raises(UsageError, match="invalid metric name"):
        points_of({**flat, "keys": ["x", "bad'key", "x"]})
    with pytest.raises(UsageError, match="is not a metric value"):
        number_from_json(True)


def test_histories_and_buckets_round_trip() -> None:
    series = [p for p in POINTS if p.key == "loss"]
    assert history_points("loss", orjson.loads(orjson.dumps(history_columns(series)))) == series
    buckets = downsample(series, 2)
    assert buckets_of(orjson.loads(orjson.dumps(bucket_columns(buckets)))) == buckets


def test_a_run_view_reads_back_from_its_json() -> None:
    view = RunView(
        id="0" * 32,
        experiment="e",
        name=None,
        status="finished",  # type: ignore[arg-type]
        start_ms=1,
        end_ms=2,
        user="u",
        host=None,
        command=("python",),
        metrics={"acc": 0.5, "big": math.inf, "gone": None},
    )
    document = view.to_dict()
    document["metrics"]["big"] = "inf"
    back = RunView.from_dict(orjson.loads(orjson.dumps(document)))
    assert back.metrics == {"acc": 0.5, "big": math.inf, "gone": None}
    assert back.to_dict()["status"] == "finished"
