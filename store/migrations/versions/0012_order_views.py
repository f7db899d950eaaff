"""Orders listed by state, newest first (staff listings)

Revision ID: 0012_order_views
Revises: 0011_sale
Create Date: 2026-12-06 23:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0012_order_views"
down_revision = "0011_sale"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_orders_state_created", "orders", ["state", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_orders_state_created", table_name="orders")
