"""the outbox's coalesce key: a notice that stands until it is sent (a bidder's outbid notice on a
lot), replaced in its row by a later one written while it waits, or withdrawn

Revision ID: 0021_outbox_coalesce_key
Revises: 0020_outbox_index
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021_outbox_coalesce_key"
down_revision = "0020_outbox_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("coalesce_key", sa.String(80), nullable=True))
        batch_op.create_index(
            "ix_outbox_coalesce",
            ["coalesce_key"],
            unique=False,
            sqlite_where=sa.text("coalesce_key IS NOT NULL"),
            postgresql_where=sa.text("coalesce_key IS NOT NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_coalesce")
        batch_op.drop_column("coalesce_key")
