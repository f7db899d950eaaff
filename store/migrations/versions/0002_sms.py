"""SMS channel: inbound MessageSids, opt-outs, pending pages, delivery status

Revision ID: 0002_sms
Revises: 0001
Create Date: 2026-11-21 21:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.types

revision = "0002_sms"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sms_inbound",
        sa.Column("message_sid", sa.String(length=64), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("messages", sa.JSON(), nullable=False),
        sa.Column("received_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("message_sid", name=op.f("pk_sms_inbound")),
    )
    op.create_table(
        "sms_opt_outs",
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("opted_out_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("phone", name=op.f("pk_sms_opt_outs")),
    )
    op.create_table(
        "sms_pages",
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("pages", sa.JSON(), nullable=False),
        sa.Column(
            "language",
            sa.Enum("zh", "en", name="language", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("created_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("phone", name=op.f("pk_sms_pages")),
    )
    op.create_table(
        "sms_deliveries",
        sa.Column("message_sid", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("updated_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("message_sid", name=op.f("pk_sms_deliveries")),
    )


def downgrade() -> None:
    op.drop_table("sms_deliveries")
    op.drop_table("sms_pages")
    op.drop_table("sms_opt_outs")
    op.drop_table("sms_inbound")
