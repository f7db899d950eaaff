"""Tables of orders, their ledger and the payment callbacks taken; and the mapping of the order
entities."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import registry

from core.orders import Cause, MoveKind, Order, OrderMove, OrderState, Purpose
from store.tables import metadata
from store.types import UTCDateTime, enum_column

orders = sa.Table(
    "orders",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("purpose", enum_column(Purpose), nullable=False),
    sa.Column("reference", sa.String(64), nullable=False),
    sa.Column("subject", sa.String(80), nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("state", enum_column(OrderState), nullable=False),
    sa.Column("received", sa.BigInteger, nullable=False),
    sa.Column("refunded", sa.BigInteger, nullable=False),
    # of what it holds, what the office keeps (forfeited, or counted towards a price)
    sa.Column("kept", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("deadline", UTCDateTime, nullable=False),
    sa.Column("pay_token", sa.String(32), nullable=False, unique=True),
    sa.Column("paid_at", UTCDateTime),
    sa.Column("paid_via", sa.String(32)),
    sa.Column("payment_ref", sa.String(64)),
    sa.Column("ended_at", UTCDateTime),
    sa.CheckConstraint("amount > 0", name="amount_positive"),
    sa.CheckConstraint("refunded >= 0 AND refunded <= received", name="refunds_within_received"),
    # The expiry timer's claim: pending orders by deadline, a small part of all orders.
    sa.Index(
        "ix_orders_pending_deadline",
        "deadline",
        postgresql_where=sa.text("state = 'pending'"),
        sqlite_where=sa.text("state = 'pending'"),
    ),
    sa.Index("ix_orders_account", "account_id", "created_at"),
    # Staff list orders by state, newest first (migration 0012).
    sa.Index("ix_orders_state_created", "state", "created_at"),
    sa.Index("ix_orders_purpose_reference", "purpose", "reference"),
)

order_moves = sa.Table(
    "order_moves",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id"), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("kind", enum_column(MoveKind), nullable=False),
    sa.Column("from_state", enum_column(OrderState)),
    sa.Column("to_state", enum_column(OrderState), nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("cause", enum_column(Cause), nullable=False),
    sa.Column("actor", sa.String(80)),
    sa.Column("reference", sa.String(80)),
    sa.Index("ix_order_moves_order", "order_id", "id"),
)

# One row per gateway event id taken: a replay is refused by this key, not by memory.
payment_callbacks = sa.Table(
    "payment_callbacks",
    metadata,
    sa.Column("event_id", sa.String(80), primary_key=True),
    sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id"), nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("received_at", UTCDateTime, nullable=False),
)


def map_order_entities(mapper_registry: registry) -> None:
    """Called once from ``store.tables.map_entities``."""
    mapper_registry.map_imperatively(Order, orders)
    mapper_registry.map_imperatively(OrderMove, order_moves)
