"""Tables of settlement: one row per sold lot (its balance order and how it ended) and one per
deposit refund to make. Not mapped to the ORM: rows are read into ``core.settlement``'s
dataclasses, whose fields are the columns.

What the database guarantees: a lot is settled once (``uq_auction_settlements_lot``); a signup's
deposit is refunded once per cause (``uq_auction_refunds_signup_reason``), whichever handler or
timer runs twice.
"""

from __future__ import annotations

import sqlalchemy as sa

from core.settlement import RefundReason, RefundState, SettlementState
from store.tables import metadata
from store.types import UTCDateTime, enum_column

auction_settlements = sa.Table(
    "auction_settlements",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("lot_id", sa.Integer, sa.ForeignKey("auction_lots.id"), nullable=False),
    sa.Column("period_id", sa.Integer, sa.ForeignKey("auction_periods.id"), nullable=False),
    sa.Column("signup_id", sa.Integer, sa.ForeignKey("auction_signups.id"), nullable=False),
    sa.Column("share_id", sa.Integer, sa.ForeignKey("auction_shares.id"), nullable=False),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("vin", sa.String(17), nullable=False),
    sa.Column("office_id", sa.Integer, sa.ForeignKey("offices.id"), nullable=False),
    sa.Column("plate_kind", sa.String(16), nullable=False),
    sa.Column("serial", sa.String(8), nullable=False),
    sa.Column("plate", sa.String(16), nullable=False),
    sa.Column("price_fen", sa.BigInteger, nullable=False),
    sa.Column("deposit_fen", sa.BigInteger, nullable=False),
    sa.Column("balance_fen", sa.BigInteger, nullable=False),
    sa.Column("due_at", UTCDateTime, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("deposit_order_id", sa.Integer, sa.ForeignKey("orders.id")),
    sa.Column("balance_order_id", sa.Integer, sa.ForeignKey("orders.id")),
    sa.Column("state", enum_column(SettlementState), nullable=False),
    sa.Column("settled_at", UTCDateTime),
    sa.Column("winner_told_at", UTCDateTime),  # the winner's message (with the pay link) written
    sa.UniqueConstraint("lot_id", name="uq_auction_settlements_lot"),
    sa.Index("ix_auction_settlements_balance_order", "balance_order_id"),
    sa.Index("ix_auction_settlements_period", "period_id"),
    sa.Index("ix_auction_settlements_plate", "office_id", "plate_kind", "serial"),
    sa.Index(
        "ix_auction_settlements_untold",
        "id",
        postgresql_where=sa.text("state = 'awaiting_balance' AND winner_told_at IS NULL"),
        sqlite_where=sa.text("state = 'awaiting_balance' AND winner_told_at IS NULL"),
    ),
)

auction_refunds = sa.Table(
    "auction_refunds",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("signup_id", sa.Integer, sa.ForeignKey("auction_signups.id"), nullable=False),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id"), nullable=False),
    sa.Column("amount_fen", sa.BigInteger, nullable=False),
    sa.Column("reason", enum_column(RefundReason), nullable=False),
    sa.Column("state", enum_column(RefundState), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("done_at", UTCDateTime),
    sa.Column("reference", sa.String(80)),
    sa.UniqueConstraint("signup_id", "reason", name="uq_auction_refunds_signup_reason"),
    sa.Index(
        "ix_auction_refunds_due",
        "id",
        postgresql_where=sa.text("state = 'due'"),
        sqlite_where=sa.text("state = 'due'"),
    ),
)
