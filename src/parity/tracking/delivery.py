"""Delivering journals to the server: each line made again through a ``RunWriter``, in order.

Every line is safe to send twice (metric batches carry their keys; params, tags, links,
artifacts and ends are set, not added), so progress is an offset and a pass stopped anywhere
resumes from it. A pass stops at the first line the server cannot take now (it is down, busy or
refused the token); a line it refuses for good (a param another process set differently, a run
it does not know) is set aside in ``<journal>.rejected`` rather than blocking the rest.

``send_journal`` is one pass over one journal (a running run's sender makes them, see
``run_journal``); ``sync_journals`` (``parity runs sync``) delivers the journals whose
processes ended.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from parity.core.errors import AccessDenied, DatabaseBusy, ParityError, StorageError, UsageError
from parity.core.run import Artifact, DataLink, RunStatus
from parity.tracking.columns import points_of
from parity.tracking.journal import (
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
    first_rejection: str | None = None  # why the server refused the first line it refused

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "journal": self.journal,
            "entries": self.entries,
            "points": self.points,
            "rejected": self.rejected,
            "error": self.error,
            "done": self.done,
            "first_rejection": self.first_rejection,
        }


def _first_line_end(path: Path) -> int:
    entries = read_entries(path, 0, 64 << 10)
    return entries[0].end if entries else 0


def send_journal(path: Path, store: RunWriter, run_id: str) -> Delivery:
    """Send the lines of ``path`` the server does not have yet, in order, recording progress
    after each; stop at the first line the server cannot take now."""
    offset = max(sent_offset(path), _first_line_end(path))
    sent = points = rejected = 0
    first: str | None = None
    while entries := read_entries(path, offset):
        for entry in entries:
            try:
                points += apply_entry(store, run_id, entry.document)
            except TRANSIENT as exc:
                return Delivery(
                    run_id, str(path), sent, points, rejected, str(exc), first_rejection=first
                )
            except (ParityError, KeyError, TypeError, ValueError) as exc:
                record_rejected(path, entry.document, f"{type(exc).__name__}: {exc}")
                rejected += 1
                first = first or (exc.message if isinstance(exc, ParityError) else str(exc))
            offset = entry.end
            sent += 1
            record_sent(path, offset)
    return Delivery(run_id, str(path), sent, points, rejected, done=True, first_rejection=first)


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
