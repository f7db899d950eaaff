"""Tables of the staff console: staff members, sign-in attempts (for throttling) and the audit
of staff actions."""

from __future__ import annotations

import sqlalchemy as sa

from core.staff import Role
from store.tables import metadata
from store.types import UTCDateTime, enum_column

staff_members = sa.Table(
    "staff_members",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(40), nullable=False, unique=True),
    sa.Column("role", enum_column(Role), nullable=False),
    sa.Column("office_code", sa.String(8)),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("session_key", sa.String(32), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

staff_sign_ins = sa.Table(
    "staff_sign_ins",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("name", sa.String(40), nullable=False),
    sa.Column("address", sa.String(64), nullable=False),
    sa.Column("succeeded", sa.Boolean, nullable=False),
    sa.Index("ix_staff_sign_ins_name", "name", "at"),
    sa.Index("ix_staff_sign_ins_address", "address", "at"),
)

staff_audit = sa.Table(
    "staff_audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("actor", sa.String(80), nullable=False),
    sa.Column("source", sa.String(8), nullable=False),
    sa.Column("address", sa.String(64), nullable=False),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("target", sa.String(120), nullable=False),
    sa.Column("office_code", sa.String(8)),
    sa.Column("detail", sa.String(200), nullable=False),
    sa.Index("ix_staff_audit_office", "office_code", "id"),
)
