"""Deployment: what runs where, and the exports filed under each model version.

Revision ID: p001
Revises: r001
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "p001"
down_revision: str | Sequence[str] | None = "r001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "deployments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("place", sa.String(200), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("model_id", sa.String(64), nullable=False),
        sa.Column("environment_id", sa.String(64), nullable=True),
        sa.Column("image", sa.Text, nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("recorded_ms", sa.BigInteger, nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("note", sa.Text, nullable=True),
    )
    op.create_index("ix_deployments_place_name", "deployments", ["place", "name", "id"])
    op.create_index("ix_deployments_model", "deployments", ["name", "version"])
    op.create_table(
        "model_exports",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("export_id", sa.String(64), primary_key=True),
        sa.Column("target", sa.String(32), nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("model_exports")
    op.drop_index("ix_deployments_model", table_name="deployments")
    op.drop_index("ix_deployments_place_name", table_name="deployments")
    op.drop_table("deployments")
