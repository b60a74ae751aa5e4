"""Feedback: request ids on logged predictions, ground-truth labels, performance checks.

Revision ID: s002
Revises: s001
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s002"
down_revision: str | Sequence[str] | None = "s001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("prediction_log", sa.Column("request_id", sa.String(64), nullable=True))
    op.add_column("prediction_log", sa.Column("row_index", sa.Integer, nullable=True))
    op.create_index("ix_prediction_log_request", "prediction_log", ["model", "request_id"])
    op.create_table(
        "prediction_labels",
        sa.Column("model", sa.String(200), primary_key=True),
        sa.Column("request_id", sa.String(64), primary_key=True),
        sa.Column("row_index", sa.Integer, primary_key=True),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("time_ms", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "performance_checks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("time_ms", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("report", sa.Text, nullable=False),
    )
    op.create_index("ix_performance_checks_model", "performance_checks", ["model", "version", "id"])


def downgrade() -> None:
    op.drop_table("performance_checks")
    op.drop_table("prediction_labels")
    op.drop_index("ix_prediction_log_request", "prediction_log")
    with op.batch_alter_table("prediction_log") as batch:
        batch.drop_column("row_index")
        batch.drop_column("request_id")
