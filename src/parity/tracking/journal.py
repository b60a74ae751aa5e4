"""A run's journal: what a run in team mode logged, on local disk until the server has it.

One file per run and process, ``.parity/journal/<run id>.<pid>-<random>.jsonl``: a header line,
then one JSON line per write (params, tags, a batch of metric points with its key, a data link,
an artifact, the run's sources, its end). A line is appended with one ``write`` as the run logs
it, so a killed process loses nothing that reached the file; ``sync`` (fsync) makes it survive
a power loss too (the run calls it every flush interval and at its end).

The process that writes a journal holds an exclusive ``flock`` on it while it runs, so another
process can tell a live journal from one whose process ended (the kernel drops the lock of a
killed process). ``<journal>.sent`` holds the offset up to which the server has the lines; it
is written without fsync on purpose: every line is safe to send twice, so a stale offset costs
a resend, never a loss.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from parity.core.errors import StorageError, UsageError
from parity.core.file_errors import file_error

JOURNAL_FORMAT = 1
JOURNAL_DIR = "journal"
SUFFIX = ".jsonl"
SENT_SUFFIX = ".sent"
REJECTED_SUFFIX = ".rejected"
# The most bytes of lines one read takes into memory (one line may be longer).
READ_BYTES = 8 << 20


@dataclass(frozen=True)
class Entry:
    """One line of a journal and the offset just after it."""

    end: int
    document: dict[str, Any]


class JournalFile:
    """The journal one process writes for one run, locked while open. Safe to append to from
    several threads (a run's own and its metric writer)."""

    def __init__(self, folder: Path, run_id: str, server: str, created_ms: int) -> None:
        self.run_id = run_id
        self.path = folder / f"{run_id}.{os.getpid()}-{os.urandom(4).hex()}{SUFFIX}"
        self.size = 0  # bytes written: every line is whole, so this is where the next starts
        self._dirty = False
        self._lock = threading.Lock()
        # Made under another name, locked, then renamed: a sync never sees it unlocked.
        temp = self.path.with_name(f".{self.path.name}.tmp")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            self._fd: int | None = os.open(
                temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600
            )
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            header = {"journal": JOURNAL_FORMAT, "run_id": run_id, "server": server}
            self.append({**header, "created_ms": created_ms})
            self.sync()
            os.replace(temp, self.path)
        except OSError as exc:
            raise file_error(exc, self.path, "write") from exc

    def append(self, document: Mapping[str, Any]) -> None:
        """Add one line (one ``write``: the kernel has it once this returns)."""
        line = memoryview(orjson.dumps(document) + b"\n")
        with self._lock:
            if self._fd is None:
                raise UsageError(f"the journal {self.path} is closed", hint="start a new run")
            try:
                while line:
                    written = os.write(self._fd, line)
                    self.size += written
                    line = line[written:]
            except OSError as exc:
                raise file_error(exc, self.path, "write") from exc
            self._dirty = True

    def sync(self) -> None:
        """Put what was appended on disk (fsync)."""
        with self._lock:
            if self._fd is not None and self._dirty:
                self._dirty = False
                try:
                    os.fsync(self._fd)
                except OSError as exc:
                    raise file_error(exc, self.path, "write") from exc

    def close(self) -> None:
        """Sync and release the lock; the file stays until everything in it is sent."""
        try:
            self.sync()
        finally:
            with self._lock:
                if self._fd is not None:
                    os.close(self._fd)
                    self._fd = None


def read_entries(path: Path, offset: int, budget: int = READ_BYTES) -> list[Entry]:
    """Whole lines from ``offset`` on, about ``budget`` bytes of them (at least one line).
    A last line without its newline (a write cut short) is not read."""
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            data = handle.read(budget)
            while data and b"\n" not in data:  # one line longer than the budget
                more = handle.read(budget)
                if not more:
                    break
                data += more
    except OSError as exc:
        raise file_error(exc, path, "read") from exc
    complete = data[: data.rfind(b"\n") + 1]
    entries = []
    position = offset
    for line in complete.splitlines(keepends=True):
        position += len(line)
        entries.append(Entry(position, _document(line, path)))
    return entries


def _document(line: bytes, path: Path) -> dict[str, Any]:
    try:
        document = orjson.loads(line)
    except orjson.JSONDecodeError:
        document = None
    if not isinstance(document, dict):
        return {"op": "unreadable", "line": line[:200].decode("utf-8", "replace")}
    return document


def read_header(path: Path) -> dict[str, Any]:
    """The first line of a journal; StorageError when it is not one this Parity writes."""
    entries = read_entries(path, 0, 64 << 10)
    header = entries[0].document if entries else {}
    if header.get("journal") != JOURNAL_FORMAT or not isinstance(header.get("run_id"), str):
        raise StorageError(
            f"{path} is not a run journal this Parity reads",
            hint="move it out of .parity/journal; upgrade Parity if a newer one wrote it",
        )
    return header


def sent_offset(path: Path) -> int:
    """How far the server has the journal (0: nothing sent yet, the header included)."""
    try:
        return int(path.with_name(path.name + SENT_SUFFIX).read_text("ascii").strip() or 0)
    except (OSError, ValueError):
        return 0


def record_sent(path: Path, offset: int) -> None:
    """Remember the sent offset (atomic rename; no fsync: a lost offset means a resend)."""
    target = path.with_name(path.name + SENT_SUFFIX)
    temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        temp.write_text(str(offset), "ascii")
        os.replace(temp, target)
    except OSError as exc:
        raise file_error(exc, target, "write") from exc


def record_rejected(path: Path, document: Mapping[str, Any], error: str) -> None:
    """Keep a line the server refused (with why), beside the journal, for the user to see."""
    target = path.with_name(path.name + REJECTED_SUFFIX)
    try:
        with target.open("ab") as handle:
            handle.write(orjson.dumps({"error": error, "entry": document}) + b"\n")
    except OSError as exc:
        raise file_error(exc, target, "write") from exc


def remove(path: Path) -> None:
    """Delete a journal that is wholly sent, and its offset (a rejected-lines file stays)."""
    for target in (path, path.with_name(path.name + SENT_SUFFIX)):
        with contextlib.suppress(FileNotFoundError):
            target.unlink()


@contextlib.contextmanager
def claimed(path: Path) -> Iterator[bool]:
    """Whether this process got the journal's lock: False while its writer (or another sync)
    holds it. The lock is held until the block ends."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def journals(folder: Path) -> list[Path]:
    """The journal files in ``folder``, oldest first."""
    try:
        found = [p for p in folder.iterdir() if p.name.endswith(SUFFIX)]
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise file_error(exc, folder, "read") from exc
    return sorted(found, key=lambda p: (_mtime(p), p.name))


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


@dataclass(frozen=True)
class Unsent:
    """A journal with lines the server does not have yet."""

    run_id: str
    path: Path
    server: str
    entries: int  # lines not sent yet
    live: bool  # its process is still running (and sending)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "journal": str(self.path),
            "server": self.server,
            "entries": self.entries,
            "live": self.live,
        }


def unsent(folder: Path) -> list[Unsent]:
    """Every journal in ``folder`` with lines not yet sent."""
    found = []
    for path in journals(folder):
        try:
            header = read_header(path)
        except StorageError:
            continue
        waiting = _lines_after(path, max(sent_offset(path), _header_end(path)))
        if waiting:
            with claimed(path) as mine:
                live = not mine
            found.append(Unsent(header["run_id"], path, str(header["server"]), waiting, live))
    return found


def refused(folder: Path) -> list[dict[str, Any]]:
    """The writes servers refused, per journal: run id, how many, the file that keeps them."""
    try:
        found = sorted(p for p in folder.iterdir() if p.name.endswith(SUFFIX + REJECTED_SUFFIX))
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise file_error(exc, folder, "read") from exc
    return [
        {"run_id": path.name.split(".", 1)[0], "writes": _lines_after(path, 0), "file": str(path)}
        for path in found
    ]


def _lines_after(path: Path, offset: int) -> int:
    """Whole lines from ``offset`` on, counted without reading them as JSON."""
    count = 0
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            while block := handle.read(1 << 20):
                count += block.count(b"\n")
    except OSError as exc:
        raise file_error(exc, path, "read") from exc
    return count


def _header_end(path: Path) -> int:
    entries = read_entries(path, 0, 64 << 10)
    return entries[0].end if entries else 0
