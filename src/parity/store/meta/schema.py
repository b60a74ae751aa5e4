"""Tables of the metadata store (SQLAlchemy Core). Migrations under ``migrations/`` create them.

Times are integer milliseconds since the epoch (UTC): portable, compact and fast to compare.
Each capability keeps its tables in its own module beside this one; all share ``metadata``.

Each table module also declares, below its tables, what every column that can hold text or bytes
holds: ``REFERENCE_COLUMNS`` name something else by id (gc keeps what data-version columns name),
``PLAIN_COLUMNS`` name nothing by id (names, keys, values, JSON, a row's own id). Every id in
Parity is text, so number and boolean columns need no entry. ``parity.store.meta.references``
gathers them; ``tests/store/test_reference_columns.py`` fails on a column in neither list.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import BigInteger, Column, Index, MetaData, String, Table, Text

from parity.core.references import Target

metadata = MetaData()


class ColumnReference(NamedTuple):
    column: Column[Any]
    target: Target


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

REFERENCE_COLUMNS: tuple[ColumnReference, ...] = ()
# The label is for people (a profile's or validation's label is its data version, but the
# record's body is what references it).
PLAIN_COLUMNS: tuple[Column[Any], ...] = (records.c.id, records.c.kind, records.c.label)
