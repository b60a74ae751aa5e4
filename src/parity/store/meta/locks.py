"""Named exclusive locks beside the metadata store, held for a block of work that spans many
transactions (an add's chunk-index lookups through its index write).

On PostgreSQL: a session advisory lock, so every machine sharing the database is shut out. On
SQLite: ``flock`` on ``<database>.<name>.lock`` beside the file, so every process on the machine
is. Both are released by the kernel or the server when the holder dies (the file closes, the
session ends), so a killed process never leaves a lock behind. A second holder waits, without a
time limit: what these locks guard takes minutes at most.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from parity.core.file_errors import file_error

if TYPE_CHECKING:
    from sqlalchemy import Engine

_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
# A database with no file (SQLite in memory) is private to this process: a lock per name here.
_IN_PROCESS: dict[str, threading.Lock] = {}
_IN_PROCESS_GUARD = threading.Lock()


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ValueError(f"lock name {name!r} must be lowercase letters, digits and dashes")
    return name


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for ``name`` (the same on every machine and Python)."""
    digest = hashlib.blake2b(f"parity:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextlib.contextmanager
def advisory_lock(engine: Engine, name: str) -> Iterator[None]:
    """Hold PostgreSQL's session advisory lock for ``name`` on a connection kept for the block."""
    from sqlalchemy import text  # lazy: SQLite's file lock (data.index_direct) must not load it

    key = advisory_key(name)
    # Autocommit: the session holds the lock, and no transaction stays open (idle in
    # transaction) for the minutes the block may take.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
        try:
            yield
        finally:
            try:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            except BaseException:
                # The pool must not hand out a session that may still hold the lock.
                connection.invalidate()
                raise


@contextlib.contextmanager
def file_lock(database: str | None, name: str) -> Iterator[None]:
    """Hold ``flock`` on ``<database>.<name>.lock`` (created if need be) for the block."""
    if not database or database == ":memory:":
        with _IN_PROCESS_GUARD:
            lock = _IN_PROCESS.setdefault(name, threading.Lock())
        with lock:
            yield
        return
    path = Path(f"{database}.{name}.lock")
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
    except OSError as exc:
        raise file_error(exc, path, "lock") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
