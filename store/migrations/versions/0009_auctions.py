"""auctions: periods, lots, signups and their shares (VINs), maxima, bids

Revision ID: 0009_auctions
Revises: 0003_housekeeping
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.types

revision = "0009_auctions"
down_revision = "0008_orders"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "auction_periods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("signup_opens", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("signup_closes", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("starts_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deposit_fen", sa.BigInteger(), nullable=False),
        sa.Column("increments_fen", sa.JSON(), nullable=False),
        sa.Column("opening_countdown_s", sa.Integer(), nullable=False),
        sa.Column("bid_countdown_s", sa.Integer(), nullable=False),
        sa.Column("balance_working_days", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "published", "closed", "cancelled", name="periodstate", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("created_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auction_periods")),
    )
    op.create_index("ix_auction_periods_starts_at", "auction_periods", ["starts_at"], unique=False)
    op.create_table(
        "auction_signups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("shares", sa.Integer(), nullable=False),
        sa.Column("deposit_fen", sa.BigInteger(), nullable=False),
        sa.Column("created_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "awaiting_deposit",
                "active",
                "cancelled",
                name="signupstate",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("bidder_number", sa.String(length=12), nullable=True),
        sa.Column("code_nonce", sa.String(length=32), nullable=True),
        sa.Column("wrong_codes", sa.Integer(), nullable=False),
        sa.Column("activated_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_auction_signups_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["auction_periods.id"],
            name=op.f("fk_auction_signups_period_id_auction_periods"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auction_signups")),
        sa.UniqueConstraint("period_id", "bidder_number", name="uq_auction_signups_bidder_number"),
    )
    op.create_index(
        "ix_auction_signups_account", "auction_signups", ["account_id", "period_id"], unique=False
    )
    op.create_table(
        "auction_shares",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("signup_id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("vin", sa.String(length=17), nullable=False),
        sa.Column("live", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["auction_periods.id"],
            name=op.f("fk_auction_shares_period_id_auction_periods"),
        ),
        sa.ForeignKeyConstraint(
            ["signup_id"],
            ["auction_signups.id"],
            name=op.f("fk_auction_shares_signup_id_auction_signups"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auction_shares")),
    )
    op.create_index("ix_auction_shares_signup", "auction_shares", ["signup_id"], unique=False)
    op.create_index(
        "uq_auction_shares_live_vin",
        "auction_shares",
        ["vin"],
        unique=True,
        postgresql_where=sa.text("live"),
        sqlite_where=sa.text("live"),
    )
    op.create_table(
        "auction_lots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column(
            "plate_kind",
            sa.Enum(
                "small",
                "large",
                "small_nev",
                "large_nev",
                name="platekind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("serial", sa.String(length=8), nullable=False),
        sa.Column("starting_price_fen", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("opens_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deadline", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "open", "sold", "unsold", "withdrawn", name="lotstate", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("price_fen", sa.BigInteger(), nullable=True),
        sa.Column("leader_signup_id", sa.Integer(), nullable=True),
        sa.Column("leader_share_id", sa.Integer(), nullable=True),
        sa.Column("bids", sa.Integer(), nullable=False),
        sa.Column("maxima", sa.Integer(), nullable=False),
        sa.Column("closed_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["leader_share_id"],
            ["auction_shares.id"],
            name=op.f("fk_auction_lots_leader_share_id_auction_shares"),
        ),
        sa.ForeignKeyConstraint(
            ["leader_signup_id"],
            ["auction_signups.id"],
            name=op.f("fk_auction_lots_leader_signup_id_auction_signups"),
        ),
        sa.ForeignKeyConstraint(
            ["office_id"], ["offices.id"], name=op.f("fk_auction_lots_office_id_offices")
        ),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["auction_periods.id"],
            name=op.f("fk_auction_lots_period_id_auction_periods"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auction_lots")),
    )
    op.create_index(
        "ix_auction_lots_due",
        "auction_lots",
        ["deadline"],
        unique=False,
        postgresql_where=sa.text("state = 'open'"),
        sqlite_where=sa.text("state = 'open'"),
    )
    op.create_index(
        "ix_auction_lots_period", "auction_lots", ["period_id", "position"], unique=False
    )
    op.create_index(
        "uq_auction_lots_leader_share",
        "auction_lots",
        ["leader_share_id"],
        unique=True,
        postgresql_where=sa.text("state IN ('open', 'sold')"),
        sqlite_where=sa.text("state IN ('open', 'sold')"),
    )
    op.create_index(
        "uq_auction_lots_open_plate",
        "auction_lots",
        ["office_id", "plate_kind", "serial"],
        unique=True,
        postgresql_where=sa.text("state = 'open'"),
        sqlite_where=sa.text("state = 'open'"),
    )
    op.create_table(
        "auction_bids",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=True),
        sa.Column("signup_id", sa.Integer(), nullable=False),
        sa.Column("share_id", sa.Integer(), nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), nullable=True),
        sa.Column("placed_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("refusal", sa.String(length=40), nullable=True),
        sa.Column("automatic", sa.Boolean(), nullable=False),
        sa.Column("price_before", sa.BigInteger(), nullable=True),
        sa.Column("deadline_before", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["auction_lots.id"], name=op.f("fk_auction_bids_lot_id_auction_lots")
        ),
        sa.ForeignKeyConstraint(
            ["signup_id"],
            ["auction_signups.id"],
            name=op.f("fk_auction_bids_signup_id_auction_signups"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auction_bids")),
        sa.UniqueConstraint("lot_id", "seq", name="uq_auction_bids_seq"),
    )
    op.create_table(
        "auction_maxima",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("signup_id", sa.Integer(), nullable=False),
        sa.Column("share_id", sa.Integer(), nullable=False),
        sa.Column("max_fen", sa.BigInteger(), nullable=False),
        sa.Column("set_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("ended_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["auction_lots.id"], name=op.f("fk_auction_maxima_lot_id_auction_lots")
        ),
        sa.ForeignKeyConstraint(
            ["share_id"],
            ["auction_shares.id"],
            name=op.f("fk_auction_maxima_share_id_auction_shares"),
        ),
        sa.ForeignKeyConstraint(
            ["signup_id"],
            ["auction_signups.id"],
            name=op.f("fk_auction_maxima_signup_id_auction_signups"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auction_maxima")),
    )
    op.create_index(
        "ix_auction_maxima_active_share",
        "auction_maxima",
        ["share_id"],
        unique=False,
        postgresql_where=sa.text("state = 'active'"),
        sqlite_where=sa.text("state = 'active'"),
    )
    op.create_index(
        "uq_auction_maxima_active",
        "auction_maxima",
        ["lot_id", "signup_id"],
        unique=True,
        postgresql_where=sa.text("state = 'active'"),
        sqlite_where=sa.text("state = 'active'"),
    )


def downgrade() -> None:
    op.drop_index(
        "uq_auction_maxima_active",
        table_name="auction_maxima",
        postgresql_where=sa.text("state = 'active'"),
        sqlite_where=sa.text("state = 'active'"),
    )
    op.drop_index(
        "ix_auction_maxima_active_share",
        table_name="auction_maxima",
        postgresql_where=sa.text("state = 'active'"),
        sqlite_where=sa.text("state = 'active'"),
    )
    op.drop_table("auction_maxima")
    op.drop_table("auction_bids")
    op.drop_index(
        "uq_auction_lots_open_plate",
        table_name="auction_lots",
        postgresql_where=sa.text("state = 'open'"),
        sqlite_where=sa.text("state = 'open'"),
    )
    op.drop_index(
        "uq_auction_lots_leader_share",
        table_name="auction_lots",
        postgresql_where=sa.text("state IN ('open', 'sold')"),
        sqlite_where=sa.text("state IN ('open', 'sold')"),
    )
    op.drop_index("ix_auction_lots_period", table_name="auction_lots")
    op.drop_index(
        "ix_auction_lots_due",
        table_name="auction_lots",
        postgresql_where=sa.text("state = 'open'"),
        sqlite_where=sa.text("state = 'open'"),
    )
    op.drop_table("auction_lots")
    op.drop_index(
        "uq_auction_shares_live_vin",
        table_name="auction_shares",
        postgresql_where=sa.text("live"),
        sqlite_where=sa.text("live"),
    )
    op.drop_index("ix_auction_shares_signup", table_name="auction_shares")
    op.drop_table("auction_shares")
    op.drop_index("ix_auction_signups_account", table_name="auction_signups")
    op.drop_table("auction_signups")
    op.drop_index("ix_auction_periods_starts_at", table_name="auction_periods")
    op.drop_table("auction_periods")
