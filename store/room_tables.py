"""Who is in an auction room (a bidder who entered it with bidder number and verification code),
and what happened there still to be told (``core.auction_room``)."""

from __future__ import annotations

import sqlalchemy as sa

from store.tables import metadata
from store.types import UTCDateTime

auction_room_members = sa.Table(
    "auction_room_members",
    metadata,
    sa.Column(
        "signup_id",
        sa.Integer,
        sa.ForeignKey("auction_signups.id"),
        primary_key=True,
        autoincrement=False,
    ),
    sa.Column("period_id", sa.Integer, sa.ForeignKey("auction_periods.id"), nullable=False),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
    sa.Index("ix_auction_room_members_period", "period_id"),
)

# What happened in a room and is still to be told: written by a bid (one short insert while the
# lot is locked), turned into notices and room updates by the room's timer step, then deleted.
auction_room_changes = sa.Table(
    "auction_room_changes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),  # bid, outbid, maximum
    sa.Column("lot_id", sa.Integer, nullable=False),
    sa.Column("period_id", sa.Integer, nullable=False),
    sa.Column("signup_id", sa.Integer, nullable=False),
    sa.Column("leader_signup_id", sa.Integer),
    sa.Column("price_fen", sa.BigInteger),
    sa.Column("max_fen", sa.BigInteger),
    sa.Column("at", UTCDateTime, nullable=False),
)
