"""The reservations table, and the mapping of the reservation entity."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import registry

from core.plates import PlateKind
from core.reservations import LIVE_STATES, Reservation, ReservationState
from store.tables import metadata
from store.types import UTCDateTime, enum_column

_LIVE = ", ".join(f"'{state.value}'" for state in sorted(LIVE_STATES))
LIVE_WHERE = f"state IN ({_LIVE})"

reservations = sa.Table(
    "reservations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("office_id", sa.Integer, sa.ForeignKey("offices.id"), nullable=False),
    sa.Column("plate_kind", enum_column(PlateKind), nullable=False),
    sa.Column("serial", sa.String(8), nullable=False),
    sa.Column("plate", sa.String(16), nullable=False),
    sa.Column("vin", sa.String(17), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("state", enum_column(ReservationState), nullable=False),
    sa.Column("reviewed_by", sa.String(80)),
    sa.Column("reviewed_at", UTCDateTime),
    sa.Column("reason", sa.String(200)),
    sa.Column("deposit_fen", sa.BigInteger),
    sa.Column("starting_price_fen", sa.BigInteger),
    sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id")),
    sa.Column("period_id", sa.Integer, sa.ForeignKey("auction_periods.id")),
    sa.Column("lot_id", sa.Integer, sa.ForeignKey("auction_lots.id")),
    sa.Column("refund_due", sa.Boolean, nullable=False),
    sa.Column("ended_at", UTCDateTime),
    # One live reservation per number: two users reserving it at once cannot both get it.
    sa.Index(
        "uq_reservations_live_number",
        "office_id",
        "plate_kind",
        "serial",
        unique=True,
        postgresql_where=sa.text(LIVE_WHERE),
        sqlite_where=sa.text(LIVE_WHERE),
    ),
    sa.Index("ix_reservations_account", "account_id", "created_at"),
    sa.Index("ix_reservations_state", "state", "created_at"),
    sa.Index("ix_reservations_lot", "lot_id"),
    # The refund job's claim: the few whose deposit is due back.
    sa.Index(
        "ix_reservations_refund_due",
        "id",
        postgresql_where=sa.text("refund_due"),
        sqlite_where=sa.text("refund_due"),
    ),
)


def map_reservation_entities(mapper_registry: registry) -> None:
    """Called once from ``store.tables.map_entities``."""
    mapper_registry.map_imperatively(Reservation, reservations)
