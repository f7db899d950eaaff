"""English names of offices (name_en, address_en), and what a Telegram chat shows (the message
with the current step, the newest message)

Revision ID: 0007_english_names
Revises: 0003_housekeeping
Create Date: 2026-12-06 20:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_english_names"
down_revision = "0006_code_purposes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("telegram_chats") as batch:
        batch.add_column(sa.Column("prompt_message_id", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("newest_message_id", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("offices") as batch:
        batch.add_column(sa.Column("name_en", sa.String(120), nullable=False, server_default=""))
        batch.add_column(sa.Column("address_en", sa.String(200), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("telegram_chats") as batch:
        batch.drop_column("newest_message_id")
        batch.drop_column("prompt_message_id")
    with op.batch_alter_table("offices") as batch:
        batch.drop_column("address_en")
        batch.drop_column("name_en")
