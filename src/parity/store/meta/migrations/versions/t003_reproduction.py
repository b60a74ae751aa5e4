"""Reproducibility: how each run started, the seeds it logged, and which runs reproduced which.

Runs recorded before this revision have no launch row and no seeds: they read back with
``launch`` None, and ``parity repro`` runs them from the repository root.

Revision ID: t003
Revises: t002
Create Date: 2026-12-10
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "t003"
down_revision: str | Sequence[str] | None = "t002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "run_launches",
        sa.Column("run_id", sa.String(32), primary_key=True),
        sa.Column("launch", sa.Text, nullable=False),
    )
    op.create_table(
        "run_seeds",
        sa.Column("run_id", sa.String(32), primary_key=True),
        sa.Column("key", sa.String(250), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "reproductions",
        sa.Column("run_id", sa.String(32), primary_key=True),
        sa.Column("original_id", sa.String(32), nullable=False),
        sa.Column("verdict", sa.String(32), nullable=False),
        sa.Column("report_digest", sa.String(64), nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_reproductions_original", "reproductions", ["original_id", "created_ms"])


def downgrade() -> None:
    op.drop_index("ix_reproductions_original", table_name="reproductions")
    op.drop_table("reproductions")
    op.drop_table("run_seeds")
    op.drop_table("run_launches")
