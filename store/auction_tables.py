"""Tables of auctions: periods, lots, signups and their shares (VINs), maxima (automatic
bidding) and the bids, the lots' audit trail. Not mapped to the ORM: the bidding path runs
prebuilt statements (``store/auction_repository.py``), and the rest reads rows into core's
dataclasses, whose fields are the columns.

What the database guarantees whatever the code does: a VIN is in one live share at most
(``uq_auction_shares_live_vin``); a VIN leads (or has won) one lot at most
(``uq_auction_lots_leader_share``); a number is in one open lot at most; a lot has one accepted
bid per sequence number; a bidder number is unique in its period.
"""

from __future__ import annotations

import sqlalchemy as sa

from core.auctions import LotState, PeriodState, SignupState
from core.plates import PlateKind
from store.tables import metadata
from store.types import UTCDateTime, enum_column

_OPEN = sa.text("state = 'open'")
_LEADING = sa.text("state IN ('open', 'sold')")
_ACTIVE = sa.text("state = 'active'")

auction_periods = sa.Table(
    "auction_periods",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(80), nullable=False),
    sa.Column("name_en", sa.String(80)),  # NULL: English users read a name made from the start
    sa.Column("signup_opens", UTCDateTime, nullable=False),
    sa.Column("signup_closes", UTCDateTime, nullable=False),
    sa.Column("starts_at", UTCDateTime, nullable=False),
    sa.Column("deposit_fen", sa.BigInteger, nullable=False),
    sa.Column("increments_fen", sa.JSON, nullable=False),
    sa.Column("opening_countdown_s", sa.Integer, nullable=False),
    sa.Column("bid_countdown_s", sa.Integer, nullable=False),
    sa.Column("balance_working_days", sa.Integer, nullable=False),
    sa.Column("state", enum_column(PeriodState), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("cancelled_at", UTCDateTime),
    sa.Column("closed_at", UTCDateTime),
    # Set by the first signup: its terms (the deposit, increments, countdowns, balance days)
    # no longer change (``core.auctions.amend_period``).
    sa.Column("terms_fixed", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Index("ix_auction_periods_starts_at", "starts_at"),
)

auction_signups = sa.Table(
    "auction_signups",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("period_id", sa.Integer, sa.ForeignKey("auction_periods.id"), nullable=False),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("shares", sa.Integer, nullable=False),
    sa.Column("deposit_fen", sa.BigInteger, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("state", enum_column(SignupState), nullable=False),
    sa.Column("bidder_number", sa.String(12)),
    sa.Column("code_nonce", sa.String(32)),
    sa.Column("wrong_codes", sa.Integer, nullable=False),
    sa.Column("activated_at", UTCDateTime),
    sa.Column("cancelled_at", UTCDateTime),
    sa.UniqueConstraint("period_id", "bidder_number", name="uq_auction_signups_bidder_number"),
    sa.Index("ix_auction_signups_account", "account_id", "period_id"),
)

auction_shares = sa.Table(
    "auction_shares",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("signup_id", sa.Integer, sa.ForeignKey("auction_signups.id"), nullable=False),
    sa.Column("period_id", sa.Integer, sa.ForeignKey("auction_periods.id"), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("vin", sa.String(17), nullable=False),
    sa.Column("live", sa.Boolean, nullable=False),
    sa.Index("ix_auction_shares_signup", "signup_id"),
    sa.Index(
        "uq_auction_shares_live_vin",
        "vin",
        unique=True,
        postgresql_where=sa.text("live"),
        sqlite_where=sa.text("live"),
    ),
)

auction_lots = sa.Table(
    "auction_lots",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("period_id", sa.Integer, sa.ForeignKey("auction_periods.id"), nullable=False),
    sa.Column("office_id", sa.Integer, sa.ForeignKey("offices.id"), nullable=False),
    sa.Column("plate_kind", enum_column(PlateKind), nullable=False),
    sa.Column("serial", sa.String(8), nullable=False),
    sa.Column("starting_price_fen", sa.BigInteger, nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("opens_at", UTCDateTime, nullable=False),
    sa.Column("deadline", UTCDateTime, nullable=False),
    sa.Column("state", enum_column(LotState), nullable=False),
    sa.Column("price_fen", sa.BigInteger),
    sa.Column("leader_signup_id", sa.Integer, sa.ForeignKey("auction_signups.id")),
    sa.Column("leader_share_id", sa.Integer, sa.ForeignKey("auction_shares.id")),
    sa.Column("bids", sa.Integer, nullable=False),
    sa.Column("maxima", sa.Integer, nullable=False),
    sa.Column("closed_at", UTCDateTime),
    sa.Column("withdrawn_at", UTCDateTime),
    sa.Index("ix_auction_lots_period", "period_id", "position"),
    sa.Index("ix_auction_lots_due", "deadline", postgresql_where=_OPEN, sqlite_where=_OPEN),
    sa.Index(
        "uq_auction_lots_open_plate",
        "office_id",
        "plate_kind",
        "serial",
        unique=True,
        postgresql_where=_OPEN,
        sqlite_where=_OPEN,
    ),
    sa.Index(
        "uq_auction_lots_leader_share",
        "leader_share_id",
        unique=True,
        postgresql_where=_LEADING,
        sqlite_where=_LEADING,
    ),
)

auction_maxima = sa.Table(
    "auction_maxima",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("lot_id", sa.Integer, sa.ForeignKey("auction_lots.id"), nullable=False),
    sa.Column("signup_id", sa.Integer, sa.ForeignKey("auction_signups.id"), nullable=False),
    sa.Column("share_id", sa.Integer, sa.ForeignKey("auction_shares.id"), nullable=False),
    sa.Column("max_fen", sa.BigInteger, nullable=False),
    sa.Column("set_at", UTCDateTime, nullable=False),
    sa.Column(
        "state", sa.String(16), nullable=False
    ),  # active, exceeded, replaced, cancelled, ended
    sa.Column("ended_at", UTCDateTime),
    sa.Index(
        "uq_auction_maxima_active",
        "lot_id",
        "signup_id",
        unique=True,
        postgresql_where=_ACTIVE,
        sqlite_where=_ACTIVE,
    ),
    sa.Index(
        "ix_auction_maxima_active_share",
        "share_id",
        postgresql_where=_ACTIVE,
        sqlite_where=_ACTIVE,
    ),
)

auction_bids = sa.Table(
    "auction_bids",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("lot_id", sa.Integer, sa.ForeignKey("auction_lots.id"), nullable=False),
    sa.Column("seq", sa.Integer),  # accepted bids only: 1, 2, … on the lot
    sa.Column("signup_id", sa.Integer, sa.ForeignKey("auction_signups.id"), nullable=False),
    sa.Column("share_id", sa.Integer),
    sa.Column("amount_fen", sa.BigInteger),
    sa.Column("placed_at", UTCDateTime, nullable=False),
    sa.Column("accepted", sa.Boolean, nullable=False),
    sa.Column("refusal", sa.String(40)),
    sa.Column("automatic", sa.Boolean, nullable=False),
    sa.Column("price_before", sa.BigInteger),
    sa.Column("deadline_before", UTCDateTime),
    # also the index of a lot's trail (a refused bid has no sequence number)
    sa.UniqueConstraint("lot_id", "seq", name="uq_auction_bids_seq"),
)
