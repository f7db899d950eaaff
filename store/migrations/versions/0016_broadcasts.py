"""staff broadcasts, and the outbox rows that are their deliveries

Revision ID: 0016_broadcasts
Revises: 0015_auction_room
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.types

revision = "0016_broadcasts"
down_revision = "0015_auction_room"
branch_labels = None
depends_on = None

_SCHEDULED = sa.text("state = 'scheduled'")
_OF_BROADCAST = sa.text("broadcast_id IS NOT NULL")


def upgrade() -> None:
    op.create_table(
        "broadcasts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("text_zh", sa.Text(), nullable=False),
        sa.Column("text_en", sa.Text(), nullable=False),
        sa.Column("audience_kind", sa.String(length=32), nullable=False),
        sa.Column("region_code", sa.String(length=4), nullable=True),
        sa.Column("period_id", sa.Integer(), nullable=True),
        sa.Column("phones", sa.JSON(), nullable=False),
        sa.Column("channels", sa.String(length=32), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("send_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("started_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("paused_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_broadcasts")),
    )
    op.create_index(
        "ix_broadcasts_scheduled",
        "broadcasts",
        ["send_at"],
        unique=False,
        postgresql_where=_SCHEDULED,
        sqlite_where=_SCHEDULED,
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("broadcast_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            "ix_outbox_broadcast",
            ["broadcast_id", "status"],
            unique=False,
            sqlite_where=_OF_BROADCAST,
            postgresql_where=_OF_BROADCAST,
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_broadcast")
        batch_op.drop_column("broadcast_id")
    op.drop_index("ix_broadcasts_scheduled", table_name="broadcasts")
    op.drop_table("broadcasts")
