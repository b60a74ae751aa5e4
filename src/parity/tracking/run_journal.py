"""The journal of a run in team mode, and the thread that delivers it while the run runs.

``RunJournal`` is the ``RunWriter`` of such a run: each write is checked as the server would
check it (keys, value lengths, a param's fixed value), appended to the run's journal and handed
to a ``Sender`` thread, so ``log_metric`` and friends never wait for the network. When the
server does not answer, the sender backs off (1 s, 2 s, ... 30 s) and tries again while the
journal grows on disk. At the run's end it gets one last chance to deliver everything; what it
cannot is left for ``parity runs sync``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from parity.core.errors import ConflictError
from parity.core.run import (
    Artifact,
    DataLink,
    Metric,
    RunStatus,
    check_key,
    short_run_id,
    value_text,
)
from parity.tracking.buffer import new_batch_key
from parity.tracking.columns import batch_document
from parity.tracking.delivery import Delivery, send_journal
from parity.tracking.journal import JournalFile, remove, sent_offset
from parity.tracking.repository import RunWriter

MAX_BACKOFF_SECONDS = 30.0
DEFAULT_END_WAIT_SECONDS = 30.0
# How long a run's end waits for its writes to reach a server that answers, to learn which
# it refused before it records how the run ended.
END_CHECK_SECONDS = 10.0
# A journal wholly delivered and larger than this is closed, deleted and followed by a new one.
ROTATE_BYTES = 64 << 20


class Sender:
    """Delivers one journal in the background: soon after each write, again every interval,
    backing off while the server does not answer."""

    def __init__(
        self,
        journal: JournalFile,
        store: RunWriter,
        interval: float,
        rotate: Callable[[JournalFile], JournalFile | None] = lambda _: None,
    ) -> None:
        self._journal = journal
        self._store = store
        self._rotate = rotate
        self._interval = interval
        self._wake = threading.Event()
        self._finishing = False
        self._finished = threading.Event()
        self._urgent = False
        self._passed = threading.Event()
        self.last: Delivery | None = None  # every pass so far, added up; the last one's outcome
        self.failures = 0
        self._thread = threading.Thread(target=self._loop, name="parity-journal", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def flush(self, timeout: float) -> Delivery | None:
        """Make a pass now, past any backoff, and wait for it at most ``timeout`` seconds;
        every pass so far added up, or None when it did not end in time."""
        self._passed.clear()
        self._urgent = True
        self._wake.set()
        if not self._passed.wait(timeout):
            return None
        return self.last

    def finish(self, timeout: float) -> Delivery | None:
        """Make one last pass now and wait for it, at most ``timeout`` seconds; None when it
        did not end in time (the server is slow: the journal keeps what is not sent)."""
        self._finishing = True
        self._wake.set()
        if not self._finished.wait(timeout):
            return None
        return self.last

    def _add(self, delivery: Delivery) -> Delivery:
        """``delivery`` with what the passes before it delivered added in."""
        total = self.last
        if total is None:
            return delivery
        return replace(
            delivery,
            entries=total.entries + delivery.entries,
            points=total.points + delivery.points,
            rejected=total.rejected + delivery.rejected,
            first_rejection=total.first_rejection or delivery.first_rejection,
        )

    def _loop(self) -> None:
        retry_at = 0.0
        while True:
            if not self._finishing:
                self._wake.wait(self._interval)
                self._wake.clear()
            finishing = self._finishing
            urgent, self._urgent = self._urgent, False
            try:
                self._journal.sync()
                if finishing or urgent or time.monotonic() >= retry_at:
                    done = send_journal(self._journal.path, self._store, self._journal.run_id)
                    self.last = self._add(done)
                    if self.last.error is None:
                        self.failures = 0
                        if not finishing:
                            self._journal = self._rotate(self._journal) or self._journal
                    else:
                        self.failures += 1
                        pause = min(MAX_BACKOFF_SECONDS, self._interval * 2**self.failures)
                        retry_at = time.monotonic() + pause
            except BaseException as exc:  # never let the sender take the run down
                failed = Delivery(self._journal.run_id, str(self._journal.path), error=str(exc))
                self.last = self._add(failed)
            if urgent:
                self._passed.set()
            if finishing:
                self._finished.set()
                return


class RunJournal:
    """The ``RunWriter`` of one run in team mode: its writes go to a journal on disk, from
    which a background ``Sender`` delivers them to ``store`` (the server). Once a journal is
    larger than ``rotate_bytes`` and wholly delivered, the run goes on in a new one, so a long
    run's journal stays small while the server answers."""

    def __init__(
        self,
        folder: Path,
        run_id: str,
        store: RunWriter,
        server: str,
        clock: Callable[[], int],
        interval: float,
        rotate_bytes: int = ROTATE_BYTES,
    ) -> None:
        self.run_id = run_id
        self._folder = folder
        self._server = server
        self._clock = clock
        self._rotate_bytes = rotate_bytes
        self._lock = threading.Lock()  # appends wait while the journal changes files
        self.file = JournalFile(folder, run_id, server, clock())
        self._params: dict[str, str] = {}
        self.sender = Sender(self.file, store, interval, self._rotated)

    @property
    def path(self) -> Path:
        return self.file.path

    def _rotated(self, current: JournalFile) -> JournalFile | None:
        """A new journal, when ``current`` is large and wholly delivered (the sender asks)."""
        if current.size < self._rotate_bytes:
            return None
        with self._lock:
            if sent_offset(current.path) < current.size:
                return None  # a line came in since the sender's pass
            self.file = JournalFile(self._folder, self.run_id, self._server, self._clock())
        remove(current.path)  # before its lock goes: a sync never takes it for an ended run's
        current.close()
        return self.file

    def _append(self, document: Mapping[str, Any]) -> None:
        with self._lock:
            self.file.append(document)
        self.sender.wake()

    def log_params(self, run_id: str, params: Mapping[str, object]) -> None:
        wanted = {check_key(k, "param name"): value_text(v) for k, v in params.items()}
        for key, value in wanted.items():
            if self._params.get(key, value) != value:
                raise ConflictError(
                    f"param {key!r} of run {short_run_id(run_id)} is already {self._params[key]!r}",
                    hint="params are fixed once logged: log a metric or a tag instead",
                )
        if wanted:
            self._params.update(wanted)
            self._append({"op": "params", "params": wanted})

    def set_tags(self, run_id: str, tags: Mapping[str, object]) -> None:
        wanted = {check_key(k, "tag name"): value_text(v) for k, v in tags.items()}
        if wanted:
            self._append({"op": "tags", "tags": wanted})

    def log_metrics(self, run_id: str, points: Sequence[Metric], batch: str | None = None) -> None:
        if points:
            for key in {p.key for p in points}:
                check_key(key, "metric name")
            self._append({"op": "metrics", **batch_document(points, batch or new_batch_key())})

    def add_data(self, run_id: str, direction: str, links: Iterable[DataLink]) -> None:
        if direction not in ("input", "output"):
            raise ValueError(direction)
        listed = [link.to_dict() for link in links]
        if listed:
            self._append({"op": "data", "direction": direction, "links": listed})

    def add_artifact(self, run_id: str, artifact: Artifact) -> None:
        self._append({"op": "artifact", "artifact": artifact.to_dict()})

    def set_sources(self, run_id: str, code_id: str | None, environment_id: str | None) -> None:
        if code_id or environment_id:
            self._append({"op": "sources", "code_id": code_id, "environment_id": environment_id})

    def end(
        self,
        run_id: str,
        status: RunStatus,
        exit_code: int | None = None,
        *,
        end_ms: int | None = None,
    ) -> None:
        ended = self._clock() if end_ms is None else end_ms
        self._append({"op": "end", "status": status.value, "exit_code": exit_code, "end_ms": ended})

    def sync(self) -> None:
        """Put every line written so far on disk."""
        self.file.sync()

    def delivered_so_far(self, wait: float = END_CHECK_SECONDS) -> Delivery | None:
        """Every write so far delivered now (up to ``wait`` seconds) when the server answers,
        so a run learns what it refused before it ends; what the passes so far delivered when
        the server is not answering (no wait then)."""
        if self.sender.failures:
            return self.sender.last
        return self.sender.flush(wait) or self.sender.last

    def close(self, wait: float = DEFAULT_END_WAIT_SECONDS) -> Delivery | None:
        """Sync, give the sender one last pass (up to ``wait`` seconds), and delete the journal
        when everything in it was delivered. Returns that pass (None: it did not end in time)."""
        try:
            self.file.sync()
            delivered = self.sender.finish(wait)
            if delivered is not None and delivered.done:
                remove(self.file.path)
        finally:
            self.file.close()
        return delivered
