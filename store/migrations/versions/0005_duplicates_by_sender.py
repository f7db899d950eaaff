"""duplicates recognised by sender and id; what /healthz writes

Revision ID: 0005_duplicates_by_sender
Revises: 0003_housekeeping
Create Date: 2026-12-06 20:00:00

A MessageSid (or Telegram update id) is a duplicate only when it comes again from the same
number (or chat): the keys of ``inbound_messages``, ``sms_inbound`` and ``telegram_updates``
take the sender. Replies kept before this revision get their sender where it is known (Telegram:
from ``telegram_updates``); an SMS turn handled just before the upgrade and posted again by
Twilio after it (Twilio retries within seconds) runs again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.types

revision = "0005_duplicates_by_sender"
down_revision = "0003_housekeeping"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbound_messages") as batch:
        batch.add_column(sa.Column("user_key", sa.String(64), nullable=False, server_default=""))
    op.execute(
        "UPDATE inbound_messages SET user_key = COALESCE((SELECT telegram_updates.chat_id "
        "FROM telegram_updates WHERE 'u' || telegram_updates.update_id = "
        "inbound_messages.message_id), '') WHERE channel = 'telegram'"
    )
    _key("inbound_messages", ["channel", "user_key", "message_id"])
    with op.batch_alter_table("inbound_messages") as batch:
        batch.alter_column("user_key", server_default=None, existing_type=sa.String(64))
    _key("sms_inbound", ["phone", "message_sid"])
    _key("telegram_updates", ["chat_id", "update_id"])
    op.create_table(
        "health_probes",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("probed_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_health_probes")),
    )


def downgrade() -> None:
    op.drop_table("health_probes")
    _key("telegram_updates", ["update_id"])
    _key("sms_inbound", ["message_sid"])
    _key("inbound_messages", ["channel", "message_id"])
    with op.batch_alter_table("inbound_messages") as batch:
        batch.drop_column("user_key")


def _key(table: str, columns: list[str]) -> None:
    """The table's primary key on ``columns`` (SQLite: the table is copied anew)."""
    with op.batch_alter_table(table, recreate="always") as batch:
        batch.drop_constraint(f"pk_{table}", type_="primary")
        batch.create_primary_key(f"pk_{table}", columns)
