"""Errors of the stdlib ``sqlite3`` readers as Parity errors, worded as ``errors.translate``
words the store's (that module imports SQLAlchemy; these readers exist to avoid it)."""

from __future__ import annotations

import sqlite3

from parity.core.errors import DatabaseBusy, ParityError, StorageError

_BUSY_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})


def translate_sqlite(error: sqlite3.Error, where: str) -> ParityError:
    """The ParityError to raise for ``error``, met reading the database at ``where``."""
    code = getattr(error, "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF in _BUSY_CODES:  # the low byte: the primary code
        return DatabaseBusy(
            f"the database at {where} is busy with other writers", hint="try again in a moment"
        )
    lines = str(error).strip().splitlines()
    headline = lines[0].strip() if lines else type(error).__name__
    return StorageError(
        f"database error on {where}: {headline}",
        hint="check that the database is reachable and healthy",
    )
