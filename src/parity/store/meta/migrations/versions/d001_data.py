"""Data versioning: the chunk index and the list of packs.

Revision ID: d001
Revises: 0001
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d001"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "data_chunks",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("pack", sa.String(64), nullable=False),
        sa.Column("offset", sa.BigInteger, nullable=False),
        sa.Column("stored", sa.Integer, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
    )
    op.create_index("ix_data_chunks_pack", "data_chunks", ["pack"])
    op.create_table(
        "data_packs",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("data_packs")
    op.drop_index("ix_data_chunks_pack", table_name="data_chunks")
    op.drop_table("data_chunks")
