"""Runs in team mode write to their journal; a background sender delivers it to the server.

``RunJournal`` is the ``RunWriter`` of a run in team mode: each write is checked as the server
would check it (keys, value lengths, a param's fixed value), appended to the run's journal and
handed to a ``Sender`` thread, so ``log_metric`` and friends never wait for the network. The
sender sends the journal's lines in order, each safe to send again (metric batches carry their
keys); when the server does not answer it backs off (1 s, 2 s, ... 30 s) and tries again, while
the journal grows on disk. A line the server refuses (a param changed by another process, a
run it does not know) is set aside in ``<journal>.rejected`` rather than blocking the rest.

At the run's end the sender gets one last chance to deliver everything; what it cannot is left
for ``sync_journals`` (``parity runs sync``), which sends the journals whose processes ended.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from parity.core.errors import (
    AccessDenied,
    ConflictError,
    DatabaseBusy,
    ParityError,
    StorageError,
    UsageError,
)
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
from parity.tracking.columns import batch_document, points_of
from parity.tracking.journal import (
    JournalFile,
    claimed,
    journals,
    read_entries,
    read_header,
    record_rejected,
    record_sent,
    remove,
    sent_offset,
)
from parity.tracking.repository import RunWriter

# Errors after which the same line may succeed later: the server is down, busy or refused us.
TRANSIENT = (StorageError, DatabaseBusy, AccessDenied)
MAX_BACKOFF_SECONDS = 30.0
# A journal wholly delivered and larger than this is closed, deleted and followed by a new one.
ROTATE_BYTES = 64 << 20
DEFAULT_END_WAIT_SECONDS = 30.0


def apply_entry(store: RunWriter, run_id: str, document: Mapping[str, Any]) -> int:
    """Make the write a journal line records; returns the metric points it held."""
    op = document.get("op")
    if op == "metrics":
        points = points_of(document)
        store.log_metrics(run_id, points, str(document["batch"]))
        return len(points)
    if op == "params":
        store.log_params(run_id, document["params"])
    elif op == "tags":
        store.set_tags(run_id, document["tags"])
    elif op == "data":
        links = [DataLink(**link) for link in document["links"]]
        store.add_data(run_id, str(document["direction"]), links)
    elif op == "artifact":
        store.add_artifact(run_id, Artifact(**document["artifact"]))
    elif op == "sources":
        store.set_sources(run_id, document.get("code_id"), document.get("environment_id"))
    elif op == "end":
        status = RunStatus(document["status"])
        store.end(run_id, status, document.get("exit_code"), end_ms=int(document["end_ms"]))
    else:
        raise UsageError(f"a journal line this Parity cannot send ({op!r})", hint="upgrade Parity")
    return 0


@dataclass(frozen=True)
class Delivery:
    """What one pass over one journal sent, and why it stopped before the end, if it did."""

    run_id: str
    journal: str
    entries: int = 0  # lines delivered now
    points: int = 0
    rejected: int = 0  # lines the server refused (set aside in <journal>.rejected)
    error: str | None = None  # the server could not be reached, or refused the token
    done: bool = False  # every line is delivered

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "journal": self.journal,
            "entries": self.entries,
            "points": self.points,
            "rejected": self.rejected,
            "error": self.error,
            "done": self.done,
        }


def _first_line_end(path: Path) -> int:
    entries = read_entries(path, 0, 64 << 10)
    return entries[0].end if entries else 0


def send_journal(path: Path, store: RunWriter, run_id: str) -> Delivery:
    """Send the lines of ``path`` the server does not have yet, in order, recording progress
    after each; stop at the first line the server cannot take now."""
    offset = max(sent_offset(path), _first_line_end(path))
    sent = points = rejected = 0
    while entries := read_entries(path, offset):
        for entry in entries:
            try:
                points += apply_entry(store, run_id, entry.document)
            except TRANSIENT as exc:
                return Delivery(run_id, str(path), sent, points, rejected, str(exc))
            except (ParityError, KeyError, TypeError, ValueError) as exc:
                record_rejected(path, entry.document, f"{type(exc).__name__}: {exc}")
                rejected += 1
            offset = entry.end
            sent += 1
            record_sent(path, offset)
    return Delivery(run_id, str(path), sent, points, rejected, done=True)


@dataclass(frozen=True)
class SyncReport:
    """What ``sync_journals`` delivered, and what it left: journals still being written by a
    running process, journals of another server, and why it stopped early, if it did."""

    delivered: tuple[Delivery, ...] = ()
    live: tuple[str, ...] = ()  # run ids whose journal a running process still sends
    other_server: tuple[str, ...] = ()  # journals written for another server
    left: tuple[str, ...] = ()  # run ids not tried: the server stopped answering
    error: str | None = None
    unreadable: tuple[str, ...] = ()  # files in the journal folder that are no journal

    @property
    def points(self) -> int:
        return sum(d.points for d in self.delivered)

    @property
    def rejected(self) -> int:
        return sum(d.rejected for d in self.delivered)

    def to_dict(self) -> dict[str, Any]:
        return {
            "delivered": [d.to_dict() for d in self.delivered],
            "points": self.points,
            "rejected": self.rejected,
            "live": list(self.live),
            "other_server": list(self.other_server),
            "left": list(self.left),
            "error": self.error,
            "unreadable": list(self.unreadable),
        }


def sync_journals(folder: Path, store: RunWriter, server: str) -> SyncReport:
    """Deliver the journals in ``folder`` written for ``server`` whose processes ended; each
    journal wholly delivered is deleted."""
    delivered: list[Delivery] = []
    live: list[str] = []
    other: list[str] = []
    left: list[str] = []
    unreadable: list[str] = []
    error: str | None = None
    for path in journals(folder):
        try:
            header = read_header(path)
        except StorageError:
            unreadable.append(str(path))
            continue
        run_id = str(header["run_id"])
        if header.get("server") != server:
            other.append(run_id)
            continue
        if error is not None:
            left.append(run_id)
            continue
        with claimed(path) as mine:
            if not mine:
                live.append(run_id)
                continue
            result = send_journal(path, store, run_id)
            if result.done:
                remove(path)
        delivered.append(result)
        error = result.error
    return SyncReport(
        tuple(delivered), tuple(live), tuple(other), tuple(left), error, tuple(unreadable)
    )


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
        self.last: Delivery | None = None  # every pass so far, added up; the last one's outcome
        self.failures = 0
        self._thread = threading.Thread(target=self._loop, name="parity-journal", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

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
        )

    def _loop(self) -> None:
        retry_at = 0.0
        while True:
            if not self._finishing:
                self._wake.wait(self._interval)
                self._wake.clear()
            finishing = self._finishing
            try:
                self._journal.sync()
                if finishing or time.monotonic() >= retry_at:
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
