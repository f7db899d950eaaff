"""plate reservations

Revision ID: 0017_reservations
Revises: 0016_broadcasts
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.types

revision = "0017_reservations"
down_revision = "0016_broadcasts"
branch_labels = None
depends_on = None

# As store.reservation_tables.LIVE_WHERE: the states in which a reservation holds its number.
_LIVE = sa.text("state IN ('approved', 'paid', 'pending', 'placed')")
_REFUND_DUE = sa.text("refund_due")


def upgrade() -> None:
    op.create_table(
        "reservations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("plate_kind", sa.String(length=32), nullable=False),
        sa.Column("serial", sa.String(length=8), nullable=False),
        sa.Column("plate", sa.String(length=16), nullable=False),
        sa.Column("vin", sa.String(length=17), nullable=False),
        sa.Column("created_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("reviewed_by", sa.String(length=80), nullable=True),
        sa.Column("reviewed_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("deposit_fen", sa.BigInteger(), nullable=True),
        sa.Column("starting_price_fen", sa.BigInteger(), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("period_id", sa.Integer(), nullable=True),
        sa.Column("lot_id", sa.Integer(), nullable=True),
        sa.Column("refund_due", sa.Boolean(), nullable=False),
        sa.Column("ended_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_reservations_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["office_id"], ["offices.id"], name=op.f("fk_reservations_office_id_offices")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_reservations_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["auction_periods.id"],
            name=op.f("fk_reservations_period_id_auction_periods"),
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["auction_lots.id"], name=op.f("fk_reservations_lot_id_auction_lots")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reservations")),
    )
    op.create_index(
        "uq_reservations_live_number",
        "reservations",
        ["office_id", "plate_kind", "serial"],
        unique=True,
        postgresql_where=_LIVE,
        sqlite_where=_LIVE,
    )
    op.create_index("ix_reservations_account", "reservations", ["account_id", "created_at"])
    op.create_index("ix_reservations_state", "reservations", ["state", "created_at"])
    op.create_index("ix_reservations_lot", "reservations", ["lot_id"])
    op.create_index(
        "ix_reservations_refund_due",
        "reservations",
        ["id"],
        postgresql_where=_REFUND_DUE,
        sqlite_where=_REFUND_DUE,
    )


def downgrade() -> None:
    op.drop_table("reservations")
