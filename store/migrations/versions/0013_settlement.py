"""auction settlement: a row per sold lot (balance order, how it ended), deposit refunds to make,
and the part of an order the office keeps (orders.kept: a forfeited or applied deposit share)

Revision ID: 0013_settlement
Revises: 0012_order_views
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.types

revision = "0013_settlement"
down_revision = "0012_order_views"
branch_labels = None
depends_on = None

_DUE = "state = 'due'"


def _enum(*values: str, name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=32)


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kept", sa.BigInteger(), nullable=False, server_default="0"))
    op.create_table(
        "auction_settlements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("signup_id", sa.Integer(), nullable=False),
        sa.Column("share_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("vin", sa.String(length=17), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("plate_kind", sa.String(length=16), nullable=False),
        sa.Column("serial", sa.String(length=8), nullable=False),
        sa.Column("plate", sa.String(length=16), nullable=False),
        sa.Column("price_fen", sa.BigInteger(), nullable=False),
        sa.Column("deposit_fen", sa.BigInteger(), nullable=False),
        sa.Column("balance_fen", sa.BigInteger(), nullable=False),
        sa.Column("due_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deposit_order_id", sa.Integer(), nullable=True),
        sa.Column("balance_order_id", sa.Integer(), nullable=True),
        sa.Column(
            "state",
            _enum("awaiting_balance", "issued", "forfeited", name="settlementstate"),
            nullable=False,
        ),
        sa.Column("settled_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"]),
        sa.ForeignKeyConstraint(["balance_order_id"], ["orders.id"]),
        sa.ForeignKeyConstraint(["deposit_order_id"], ["orders.id"]),
        sa.ForeignKeyConstraint(["lot_id"], ["auction_lots.id"]),
        sa.ForeignKeyConstraint(["office_id"], ["offices.id"]),
        sa.ForeignKeyConstraint(["period_id"], ["auction_periods.id"]),
        sa.ForeignKeyConstraint(["share_id"], ["auction_shares.id"]),
        sa.ForeignKeyConstraint(["signup_id"], ["auction_signups.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("lot_id", name="uq_auction_settlements_lot"),
    )
    op.create_index(
        "ix_auction_settlements_balance_order", "auction_settlements", ["balance_order_id"]
    )
    op.create_index("ix_auction_settlements_period", "auction_settlements", ["period_id"])
    op.create_index(
        "ix_auction_settlements_plate", "auction_settlements", ["office_id", "plate_kind", "serial"]
    )
    op.create_table(
        "auction_refunds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("signup_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("reason", _enum("lost", "cancelled", name="refundreason"), nullable=False),
        sa.Column(
            "state",
            _enum("due", "done", "at_counter", "failed", name="refundstate"),
            nullable=False,
        ),
        sa.Column("created_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("done_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reference", sa.String(length=80), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"]),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"]),
        sa.ForeignKeyConstraint(["signup_id"], ["auction_signups.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("signup_id", "reason", name="uq_auction_refunds_signup_reason"),
    )
    op.create_index(
        "ix_auction_refunds_due",
        "auction_refunds",
        ["id"],
        postgresql_where=sa.text(_DUE),
        sqlite_where=sa.text(_DUE),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_auction_refunds_due",
        table_name="auction_refunds",
        postgresql_where=sa.text(_DUE),
        sqlite_where=sa.text(_DUE),
    )
    op.drop_table("auction_refunds")
    op.drop_index("ix_auction_settlements_plate", table_name="auction_settlements")
    op.drop_index("ix_auction_settlements_period", table_name="auction_settlements")
    op.drop_index("ix_auction_settlements_balance_order", table_name="auction_settlements")
    op.drop_table("auction_settlements")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("kept")
