"""Tables of the metadata store (SQLAlchemy Core). Migrations under ``migrations/`` create them.

Times are integer milliseconds since the epoch (UTC): portable, compact and fast to compare.
Each capability keeps its tables in its own module beside this one; all share ``metadata``.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, MetaData, String, Table, Text

metadata = MetaData()

# Every immutable record Parity has stored in the object store, so records can be listed and
# named by id prefix without scanning the object store.
records = Table(
    "records",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("label", Text, nullable=True),
    Index("ix_records_kind_created", "kind", "created_ms"),
)
