"""A sampled, bounded, batched log of predictions, written off the request path.

Requests only append to a bounded queue (dropping, and counting, when it is full); a background
thread hands batches to the sink: the metadata store (one transaction a batch) or, for a model
served from a Parity server, that server. While the sink is away the batch it refused waits and
new rows fill the queue up to its bound (then they are dropped, and counted); a hard kill loses
at most one flush interval.
"""

from __future__ import annotations

import queue
import random
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from parity.core.errors import ParityError


class PredictionSink(Protocol):
    """Where logged predictions go (``parity.monitor``'s stores are such sinks)."""

    def append_predictions(self, rows: Sequence[Mapping[str, Any]]) -> None: ...


@dataclass(frozen=True)
class LogTags:
    model: str
    version: int
    environment_id: str | None
    data_version: str | None


class PredictionLog:
    def __init__(
        self,
        sink: PredictionSink,
        tags: LogTags,
        clock: Callable[[], int],
        sample_rate: float = 0.1,
        max_queue: int = 10_000,
        batch_rows: int = 500,
        flush_seconds: float = 1.0,
        on_drop: Callable[[int], None] = lambda n: None,
    ) -> None:
        self.sink = sink
        self.tags = tags
        self.clock = clock
        self.sample_rate = sample_rate
        self.batch_rows = batch_rows
        self.flush_seconds = flush_seconds
        self.on_drop = on_drop
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue(maxsize=max_queue)
        self._unsent: list[dict[str, Any]] = []  # a batch the sink refused, offered again first
        self._flushing = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="parity-prediction-log", daemon=True)
        self._thread.start()

    def record(
        self,
        matrix: np.ndarray[Any, Any],
        predictions: np.ndarray[Any, Any],
        request_id: str | None = None,
    ) -> None:
        """Offer a request's rows (with the request's id) to the log; cheap, and never blocks
        the request."""
        if self.sample_rate <= 0 or (self.sample_rate < 1 and random.random() >= self.sample_rate):
            return
        now = self.clock()
        rows, values = matrix.tolist(), predictions.tolist()
        for index, (row, value) in enumerate(zip(rows, values, strict=False)):
            try:
                self._queue.put_nowait(
                    {
                        "time_ms": now,
                        "model": self.tags.model,
                        "version": self.tags.version,
                        "environment_id": self.tags.environment_id,
                        "data_version": self.tags.data_version,
                        "inputs": row,
                        "prediction": value,
                        "request_id": request_id,
                        "row": index,
                    }
                )
            except queue.Full:
                self.on_drop(1)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._stop.wait(self.flush_seconds)
            self.flush()

    def flush(self) -> int:
        """Hand every queued row to the sink, in batches; returns how many it took. A batch it
        refuses (its server is away) is offered first at the next flush, and the rows behind
        it wait in the queue."""
        with self._flushing:
            written = 0
            while True:
                batch, self._unsent = self._unsent or self._next_batch(), []
                if not batch:
                    return written
                try:
                    self.sink.append_predictions(batch)
                except ParityError:
                    self._unsent = batch
                    return written
                written += len(batch)

    def _next_batch(self) -> list[dict[str, Any]]:
        batch: list[dict[str, Any]] = []
        while len(batch) < self.batch_rows:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    @property
    def waiting(self) -> int:
        """Rows not yet handed to the sink: the refused batch and the queue."""
        return len(self._unsent) + self._queue.qsize()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.flush()
        if lost := self.waiting:  # the sink is still away: these rows are lost, and counted
            self.on_drop(lost)
