"""a dispatcher that holds no lane asks for one: the lanes are spread over the server processes

Revision ID: 0022_lane_wanted
Revises: 0021_outbox_coalesce_key
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.types

revision = "0022_lane_wanted"
down_revision = "0021_outbox_coalesce_key"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dispatch_lanes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("wanted_by", sa.String(40), nullable=True))
        batch_op.add_column(
            sa.Column("wanted_until", store.types.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("dispatch_lanes", schema=None) as batch_op:
        batch_op.drop_column("wanted_until")
        batch_op.drop_column("wanted_by")
