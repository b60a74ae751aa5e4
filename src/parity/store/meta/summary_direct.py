"""What ``parity status`` reports of the metadata store itself, read with the stdlib
``sqlite3``: the schema revisions stamped and the indexed records by kind (as
``MetadataStore.schema_revisions`` and ``count_records``), without SQLAlchemy."""

from __future__ import annotations

import sqlite3


def schema_revisions(connection: sqlite3.Connection) -> list[str]:
    return sorted(
        str(row[0]) for row in connection.execute("SELECT version_num FROM alembic_version")
    )


def count_records(connection: sqlite3.Connection) -> dict[str, int]:
    query = "SELECT kind, count(*) FROM records GROUP BY kind"
    return {str(kind): int(count) for kind, count in connection.execute(query)}
