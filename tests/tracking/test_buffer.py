"""The metric buffer: batches by size and by time, flushes on demand, loses nothing on error."""

from __future__ import annotations

import threading
import time

import pytest

from parity.core.run import Metric
from parity.tracking.buffer import MetricBuffer


class Sink:
    def __init__(self, fail_times: int = 0) -> None:
        self.batches: list[list[Metric]] = []
        self.keys: list[str] = []  # the key of every attempt, failed or not
        self.fail_times = fail_times
        self.arrived = threading.Event()

    def __call__(self, batch: list[Metric], key: str) -> None:
        self.keys.append(key)
        if self.fail_times:
            self.fail_times -= 1
            raise OSError("database is down")
        self.batches.append(batch)
        self.arrived.set()

    @property
    def points(self) -> list[Metric]:
        return [p for batch in self.batches for p in batch]


def point(step: int) -> Metric:
    return Metric("loss", float(step), step, step)


def test_nothing_is_written_per_call_and_flush_writes_one_batch() -> None:
    sink = Sink()
    buffer = MetricBuffer(sink, interval=60)
    for step in range(1000):
        buffer.add(point(step))
    assert sink.batches == []
    assert buffer.pending == 1000
    buffer.flush()
    assert len(sink.batches) == 1
    assert sink.points == [point(s) for s in range(1000)]
    buffer.close()


def test_a_full_batch_wakes_the_writer() -> None:
    sink = Sink()
    buffer = MetricBuffer(sink, interval=60, batch_points=100)
    for step in range(100):
        buffer.add(point(step))
    assert sink.arrived.wait(10)
    assert len(sink.points) == 100
    buffer.close()


def test_the_writer_wakes_every_interval() -> None:
    sink = Sink()
    buffer = MetricBuffer(sink, interval=0.05)
    buffer.add(point(1))
    assert sink.arrived.wait(10)
    assert sink.points == [point(1)]
    buffer.close()


def test_memory_stays_bounded_when_the_writer_is_slow() -> None:
    written: list[int] = []

    def slow(batch: list[Metric], key: str) -> None:
        time.sleep(0.01)
        written.append(len(batch))

    buffer = MetricBuffer(slow, interval=60, batch_points=10)
    most = 0
    for step in range(5000):
        buffer.add(point(step))
        most = max(most, buffer.pending)
    buffer.close()
    assert sum(written) == 5000
    assert most <= 10 * 10  # at BACKPRESSURE_FACTOR batches the caller writes itself


def test_a_failed_write_keeps_the_points_and_reports_once() -> None:
    sink = Sink(fail_times=1)
    buffer = MetricBuffer(sink, interval=60)
    buffer.add(point(1))
    with pytest.raises(OSError, match="database is down"):
        buffer.flush()
    buffer.add(point(2))
    buffer.flush()
    assert sink.points == [point(1), point(2)]
    buffer.close()
    buffer.close()  # closing twice is harmless


def test_a_failed_batch_is_written_again_whole_with_its_key() -> None:
    # The failure may have come after the commit: only the same key lets the store see that
    # the batch is already there, so the batch is not merged with newer points.
    sink = Sink(fail_times=1)
    buffer = MetricBuffer(sink, interval=60)
    buffer.extend([point(1), point(2)])
    with pytest.raises(OSError, match="database is down"):
        buffer.flush()
    assert buffer.pending == 2
    buffer.add(point(3))
    buffer.flush()
    assert sink.batches == [[point(1), point(2)], [point(3)]]
    assert sink.keys[0] == sink.keys[1] != sink.keys[2]
    assert buffer.written == 3
    buffer.close()


def test_close_stops_the_thread_after_writing() -> None:
    sink = Sink()
    buffer = MetricBuffer(sink, interval=60)
    buffer.add(point(1))
    started = time.perf_counter()
    buffer.close()
    assert time.perf_counter() - started < 5
    assert sink.points == [point(1)]
    assert not buffer._thread.is_alive()


def test_a_run_that_logs_no_metric_starts_no_thread() -> None:
    # Starting runs is a hot path (one thread start and join each, otherwise).
    sink = Sink()
    buffer = MetricBuffer(sink, interval=60)
    before = threading.active_count()
    buffer.flush()
    assert threading.active_count() == before
    buffer.close()
    assert buffer._thread is None
    assert sink.points == []
