"""Serving and monitoring: the sampled prediction log and data profiles.

Revision ID: s001
Revises: r001
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s001"
down_revision: str | Sequence[str] | None = "r001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "prediction_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("time_ms", sa.BigInteger, nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("environment_id", sa.String(64), nullable=True),
        sa.Column("data_version", sa.String(64), nullable=True),
        sa.Column("inputs", sa.Text, nullable=False),
        sa.Column("prediction", sa.Text, nullable=False),
    )
    op.create_index(
        "ix_prediction_log_model_time", "prediction_log", ["model", "version", "time_ms"]
    )
    op.create_table(
        "data_profiles",
        sa.Column("data_version", sa.String(64), primary_key=True),
        sa.Column("profile_id", sa.String(64), nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("data_profiles")
    op.drop_table("prediction_log")
