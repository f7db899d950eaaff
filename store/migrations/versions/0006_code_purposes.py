"""One-time codes belong to the chat that asked for them: requester and vouched columns

Revision ID: 0006_code_purposes
Revises: 0003_housekeeping
Create Date: 2026-12-06 20:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_code_purposes"
down_revision = "0005_duplicates_by_sender"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("one_time_codes") as batch:
        batch.add_column(sa.Column("requester", sa.String(100), nullable=False, server_default=""))
        batch.add_column(
            sa.Column("vouched", sa.Boolean, nullable=False, server_default=sa.false())
        )
    op.create_index(
        "ix_one_time_codes_requester_created", "one_time_codes", ["requester", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_one_time_codes_requester_created", table_name="one_time_codes")
    with op.batch_alter_table("one_time_codes") as batch:
        batch.drop_column("vouched")
        batch.drop_column("requester")
