"""Bring a database to this Parity's schema on open: fast when current, safe when not.

The fast path reads the stamped revisions and compares them with ``HEADS``; only when they differ
is Alembic imported. Upgrades run under a lock (a file lock for SQLite, an advisory lock for
PostgreSQL) so two processes opening a new database at once do not race. A database stamped with
a revision this Parity does not know was written by a newer Parity and is refused.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Connection, Engine, inspect, text

from parity.core.errors import ConflictError
from parity.store.meta.migrations import HEADS

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version"
_PG_LOCK_KEY = 0x5041524954590001  # "PARITY" + 1, any constant shared by all Parity processes


def stamped_revisions(connection: Connection) -> set[str]:
    if not inspect(connection).has_table(VERSION_TABLE):
        return set()
    rows = connection.execute(text("SELECT version_num FROM alembic_version"))
    return {row[0] for row in rows}


def check_revisions(current: set[str], where: str) -> None:
    """Refuse a database stamped other than with ``HEADS``, naming what to do: a server's
    database changes only through 'parity server migrate', so two versions of Parity serving
    one database cannot race to change it."""
    expected = set(HEADS)
    if current == expected:
        return
    if current - expected and not (expected - current):
        raise ConflictError(
            f"the database at {where} has a newer schema "
            f"({', '.join(sorted(current - expected))}) than this Parity knows",
            hint="upgrade Parity on this server: pip install -U 'parity-ml[server]'",
        )
    missing = ", ".join(sorted(expected - current)) or "none"
    raise ConflictError(
        f"the database at {where} is not at this Parity's schema (missing {missing})",
        hint="run 'parity server migrate' once, then start the server",
    )


def ensure_schema(engine: Engine) -> None:
    with engine.connect() as connection:
        current = stamped_revisions(connection)
        connection.rollback()
    if current == set(HEADS):
        return
    with _migration_lock(engine):
        _upgrade(engine)


def _upgrade(engine: Engine) -> None:
    from alembic import (
        command,
    )  # lazy: Alembic (~100 ms) loads only when the schema is checked or migrated
    from alembic.config import (
        Config,
    )  # lazy: Alembic (~100 ms) loads only when the schema is checked or migrated
    from alembic.script import (
        ScriptDirectory,
    )  # lazy: Alembic (~100 ms) loads only when the schema is checked or migrated

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(config)
    known = {revision.revision for revision in script.walk_revisions()}
    with engine.begin() as connection:
        current = stamped_revisions(connection)
        unknown = current - known
        if unknown:
            raise ConflictError(
                "this database was written by a newer Parity "
                f"(schema {', '.join(sorted(unknown))})",
                hint="upgrade Parity: pip install -U parity-ml",
            )
        if current == set(HEADS):
            return
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")


@contextlib.contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _PG_LOCK_KEY})
            connection.commit()
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _PG_LOCK_KEY})
                connection.commit()
        return
    database = engine.url.database
    if not database or database == ":memory:":
        yield
        return
    with open(f"{database}.lock", "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
