"""A sampled, bounded, batched log of predictions, written off the request path.

Requests only append to a bounded queue (dropping, and counting, when it is full); a background
thread writes batches in one transaction each. A hard kill loses at most one flush interval.
"""

from __future__ import annotations

import json
import queue
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import insert

from parity.store.meta.serving_tables import prediction_log
from parity.store.meta.store import MetadataStore


@dataclass(frozen=True)
class LogTags:
    model: str
    version: int
    environment_id: str | None
    data_version: str | None


class PredictionLog:
    def __init__(
        self,
        meta: MetadataStore,
        tags: LogTags,
        clock: Callable[[], int],
        sample_rate: float = 0.1,
        max_queue: int = 10_000,
        batch_rows: int = 500,
        flush_seconds: float = 1.0,
        on_drop: Callable[[int], None] = lambda n: None,
    ) -> None:
        self.meta = meta
        self.tags = tags
        self.clock = clock
        self.sample_rate = sample_rate
        self.batch_rows = batch_rows
        self.flush_seconds = flush_seconds
        self.on_drop = on_drop
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue(maxsize=max_queue)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="parity-prediction-log", daemon=True)
        self._thread.start()

    def record(self, matrix: np.ndarray[Any, Any], predictions: np.ndarray[Any, Any]) -> None:
        """Offer a request's rows to the log; cheap, and never blocks the request."""
        if self.sample_rate <= 0 or (self.sample_rate < 1 and random.random() >= self.sample_rate):
            return
        now = self.clock()
        rows, values = matrix.tolist(), predictions.tolist()
        for row, value in zip(rows, values, strict=False):
            try:
                self._queue.put_nowait(
                    {
                        "time_ms": now,
                        "model": self.tags.model,
                        "version": self.tags.version,
                        "environment_id": self.tags.environment_id,
                        "data_version": self.tags.data_version,
                        "inputs": json.dumps(row),
                        "prediction": json.dumps(value),
                    }
                )
            except queue.Full:
                self.on_drop(1)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._stop.wait(self.flush_seconds)
            self.flush()

    def flush(self) -> int:
        written = 0
        while True:
            batch: list[dict[str, Any]] = []
            while len(batch) < self.batch_rows:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if not batch:
                return written
            with self.meta.write() as connection:
                connection.execute(insert(prediction_log), batch)
            written += len(batch)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.flush()
