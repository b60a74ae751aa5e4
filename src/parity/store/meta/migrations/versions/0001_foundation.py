"""Foundation: the index of stored records.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "records",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("label", sa.Text, nullable=True),
    )
    op.create_index("ix_records_kind_created", "records", ["kind", "created_ms"])


def downgrade() -> None:
    op.drop_index("ix_records_kind_created", table_name="records")
    op.drop_table("records")
