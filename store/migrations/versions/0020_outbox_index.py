"""the outbox's (status, due_at) index is dropped: no query uses it (the dispatcher's claim walks
``ix_outbox_claim``, a broadcast's rows ``ix_outbox_broadcast``), and every row written paid for
it (a broadcast of 100,000 rows: 100,000 index entries, 1.4 MB of WAL a 20,000 rows)

Revision ID: 0020_outbox_index
Revises: 0019_gaps_settlement_winner_told
"""

from __future__ import annotations

from alembic import op

revision = "0020_outbox_index"
down_revision = "0019_gaps_settlement_winner_told"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_status_due")


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_status_due", ["status", "due_at"], unique=False)
