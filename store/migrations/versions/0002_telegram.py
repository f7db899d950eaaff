"""telegram chats and answered updates

Revision ID: 0002_telegram
Revises: 0001
Create Date: 2026-11-23 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.types

revision = "0002_telegram"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "telegram_chats",
        sa.Column("chat_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("first_seen_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("next_send_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("unreachable_since", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("unreachable_reason", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("chat_id", name=op.f("pk_telegram_chats")),
    )
    op.create_table(
        "telegram_updates",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("chat_id", sa.String(length=32), nullable=False),
        sa.Column("answered_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_telegram_updates")),
    )


def downgrade() -> None:
    op.drop_table("telegram_updates")
    op.drop_table("telegram_chats")
