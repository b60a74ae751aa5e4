"""Code states in the metadata store: what each code state record says, beside the runs.

Listing and showing runs then reads the database alone, never the object store (an S3 GET per
run in team mode). The record in the object store stays the source of truth; a row is its copy.
Runs recorded before this revision have no row: the first read of such a run copies the record
into the table.

Revision ID: t004
Revises: t003
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "t004"
down_revision: str | Sequence[str] | None = "t003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "code_states",
        sa.Column("code_id", sa.String(64), primary_key=True),
        sa.Column("commit", sa.String(64), nullable=True),
        sa.Column("branch", sa.Text, nullable=True),
        sa.Column("dirty", sa.Boolean, nullable=False),
        sa.Column("diff_digest", sa.String(64), nullable=True),
        sa.Column("document", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("code_states")
