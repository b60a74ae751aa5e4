"""Engines for the metadata store: SQLite (WAL, explicit transactions) or PostgreSQL (psycopg 3)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from parity.core.errors import StorageError, UsageError
from parity.store.meta.direct import SQLITE_BUSY_TIMEOUT_MS
from parity.store.meta.errors import is_contention

# Execution option that makes a SQLite transaction take the write lock at BEGIN, so two writers
# wait for each other (busy_timeout) instead of failing when a reader upgrades to a writer.
WRITE_OPTION = "parity_write"


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def create_metadata_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise UsageError(
            f"cannot read database URL {url!r}",
            hint="use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB",
        ) from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, parsed.database)
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        try:
            # Read committed whatever the server's default: a change that waited for a row
            # lock (SELECT ... FOR UPDATE) must then read what the holder committed.
            return create_engine(
                parsed,
                pool_pre_ping=True,
                pool_size=5,
                max_overflow=10,
                isolation_level="READ COMMITTED",
            )
        except (NoSuchModuleError, ImportError) as exc:
            raise UsageError(
                "PostgreSQL support is not installed", hint="pip install 'parity-ml[postgres]'"
            ) from exc
    raise UsageError(
        f"unsupported database {backend!r}",
        hint="use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB",
    )


def _sqlite_engine(url: str, database: str | None) -> Engine:
    if database and database != ":memory:":
        folder = Path(database).parent
        if not folder.is_dir():
            raise StorageError(
                f"folder {folder} for the database does not exist",
                hint="run 'parity init' or fix the database URL",
            )
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's begin event issue BEGIN itself (pysqlite's implicit BEGIN skips DDL).
        dbapi_connection.isolation_level = None
        _use_wal(dbapi_connection)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        write = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _use_wal(dbapi_connection: Any) -> None:
    """Put the database in WAL mode (a lasting property of the file, so usually already set).

    Switching a new database needs it to itself, and SQLite answers "database is locked" at
    once, without its busy wait, when another connection opens it at the same moment (two
    commands on a fresh workspace): so the switch is retried until the busy timeout."""
    cursor = dbapi_connection.cursor()
    try:
        (mode,) = cursor.execute("PRAGMA journal_mode").fetchone()
        if str(mode).lower() == "wal":
            return
        deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                cursor.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if not is_contention(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.005)
    finally:
        cursor.close()
