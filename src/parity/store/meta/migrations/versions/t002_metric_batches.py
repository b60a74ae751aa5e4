"""Metric chunks carry their writer's batch key, unique per run and metric key.

A batch written again after a commit whose outcome was unknown is then stored once. Rows written
before this revision keep a NULL key: NULLs never clash in a unique index (SQLite, PostgreSQL).

Revision ID: t002
Revises: t001
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "t002"
down_revision: str | Sequence[str] | None = "t001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("run_metric_chunks", sa.Column("batch", sa.String(32), nullable=True))
    op.create_index(
        "ix_run_metric_chunks_batch",
        "run_metric_chunks",
        ["run_id", "key", "batch"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("ix_run_metric_chunks_batch", table_name="run_metric_chunks")
    with op.batch_alter_table("run_metric_chunks") as batch:
        batch.drop_column("batch")
