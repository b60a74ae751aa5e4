"""Stdlib ``sqlite3`` access to an embedded metadata database, for the commands whose whole work
is a few statements: SQLAlchemy's import alone (~110 ms) costs more than they do.

Only a database stamped exactly with this Parity's ``HEADS`` is opened; anything else (missing,
older, newer, not a Parity database) gives ``None`` and the caller goes through the full
metadata store, which migrates or refuses with its own message. The connection is set up as the
full store's engine sets up its own (WAL, busy timeout, foreign keys), so both can be used on
the same file at once.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from parity.store.meta.migrations import HEADS

SQLITE_BUSY_TIMEOUT_MS = 60_000


def open_direct_sqlite(path: Path, *, write: bool = False) -> sqlite3.Connection | None:
    """A connection to the database file at ``path`` if it is at exactly this Parity's schema.

    Read-only unless ``write``: a reader cannot create the file or change it by mistake. The
    connection is in autocommit mode; a writer opens its own ``BEGIN IMMEDIATE``.
    """
    if not path.is_file():
        return None
    mode = "rw" if write else "ro"
    try:
        connection = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode={mode}",
            uri=True,
            timeout=SQLITE_BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
            check_same_thread=False,
        )
    except sqlite3.Error:
        return None
    try:
        connection.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        connection.execute("PRAGMA foreign_keys=ON")
        if write:
            connection.execute("PRAGMA synchronous=NORMAL")
        (journal,) = connection.execute("PRAGMA journal_mode").fetchone()
        stamped = {row[0] for row in connection.execute("SELECT version_num FROM alembic_version")}
    except sqlite3.Error:
        connection.close()
        return None
    if str(journal).lower() != "wal" or stamped != set(HEADS):
        connection.close()
        return None
    return connection
