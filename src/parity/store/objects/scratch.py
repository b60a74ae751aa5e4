"""Temp files in a store's scratch folder, and the sweep that removes those a killed process left.

A process killed mid-write (SIGKILL, a crash, a power cut) cannot delete its temp files: an add
left 161 MB of ``.pack-*`` behind after two kills, a push 201 MB of ``.transfer-*``. Telling
such leftovers from the temp files of a command still running needs no clock guess: each temp
file is created with a shared ``flock`` held until it is renamed into place or deleted, and
the kernel drops that lock when its process dies. A sweep deletes only files it can lock
exclusively (nobody holds a lock on them) and that were last written before the sweep began
(so even a file made an instant before its lock is taken is safe).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from parity.core.file_errors import file_error

# Names Parity gives its temp files. In a folder shared with other programs (the system temp
# folder an S3 store uses), nothing else is ever looked at.
_OURS = re.compile(r"^\.(?:pack|put|get|tmp|transfer)-[a-z0-9_]{8}$|^\.transfer-[0-9a-f]{32}$")
_LETTERS = "abcdefghijklmnopqrstuvwxyz0123456789_"
# A file written this recently may be one whose creator has not taken its lock yet.
_SETTLE_NS = 2_000_000_000


def new_file(folder: Path, prefix: str, mode: int = 0o666) -> tuple[int, Path]:
    """A new file ``prefix`` + 8 random characters in ``folder``, open for reading and writing.

    Created with ``mode`` less the process umask, as any program's new file is (``mkstemp``
    would make it 0600 whatever the user asked for).
    """
    for _ in range(100):
        name = prefix + "".join(secrets.choice(_LETTERS) for _ in range(8))
        path = folder / name
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
        except FileExistsError:
            continue
        return fd, path
    raise FileExistsError(errno.EEXIST, "no unused temp file name", str(folder))


def umask() -> int:
    """The process umask, read without setting it (``os.umask`` sets it, for every thread)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # not Linux: the classic way, briefly
    os.umask(mask)
    return mask


def create(folder: Path, prefix: str) -> tuple[int, Path]:
    """A new temp file in the scratch ``folder``, locked until its fd is closed.

    Keep the fd open until the file is renamed into place or deleted: the lock is what tells a
    sweep the file is still in use.
    """
    try:
        fd, path = new_file(folder, prefix)
    except OSError as exc:
        raise file_error(exc, folder, "create a temp file in") from exc
    with contextlib.suppress(OSError):  # no locks here (some network file systems): never swept
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    return fd, path


def relock(path: Path, held: int) -> int:
    """Lock the file now at ``path`` and let go of ``held``: for a temp file that a library
    replaced by renaming its own download over it (boto3 does), which the old lock no longer
    covers. Returns the fd to keep open."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    with contextlib.suppress(OSError):
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    os.close(held)
    return fd


def hold(path: Path) -> int:
    """An fd locking the file at ``path`` as in use (for a temp name hard-linked to it)."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    with contextlib.suppress(OSError):
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    return fd


def unused_name(folder: Path, prefix: str) -> Path:
    """A name for a temp file made by another call (``os.link``), in the sweep's pattern."""
    return folder / (prefix + "".join(secrets.choice(_LETTERS) for _ in range(8)))


@dataclass
class Leftovers:
    """Temp files no running process holds, and their total size."""

    files: list[Path] = field(default_factory=list)
    bytes: int = 0


def leftovers(folder: Path, started_ns: int | None = None) -> Leftovers:
    """Temp files of Parity's in ``folder`` that no process holds and that were last written
    before ``started_ns`` (default: now)."""
    before = (time.time_ns() if started_ns is None else started_ns) - _SETTLE_NS
    found = Leftovers()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return found  # no scratch folder, or not ours to read: nothing to sweep
    for entry in entries:
        if not _OURS.match(entry.name):
            continue
        try:
            stat = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not entry.is_file(follow_symlinks=False) or stat.st_mtime_ns >= before:
            continue
        if _unused(entry.path):
            found.files.append(Path(entry.path))
            found.bytes += stat.st_size
    return found


def sweep(folder: Path, started_ns: int | None = None) -> Leftovers:
    """Delete what ``leftovers`` finds (checking each file's lock again as it goes)."""
    removed = Leftovers()
    for path in leftovers(folder, started_ns).files:
        size = _remove_if_unused(path)
        if size is not None:
            removed.files.append(path)
            removed.bytes += size
    return removed


def _unused(path: str) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False  # held by a running process (or locks unsupported: leave it)
    finally:
        os.close(fd)
    return True


def _remove_if_unused(path: Path) -> int | None:
    """Delete ``path`` while holding its lock, so no process can have taken it meanwhile."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        size = os.fstat(fd).st_size
        path.unlink()
    except OSError:
        return None
    finally:
        os.close(fd)
    return size
