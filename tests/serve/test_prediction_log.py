"""The prediction log's hand-over to its sink: batches in order, kept while the sink is away,
bounded, and every row it drops counted."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pytest

from parity.core.errors import StorageError
from parity.serve.prediction_log import LogTags, PredictionLog

TAGS = LogTags("churn", 3, None, None)


class Sink:
    """Keeps what it is handed, or refuses while ``away``."""

    def __init__(self) -> None:
        self.away = False
        self.batches: list[list[dict[str, Any]]] = []

    def append_predictions(self, rows: Sequence[Mapping[str, Any]]) -> None:
        if self.away:
            raise StorageError("cannot reach the Parity server", hint="check it runs")
        self.batches.append([dict(row) for row in rows])

    @property
    def inputs(self) -> list[list[Any]]:
        return [row["inputs"] for batch in self.batches for row in batch]


@pytest.fixture
def sink() -> Sink:
    return Sink()


@pytest.fixture
def dropped() -> list[int]:
    return []


@pytest.fixture
def log(sink: Sink, dropped: list[int]) -> Iterator[PredictionLog]:
    # A flush interval far longer than a test: only the test's own flushes send anything.
    made = PredictionLog(
        sink,
        TAGS,
        clock=lambda: 1_000,
        sample_rate=1.0,
        max_queue=10,
        batch_rows=4,
        flush_seconds=3600,
        on_drop=dropped.append,
    )
    yield made
    made.close()


def _offer(log: PredictionLog, *values: float, request_id: str | None = None) -> None:
    matrix = np.array([[v, v * 10] for v in values])
    log.record(matrix, matrix[:, 0] > 2, request_id)


def test_rows_reach_the_sink_in_batches_with_their_tags(log: PredictionLog, sink: Sink) -> None:
    _offer(log, 1, 2, 3, 4, 5, request_id="req-1")
    assert log.flush() == 5
    assert [len(b) for b in sink.batches] == [4, 1]
    # Each row keeps the request's id and its place in the request.
    assert [(r["request_id"], r["row"]) for b in sink.batches for r in b] == [
        ("req-1", i) for i in range(5)
    ]
    first = sink.batches[0][0]
    assert first == {
        "time_ms": 1_000,
        "model": "churn",
        "version": 3,
        "environment_id": None,
        "data_version": None,
        "inputs": [1.0, 10.0],
        "prediction": False,
        "request_id": "req-1",
        "row": 0,
    }


def test_a_batch_the_sink_refuses_is_sent_at_the_next_flush_in_order(
    log: PredictionLog, sink: Sink, dropped: list[int]
) -> None:
    sink.away = True
    _offer(log, 1, 2, 3)
    assert log.flush() == 0
    assert log.waiting == 3
    _offer(log, 4)
    sink.away = False
    assert log.flush() == 4
    assert [row[0] for row in sink.inputs] == [1.0, 2.0, 3.0, 4.0]
    assert log.waiting == 0
    assert dropped == []


def test_while_the_sink_is_away_rows_beyond_the_queue_are_dropped_and_counted(
    log: PredictionLog, sink: Sink, dropped: list[int]
) -> None:
    sink.away = True
    for start in range(0, 16, 4):  # 16 rows; one refused batch of 4 and a queue of 10 wait
        _offer(log, *range(start, start + 4))
        log.flush()
    assert log.waiting == 14
    assert dropped == [1, 1]
    sink.away = False
    assert log.flush() == 14
    assert [row[0] for row in sink.inputs] == [float(v) for v in range(14)]


def test_rows_still_waiting_at_close_are_counted_as_dropped(sink: Sink, dropped: list[int]) -> None:
    log = PredictionLog(
        sink, TAGS, clock=lambda: 1, sample_rate=1.0, flush_seconds=3600, on_drop=dropped.append
    )
    sink.away = True
    _offer(log, 1, 2)
    log.flush()
    _offer(log, 3)
    log.close()
    assert sum(dropped) == 3
    assert sink.batches == []
