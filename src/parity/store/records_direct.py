"""One record's index row written with stdlib ``sqlite3``, for commands whose only database work
it is (``parity env capture`` in a workspace): SQLAlchemy's import costs more than the capture.

Only a database ``store.meta.direct`` opens (the workspace's own file, exactly at this Parity's
schema) is written here; for anything else the caller goes through the metadata store. The row
and its transaction are the ones ``MetadataStore.index_records`` writes: one ``BEGIN
IMMEDIATE`` … ``COMMIT``, an id already indexed skipped.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from parity.store.meta.direct import open_direct_sqlite
from parity.store.meta.errors import sqlite_error

_INSERT_RECORD = (
    "INSERT INTO records (id, kind, created_ms, label) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (id) DO NOTHING"
)


def index_record_direct(database: Path, entry: tuple[str, str, int, str | None]) -> bool:
    """Index ``entry`` (id, kind, created_ms, label) in ``database``; False, having written
    nothing, when the database is not one to write directly."""
    connection = open_direct_sqlite(database, write=True)
    if connection is None:
        return False
    try:
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.execute(_INSERT_RECORD, entry)
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
    except sqlite3.Error as exc:
        raise sqlite_error(exc, str(database)) from exc
    finally:
        connection.close()
    return True
