"""the office a staff broadcast belongs to: a supervisor's is their office's, seen and acted on
only by that office's staff and admins; NULL (every broadcast before this one too) is every
office's, an admin's

Revision ID: 0023_broadcast_office
Revises: 0022_lane_wanted
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023_broadcast_office"
down_revision = "0022_lane_wanted"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("broadcasts", sa.Column("office_code", sa.String(8), nullable=True))
    op.create_index("ix_broadcasts_office", "broadcasts", ["office_code", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_broadcasts_office", table_name="broadcasts")
    op.drop_column("broadcasts", "office_code")
