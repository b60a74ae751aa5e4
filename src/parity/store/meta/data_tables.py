"""Tables of data versioning: where each stored chunk is, and which packs Parity wrote.

The chunk index lets a new data version store only the chunks no earlier version stored. It
describes the workspace's object store, so a chunk's pack is checked to exist before it is
trusted (a team database may outlive one person's local objects).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table

from parity.core.references import Target
from parity.store.meta.schema import ColumnReference, metadata

data_chunks = Table(
    "data_chunks",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("pack", String(64), nullable=False),
    Column("offset", BigInteger, nullable=False),
    Column("stored", Integer, nullable=False),
    Column("size", Integer, nullable=False),
    Index("ix_data_chunks_pack", "pack"),
)

# Every pack written, so gc can find packs that no data version reaches any more.
data_packs = Table(
    "data_packs",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("created_ms", BigInteger, nullable=False),
)

# The index only says where a chunk is: what keeps a pack alive is a data version naming it.
REFERENCE_COLUMNS = (ColumnReference(data_chunks.c.pack, Target.PACK),)
PLAIN_COLUMNS: tuple[Column[Any], ...] = (data_chunks.c.digest, data_packs.c.digest)
