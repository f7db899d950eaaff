"""the English name of an auction period (name_en), which English users read instead of the
Chinese one so that their SMS stay GSM-7; NULL (every period before this one too): a name made
from the day the period starts (``AuctionPeriod.name_in``)

Revision ID: 0024_period_english_name
Revises: 0023_broadcast_office
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024_period_english_name"
down_revision = "0023_broadcast_office"
branch_labels = None
depends_on = None


# Plain ALTER TABLE, not a batch: a batch copies the table on SQLite and cannot drop the old one
# while lots and signups refer to it (SQLite has had ADD and DROP COLUMN since 3.35).


def upgrade() -> None:
    op.add_column("auction_periods", sa.Column("name_en", sa.String(80), nullable=True))


def downgrade() -> None:
    op.drop_column("auction_periods", "name_en")
