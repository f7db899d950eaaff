"""plates for sale (fixed-price sale, SPEC §6)

Revision ID: 0011_sale
Revises: 0010_outbox_to_people
Create Date: 2026-12-06 23:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.types

revision = "0011_sale"
down_revision = "0010_outbox_to_people"
branch_labels = None
depends_on = None

_LIVE = sa.text("state IN ('listed', 'held')")
_TAKEN = sa.text("state IN ('held', 'sold')")


def upgrade() -> None:
    op.create_table(
        "sale_listings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("plate_kind", sa.String(length=32), nullable=False),
        sa.Column("serial", sa.String(length=8), nullable=False),
        sa.Column("plate", sa.String(length=16), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("region_code", sa.String(length=4), nullable=False),
        sa.Column("personalised", sa.Boolean(), nullable=False),
        sa.Column("from_pool", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("listed_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("vin", sa.String(length=17), nullable=True),
        sa.Column("sold_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("price > 0", name=op.f("ck_sale_listings_price_positive")),
        sa.CheckConstraint(
            "(state IN ('held', 'sold')) = (order_id IS NOT NULL AND vin IS NOT NULL)",
            name=op.f("ck_sale_listings_taken_has_order"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_sale_listings_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["office_id"], ["offices.id"], name=op.f("fk_sale_listings_office_id_offices")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_sale_listings_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sale_listings")),
    )
    op.create_index(
        "uq_sale_listings_live_number",
        "sale_listings",
        ["office_id", "plate_kind", "serial"],
        unique=True,
        postgresql_where=_LIVE,
        sqlite_where=_LIVE,
    )
    op.create_index(
        "uq_sale_listings_vin",
        "sale_listings",
        ["vin"],
        unique=True,
        postgresql_where=_TAKEN,
        sqlite_where=_TAKEN,
    )
    op.create_index("ix_sale_listings_browse", "sale_listings", ["state", "region_code", "price"])
    op.create_index("ix_sale_listings_sold", "sale_listings", ["state", "sold_at"])


def downgrade() -> None:
    op.drop_index("ix_sale_listings_sold", table_name="sale_listings")
    op.drop_index("ix_sale_listings_browse", table_name="sale_listings")
    op.drop_index("uq_sale_listings_vin", table_name="sale_listings")
    op.drop_index("uq_sale_listings_live_number", table_name="sale_listings")
    op.drop_table("sale_listings")
