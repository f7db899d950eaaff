"""English names of offices: name_en and address_en, shown in English conversations

Revision ID: 0007_english_names
Revises: 0003_housekeeping
Create Date: 2026-12-06 20:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_english_names"
down_revision = "0003_housekeeping"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("offices") as batch:
        batch.add_column(sa.Column("name_en", sa.String(120), nullable=False, server_default=""))
        batch.add_column(sa.Column("address_en", sa.String(200), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("offices") as batch:
        batch.drop_column("address_en")
        batch.drop_column("name_en")
