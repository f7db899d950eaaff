"""a period's terms fixed by its first signup (terms_fixed): the deposit, the increments, the
countdowns and the days to pay the balance no longer change once anyone has signed up; set for
every period that has a signup already

Revision ID: 0025_period_terms_fixed
Revises: 0024_period_english_name
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025_period_terms_fixed"
down_revision = "0024_period_english_name"
branch_labels = None
depends_on = None


# Plain ALTER TABLE, not a batch (see 0024).


def upgrade() -> None:
    op.add_column(
        "auction_periods",
        sa.Column("terms_fixed", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.execute(
        "UPDATE auction_periods SET terms_fixed = TRUE WHERE EXISTS "
        "(SELECT 1 FROM auction_signups WHERE auction_signups.period_id = auction_periods.id)"
    )


def downgrade() -> None:
    op.drop_column("auction_periods", "terms_fixed")
