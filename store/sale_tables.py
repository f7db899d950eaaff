"""The table of plates for sale, and the mapping of ``core.sale.Listing`` onto it.

What the database guarantees whatever the code does: a number has one live listing at most (on
sale or held: ``uq_sale_listings_live_number``), and a vehicle holds or has bought one plate at
most (``uq_sale_listings_vin``).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import registry

from core.plates import PlateKind
from core.sale import Listing, ListingState
from store.tables import metadata
from store.types import UTCDateTime, enum_column

_LIVE = sa.text("state IN ('listed', 'held')")
_TAKEN = sa.text("state IN ('held', 'sold')")

sale_listings = sa.Table(
    "sale_listings",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("office_id", sa.Integer, sa.ForeignKey("offices.id"), nullable=False),
    sa.Column("plate_kind", enum_column(PlateKind), nullable=False),
    sa.Column("serial", sa.String(8), nullable=False),
    sa.Column("plate", sa.String(16), nullable=False),
    sa.Column("price", sa.BigInteger, nullable=False),
    sa.Column("region_code", sa.String(4), nullable=False),
    sa.Column("personalised", sa.Boolean, nullable=False),
    sa.Column("from_pool", sa.Boolean, nullable=False),
    sa.Column("state", enum_column(ListingState), nullable=False),
    sa.Column("listed_at", UTCDateTime, nullable=False),
    sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id")),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id")),
    sa.Column("vin", sa.String(17)),
    sa.Column("sold_at", UTCDateTime),
    sa.Column("withdrawn_at", UTCDateTime),
    sa.CheckConstraint("price > 0", name="price_positive"),
    sa.CheckConstraint(
        "(state IN ('held', 'sold')) = (order_id IS NOT NULL AND vin IS NOT NULL)",
        name="taken_has_order",
    ),
    sa.Index(
        "uq_sale_listings_live_number",
        "office_id",
        "plate_kind",
        "serial",
        unique=True,
        postgresql_where=_LIVE,
        sqlite_where=_LIVE,
    ),
    sa.Index(
        "uq_sale_listings_vin", "vin", unique=True, postgresql_where=_TAKEN, sqlite_where=_TAKEN
    ),
    # what users browse: plates on sale by region, cheapest first
    sa.Index("ix_sale_listings_browse", "state", "region_code", "price"),
    sa.Index("ix_sale_listings_sold", "state", "sold_at"),
)


def map_sale_entities(mapper_registry: registry) -> None:
    """Called once from ``store.tables.map_entities``."""
    mapper_registry.map_imperatively(Listing, sale_listings)
