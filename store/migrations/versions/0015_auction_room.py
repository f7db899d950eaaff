"""Auction rooms: who is in a period's room, what happened there still to be told, and the edit slot of a Telegram chat (about 20
edits a minute)

Revision ID: 0015_auction_room
Revises: 0013_settlement
Create Date: 2026-12-06 23:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.types

revision = "0015_auction_room"
down_revision = "0013_settlement"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "auction_room_members",
        sa.Column("signup_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"]),
        sa.ForeignKeyConstraint(["period_id"], ["auction_periods.id"]),
        sa.ForeignKeyConstraint(["signup_id"], ["auction_signups.id"]),
        sa.PrimaryKeyConstraint("signup_id"),
    )
    op.create_index(
        "ix_auction_room_members_period", "auction_room_members", ["period_id"], unique=False
    )
    op.create_table(
        "auction_room_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("signup_id", sa.Integer(), nullable=False),
        sa.Column("leader_signup_id", sa.Integer(), nullable=True),
        sa.Column("price_fen", sa.BigInteger(), nullable=True),
        sa.Column("max_fen", sa.BigInteger(), nullable=True),
        sa.Column("at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("telegram_chats", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("next_edit_at", store.types.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("telegram_chats", schema=None) as batch_op:
        batch_op.drop_column("next_edit_at")
    op.drop_table("auction_room_changes")
    op.drop_index("ix_auction_room_members_period", table_name="auction_room_members")
    op.drop_table("auction_room_members")
