"""auction settlements: when the winner was told (one message: won, price, balance, pay link)

Revision ID: 0019_gaps_settlement_winner_told
Revises: 0018_staff_accounts
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.types

revision = "0019_gaps_settlement_winner_told"
down_revision = "0018_staff_accounts"
branch_labels = None
depends_on = None

_UNTOLD = "state = 'awaiting_balance' AND winner_told_at IS NULL"


def upgrade() -> None:
    with op.batch_alter_table("auction_settlements", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("winner_told_at", store.types.UTCDateTime(timezone=True), nullable=True)
        )
    # Settlements written before were told at once, by the handler of the lot's close.
    op.execute("UPDATE auction_settlements SET winner_told_at = created_at")
    with op.batch_alter_table("auction_settlements", schema=None) as batch_op:
        batch_op.create_index(
            "ix_auction_settlements_untold",
            ["id"],
            unique=False,
            sqlite_where=sa.text(_UNTOLD),
            postgresql_where=sa.text(_UNTOLD),
        )


def downgrade() -> None:
    with op.batch_alter_table("auction_settlements", schema=None) as batch_op:
        batch_op.drop_index("ix_auction_settlements_untold")
        batch_op.drop_column("winner_told_at")
