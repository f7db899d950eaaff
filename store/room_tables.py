"""Who is in an auction room: a bidder who entered it (bidder number and verification code) or
bid in it. Lot results and live room updates go to these bidders (``core.auction_room``)."""

from __future__ import annotations

import sqlalchemy as sa

from store.tables import metadata

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
