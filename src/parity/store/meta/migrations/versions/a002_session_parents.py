"""Sessions: a web UI session token records the token it was signed in with, so revoking that
token (or changing the user's password) ends the session too.

Revision ID: a002
Revises: a001
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a002"
down_revision: str | Sequence[str] | None = "a001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tokens") as batch:
        batch.add_column(sa.Column("parent_id", sa.String(32), nullable=True))
        batch.add_column(
            sa.Column("session", sa.Boolean, nullable=False, server_default=sa.false())
        )
    op.create_index("ix_tokens_parent", "tokens", ["parent_id"])


def downgrade() -> None:
    op.drop_index("ix_tokens_parent", "tokens")
    with op.batch_alter_table("tokens") as batch:
        batch.drop_column("session")
        batch.drop_column("parent_id")
