"""orders, their ledger, payment callbacks taken

Revision ID: 0008_orders
Revises: 0006_code_purposes
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.types

revision = "0008_orders"
down_revision = "0007_english_names"
branch_labels = None
depends_on = None

_PENDING = sa.text("state = 'pending'")


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=80), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("received", sa.BigInteger(), nullable=False),
        sa.Column("refunded", sa.BigInteger(), nullable=False),
        sa.Column("created_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deadline", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("pay_token", sa.String(length=32), nullable=False),
        sa.Column("paid_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("paid_via", sa.String(length=32), nullable=True),
        sa.Column("payment_ref", sa.String(length=64), nullable=True),
        sa.Column("ended_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("amount > 0", name=op.f("ck_orders_amount_positive")),
        sa.CheckConstraint(
            "refunded >= 0 AND refunded <= received", name=op.f("ck_orders_refunds_within_received")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_orders_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("pay_token", name=op.f("uq_orders_pay_token")),
    )
    op.create_index(
        "ix_orders_pending_deadline",
        "orders",
        ["deadline"],
        postgresql_where=_PENDING,
        sqlite_where=_PENDING,
    )
    op.create_index("ix_orders_account", "orders", ["account_id", "created_at"])
    op.create_index("ix_orders_purpose_reference", "orders", ["purpose", "reference"])
    op.create_table(
        "order_moves",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("from_state", sa.String(length=32), nullable=True),
        sa.Column("to_state", sa.String(length=32), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("cause", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=True),
        sa.Column("reference", sa.String(length=80), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_moves_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_moves")),
    )
    op.create_index("ix_order_moves_order", "order_moves", ["order_id", "id"])
    op.create_table(
        "payment_callbacks",
        sa.Column("event_id", sa.String(length=80), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("received_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_payment_callbacks_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_payment_callbacks")),
    )


def downgrade() -> None:
    op.drop_table("payment_callbacks")
    op.drop_index("ix_order_moves_order", table_name="order_moves")
    op.drop_table("order_moves")
    op.drop_index("ix_orders_purpose_reference", table_name="orders")
    op.drop_index("ix_orders_account", table_name="orders")
    op.drop_index("ix_orders_pending_deadline", table_name="orders")
    op.drop_table("orders")
