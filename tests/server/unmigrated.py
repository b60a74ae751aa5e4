"""Databases at another schema than this Parity's, as an upgrade or a downgrade leaves them."""

from __future__ import annotations

import sqlalchemy as sa

# What the accounts migrations (a001, a002) create, dropped in the order a downgrade drops them.
_ACCOUNT_TABLES = ("write_log", "leases", "grants", "tokens", "users")


def unapply_accounts_migration(url: str) -> None:
    """Leave the database at ``url`` as a Parity before the accounts migrations left it: the
    accounts tables gone and the accounts head (a002) no longer stamped (``parity server
    migrate`` restores)."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            for table in _ACCOUNT_TABLES:
                connection.execute(sa.text(f"DROP TABLE {table}"))
            connection.execute(sa.text("DELETE FROM alembic_version WHERE version_num = 'a002'"))
    finally:
        engine.dispose()


def stamp_newer_revision(url: str) -> None:
    """Mark the database at ``url`` as written by a newer Parity (a revision it does not know)."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("INSERT INTO alembic_version VALUES ('z999')"))
    finally:
        engine.dispose()
