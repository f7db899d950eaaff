"""staff members of the web console, their sign-in attempts, the audit of staff actions

Revision ID: 0018_staff_accounts
Revises: 0017_reservations
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.types

revision = "0018_staff_accounts"
down_revision = "0017_reservations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("office_code", sa.String(length=8), nullable=True),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("session_key", sa.String(length=32), nullable=False),
        sa.Column("created_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_members")),
        sa.UniqueConstraint("name", name=op.f("uq_staff_members_name")),
    )
    op.create_table(
        "staff_sign_ins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_sign_ins")),
    )
    op.create_index("ix_staff_sign_ins_name", "staff_sign_ins", ["name", "at"], unique=False)
    op.create_index("ix_staff_sign_ins_address", "staff_sign_ins", ["address", "at"], unique=False)
    op.create_table(
        "staff_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("target", sa.String(length=120), nullable=False),
        sa.Column("office_code", sa.String(length=8), nullable=True),
        sa.Column("detail", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_audit")),
    )
    op.create_index("ix_staff_audit_office", "staff_audit", ["office_code", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_staff_audit_office", table_name="staff_audit")
    op.drop_table("staff_audit")
    op.drop_index("ix_staff_sign_ins_address", table_name="staff_sign_ins")
    op.drop_index("ix_staff_sign_ins_name", table_name="staff_sign_ins")
    op.drop_table("staff_sign_ins")
    op.drop_table("staff_members")
