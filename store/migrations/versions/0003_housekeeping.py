"""Housekeeping: indexes to find records old enough to delete

Revision ID: 0003_housekeeping
Revises: 0002_sms, 0002_telegram, 0002_preselection
Create Date: 2026-11-21 23:45:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0003_housekeeping"
down_revision = ("0002_sms", "0002_telegram", "0002_preselection")
branch_labels = None
depends_on = None

_INDEXES = [
    ("ix_inbound_messages_received_at", "inbound_messages", "received_at"),
    ("ix_sms_inbound_received_at", "sms_inbound", "received_at"),
    ("ix_telegram_updates_answered_at", "telegram_updates", "answered_at"),
    ("ix_one_time_codes_created_at", "one_time_codes", "created_at"),
]


def upgrade() -> None:
    for name, table, column in _INDEXES:
        op.create_index(name, table, [column])


def downgrade() -> None:
    for name, table, _column in _INDEXES:
        op.drop_index(name, table_name=table)
