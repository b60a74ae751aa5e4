"""Database errors as Parity errors: one line each, and contention told apart by its code.

Contention is decided from the driver's error code, never from the text: SQLite's busy and
locked codes (extended codes included), PostgreSQL's serialization failure, deadlock and
lock-not-available states. Everything else (a disk I/O error, a missing table, a refused
connection) is not worth retrying and is reported at once.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from parity.core.errors import ConflictError, DatabaseBusy, ParityError, StorageError

if TYPE_CHECKING:
    from sqlalchemy.exc import SQLAlchemyError

_SQLITE_BUSY_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})
_POSTGRES_BUSY_STATES = frozenset({"40001", "40P01", "55P03"})


def is_contention(error: BaseException) -> bool:
    """Whether the driver error ``error`` says other writers held the database."""
    code = getattr(error, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in _SQLITE_BUSY_CODES  # the low byte is the primary code
    return getattr(error, "sqlstate", None) in _POSTGRES_BUSY_STATES


def first_line(error: BaseException) -> str:
    """The headline of a driver message (psycopg puts its hint and detail on further lines)."""
    lines = str(error).strip().splitlines()
    return lines[0].strip() if lines else type(error).__name__


def translate(exc: SQLAlchemyError, where: str) -> ParityError:
    """The ParityError to raise for ``exc``, raised against the database at ``where``."""
    # Handling one of SQLAlchemy's errors, so it is loaded already.
    from sqlalchemy.exc import (  # lazy: the stdlib sqlite3 path (sqlite_error) must not load it
        DBAPIError,
        IntegrityError,
    )

    orig = exc.orig if isinstance(exc, DBAPIError) else None
    if orig is not None and is_contention(orig):
        return DatabaseBusy(
            f"the database at {where} is busy with other writers",
            hint="try again in a moment",
        )
    if isinstance(exc, IntegrityError):
        return ConflictError(
            f"the change clashes with what is stored: {first_line(orig or exc)}",
            hint="reload and try again",
        )
    return StorageError(
        f"database error on {where}: {first_line(orig or exc)}",
        hint="check that the database is reachable and healthy",
    )


def sqlite_error(exc: sqlite3.Error, where: str) -> ParityError:
    """The ParityError for an error of a stdlib ``sqlite3`` connection (``store.meta.direct``),
    told apart as ``translate`` tells SQLAlchemy's: contention, a clash, anything else."""
    if is_contention(exc):
        return DatabaseBusy(
            f"the database at {where} is busy with other writers",
            hint="try again in a moment",
        )
    if isinstance(exc, sqlite3.IntegrityError):
        return ConflictError(
            f"the change clashes with what is stored: {first_line(exc)}",
            hint="reload and try again",
        )
    return StorageError(
        f"database error on {where}: {first_line(exc)}",
        hint="check that the database is reachable and healthy",
    )
