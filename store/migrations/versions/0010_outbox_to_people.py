"""Notices addressed to people: contact points, a lane holder per channel, and outbox rows with a dedupe key, a priority,
choices, the live message they replace, and a marker of a send that may have started

Revision ID: 0010_outbox_to_people
Revises: 0009_auctions
Create Date: 2026-12-06 20:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.types

revision = "0010_outbox_to_people"
down_revision = "0009_auctions"
branch_labels = None
depends_on = None

_OPEN = "status IN ('pending', 'sending')"
_LIVE = "live_key IS NOT NULL"
_CHANNEL = sa.Enum("sms", "telegram", name="channel", native_enum=False, length=32)


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("account_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("choices", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("dedupe_key", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("priority", sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column("live_key", sa.String(length=80), nullable=True))
        batch_op.add_column(
            sa.Column("sending_since", store.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("in_doubt", sa.Boolean(), nullable=True))
    # Rows written before: each its own key; codes (the sensitive ones) first.
    op.execute(
        "UPDATE outbox SET dedupe_key = 'outbox:' || CAST(id AS VARCHAR(20)), "
        "priority = CASE WHEN sensitive THEN 0 ELSE 20 END, choices = '[]', in_doubt = false"
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column("choices", existing_type=sa.JSON(), nullable=False)
        batch_op.alter_column("dedupe_key", existing_type=sa.String(length=120), nullable=False)
        batch_op.alter_column("priority", existing_type=sa.SmallInteger(), nullable=False)
        batch_op.alter_column("in_doubt", existing_type=sa.Boolean(), nullable=False)
        batch_op.drop_column("meta")
        batch_op.create_unique_constraint("uq_outbox_dedupe_key", ["dedupe_key"])
        batch_op.create_index(
            "ix_outbox_claim",
            ["channel", "priority", "due_at", "id"],
            unique=False,
            sqlite_where=sa.text(_OPEN),
            postgresql_where=sa.text(_OPEN),
        )
        batch_op.create_index(
            "ix_outbox_live",
            ["channel", "recipient", "live_key"],
            unique=False,
            sqlite_where=sa.text(_LIVE),
            postgresql_where=sa.text(_LIVE),
        )

    op.create_table(
        "dispatch_lanes",
        sa.Column("channel", _CHANNEL, nullable=False),
        sa.Column("holder", sa.String(length=40), nullable=False),
        sa.Column("lease_until", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", name=op.f("pk_dispatch_lanes")),
    )
    op.create_table(
        "contact_points",
        sa.Column("channel", _CHANNEL, nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("linked_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_contact_points_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("channel", "address", name=op.f("pk_contact_points")),
    )
    op.create_index("ix_contact_points_account", "contact_points", ["account_id"], unique=False)
    # Every account's number, and every Telegram chat signed in to an account.
    op.execute(
        "INSERT INTO contact_points (channel, address, account_id, linked_at) "
        "SELECT 'sms', phone, id, created_at FROM accounts"
    )
    op.execute(
        "INSERT INTO contact_points (channel, address, account_id, linked_at) "
        "SELECT 'telegram', user_key, account_id, updated_at FROM conversations "
        "WHERE channel = 'telegram' AND account_id IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_table("dispatch_lanes")
    op.drop_index("ix_contact_points_account", table_name="contact_points")
    op.drop_table("contact_points")
    op.execute("DELETE FROM outbox WHERE live_key IS NOT NULL")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("meta", sa.JSON(), nullable=True))
    op.execute("UPDATE outbox SET meta = '{}'")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column("meta", existing_type=sa.JSON(), nullable=False)
        batch_op.drop_index("ix_outbox_live")
        batch_op.drop_index("ix_outbox_claim")
        batch_op.drop_constraint("uq_outbox_dedupe_key", type_="unique")
        for column in (
            "in_doubt",
            "sending_since",
            "live_key",
            "priority",
            "dedupe_key",
            "choices",
            "account_id",
        ):
            batch_op.drop_column(column)
