"""The metric buffer: ``log_metric`` appends to memory; a background thread writes batches.

A training loop pays for a lock and a list append per point. The writer thread wakes every
``interval`` seconds, or as soon as ``batch_points`` are waiting, and writes everything pending in
one transaction. ``flush()`` writes synchronously; ``close()`` flushes and stops the thread. The
thread starts with the first point: a run that logs no metric never starts one.
If the writer falls far behind, ``add`` writes in the caller's thread, so memory stays bounded.
What a hard crash (SIGKILL, power loss) can lose is what was pending: at most the last interval.

Each batch is written with a key of its own. A batch whose write failed is kept whole, with its
key, and written again before anything newer: the failure may have come after the commit (a
lost connection), and the store keeps one copy of a batch it is given twice.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

from parity.core.run import Metric

DEFAULT_INTERVAL_SECONDS = 1.0
DEFAULT_BATCH_POINTS = 10_000
# Pending points at which ``add`` stops trusting the writer thread and writes itself.
BACKPRESSURE_FACTOR = 10


def new_batch_key() -> str:
    """A key for one batch of metric points: random, so two writers never share one."""
    return os.urandom(16).hex()


class MetricBuffer:
    def __init__(
        self,
        write: Callable[[list[Metric], str], None],
        interval: float = DEFAULT_INTERVAL_SECONDS,
        batch_points: int = DEFAULT_BATCH_POINTS,
    ) -> None:
        self._write = write
        self._interval = interval
        self._batch_points = batch_points
        self._pending: list[Metric] = []
        self._failed: tuple[list[Metric], str] | None = None  # a batch to write again, its key
        self._lock = threading.Lock()  # guards _pending
        self._writing = threading.Lock()  # one batch at a time, in order
        self._wake = threading.Event()
        self._closed = False
        self.error: BaseException | None = None  # the last failed write, raised by flush()
        self.written = 0
        self._thread: threading.Thread | None = None

    def _start(self) -> None:
        with self._lock:
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(
                    target=self._loop, name="parity-metrics", daemon=True
                )
                self._thread.start()

    def add(self, point: Metric) -> None:
        if self._thread is None:
            self._start()
        with self._lock:
            self._pending.append(point)
            waiting = len(self._pending)
        if waiting >= self._batch_points:
            if waiting >= self._batch_points * BACKPRESSURE_FACTOR:
                self.flush()
            else:
                self._wake.set()

    def extend(self, points: list[Metric]) -> None:
        if self._thread is None:
            self._start()
        with self._lock:
            self._pending.extend(points)
            waiting = len(self._pending)
        if waiting >= self._batch_points:
            self._wake.set()

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._pending) + (len(self._failed[0]) if self._failed else 0)

    def flush(self) -> None:
        """Write everything logged so far; raise the error of a failed write, if any."""
        self._drain()
        if self.error is not None:
            error, self.error = self.error, None
            raise error

    def close(self) -> None:
        """Flush and stop the writer thread. Safe to call more than once."""
        if not self._closed:
            with self._lock:
                self._closed = True
                thread = self._thread
            self._wake.set()
            if thread is not None and thread is not threading.current_thread():
                thread.join()
        self.flush()

    def _loop(self) -> None:
        while not self._closed:
            self._wake.wait(self._interval)
            self._wake.clear()
            self._drain()

    def _drain(self) -> None:
        with self._writing:
            if self._failed is not None and not self._write_batch(*self._failed):
                return
            with self._lock:
                batch, self._pending = self._pending, []
            if batch:
                self._write_batch(batch, new_batch_key())

    def _write_batch(self, batch: list[Metric], key: str) -> bool:
        """Write one batch; on failure keep it (with its key) for the next attempt."""
        try:
            self._write(batch, key)
        except BaseException as exc:
            with self._lock:
                self._failed = (batch, key)
            self.error = exc
            return False
        with self._lock:
            self._failed = None
        self.written += len(batch)
        return True
