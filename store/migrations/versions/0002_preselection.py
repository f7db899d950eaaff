"""offices, number pools, vehicle registry, pre-selections, blacklist, information pages

Revision ID: 0002_preselection
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.types

revision = "0002_preselection"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "announcements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=80), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("title_en", sa.String(length=80), nullable=False),
        sa.Column("body_en", sa.Text(), nullable=False),
        sa.Column("published_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcements")),
    )
    with op.batch_alter_table("announcements", schema=None) as batch_op:
        batch_op.create_index("ix_announcements_published", ["published_at"], unique=False)

    op.create_table(
        "guides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=80), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("title_en", sa.String(length=80), nullable=False),
        sa.Column("body_en", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guides")),
    )
    op.create_table(
        "offices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("province", sa.String(length=1), nullable=False),
        sa.Column("letter", sa.String(length=1), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("region_code", sa.String(length=4), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("opens", sa.Time(), nullable=False),
        sa.Column("closes", sa.Time(), nullable=False),
        sa.Column("notice", sa.Text(), nullable=False),
        sa.Column("notice_en", sa.Text(), nullable=False),
        sa.Column("self_choice_allowance", sa.Integer(), nullable=False),
        sa.Column("batch_allowance", sa.Integer(), nullable=False),
        sa.Column("batch_size", sa.Integer(), nullable=False),
        sa.Column("candidates_per_check", sa.Integer(), nullable=False),
        sa.Column("validity_working_days", sa.Integer(), nullable=False),
        sa.Column("patterns", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offices")),
        sa.UniqueConstraint("province", "letter", name="uq_offices_code"),
    )
    with op.batch_alter_table("offices", schema=None) as batch_op:
        batch_op.create_index("ix_offices_region", ["region_code"], unique=False)

    op.create_table(
        "vehicle_records",
        sa.Column("vin", sa.String(length=17), nullable=False),
        sa.Column("certificate_no", sa.String(length=30), nullable=False),
        sa.Column("owner_id", sa.String(length=18), nullable=False),
        sa.Column(
            "plate_kind",
            sa.Enum(
                "small",
                "large",
                "small_nev",
                "large_nev",
                name="platekind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("registered", sa.Boolean(), nullable=False),
        sa.Column("model", sa.String(length=60), nullable=False),
        sa.Column("imported_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("vin", name=op.f("pk_vehicle_records")),
    )
    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("name_en", sa.String(length=80), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("address_en", sa.String(length=200), nullable=False),
        sa.Column("hours", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["office_id"], ["offices.id"], name=op.f("fk_contacts_office_id_offices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
    )
    op.create_table(
        "office_holidays",
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["office_id"], ["offices.id"], name=op.f("fk_office_holidays_office_id_offices")
        ),
        sa.PrimaryKeyConstraint("office_id", "day", name=op.f("pk_office_holidays")),
    )
    op.create_table(
        "plate_numbers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "small",
                "large",
                "small_nev",
                "large_nev",
                name="platekind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("serial", sa.String(length=8), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "pooled",
                "held",
                "preselected",
                "issued",
                "for_sale",
                "in_auction",
                "reserved",
                name="numberstate",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("sort_key", sa.Integer(), nullable=False),
        sa.Column("no_four", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["office_id"], ["offices.id"], name=op.f("fk_plate_numbers_office_id_offices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plate_numbers")),
        sa.UniqueConstraint("office_id", "kind", "serial", name="uq_plate_numbers_serial"),
    )
    with op.batch_alter_table("plate_numbers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_plate_numbers_draw", ["office_id", "kind", "state", "sort_key"], unique=False
        )
        batch_op.create_index(
            "ix_plate_numbers_draw_no_four",
            ["office_id", "kind", "state", "no_four", "sort_key"],
            unique=False,
        )

    op.create_table(
        "preselections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("vin", sa.String(length=17), nullable=False),
        sa.Column(
            "plate_kind",
            sa.Enum(
                "small",
                "large",
                "small_nev",
                "large_nev",
                name="platekind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("owner_id", sa.String(length=18), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "started",
                "selected",
                "confirmed",
                "cancelled",
                name="preselectionstate",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("self_choice_left", sa.Integer(), nullable=False),
        sa.Column("batches_left", sa.Integer(), nullable=False),
        sa.Column("created_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("serial", sa.String(length=8), nullable=True),
        sa.Column("selected_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("deadline", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("confirmed_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_preselections_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["office_id"], ["offices.id"], name=op.f("fk_preselections_office_id_offices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_preselections")),
    )
    with op.batch_alter_table("preselections", schema=None) as batch_op:
        batch_op.create_index(
            "ix_preselections_account", ["account_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_preselections_state_deadline", ["state", "deadline"], unique=False
        )
        batch_op.create_index(
            "uq_preselections_live_vin",
            ["vin"],
            unique=True,
            postgresql_where=sa.text("state <> 'cancelled'"),
            sqlite_where=sa.text("state <> 'cancelled'"),
        )

    op.create_table(
        "blacklist",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.String(length=18), nullable=False),
        sa.Column("preselection_id", sa.Integer(), nullable=True),
        sa.Column("created_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lifts_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lifted_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lifted_early", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_blacklist_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["preselection_id"],
            ["preselections.id"],
            name=op.f("fk_blacklist_preselection_id_preselections"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blacklist")),
    )
    with op.batch_alter_table("blacklist", schema=None) as batch_op:
        batch_op.create_index("ix_blacklist_account", ["account_id"], unique=False)
        batch_op.create_index(
            "ix_blacklist_due",
            ["lifts_at"],
            unique=False,
            postgresql_where=sa.text("lifted_at IS NULL"),
            sqlite_where=sa.text("lifted_at IS NULL"),
        )
        batch_op.create_index("ix_blacklist_owner", ["owner_id"], unique=False)

    op.create_table(
        "selection_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("preselection_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("started_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_selection_sessions_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["preselection_id"],
            ["preselections.id"],
            name=op.f("fk_selection_sessions_preselection_id_preselections"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_selection_sessions")),
    )
    with op.batch_alter_table("selection_sessions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_selection_sessions_open",
            ["expires_at"],
            unique=False,
            postgresql_where=sa.text("ended_at IS NULL"),
            sqlite_where=sa.text("ended_at IS NULL"),
        )
        batch_op.create_index(
            "ix_selection_sessions_preselection", ["preselection_id"], unique=False
        )

    op.create_table(
        "number_holds",
        sa.Column("number_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["number_id"],
            ["plate_numbers.id"],
            name=op.f("fk_number_holds_number_id_plate_numbers"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["selection_sessions.id"],
            name=op.f("fk_number_holds_session_id_selection_sessions"),
        ),
        sa.PrimaryKeyConstraint("number_id", name=op.f("pk_number_holds")),
    )
    with op.batch_alter_table("number_holds", schema=None) as batch_op:
        batch_op.create_index("ix_number_holds_session", ["session_id"], unique=False)


def downgrade() -> None:
    for table in (
        "number_holds",
        "selection_sessions",
        "blacklist",
        "preselections",
        "plate_numbers",
        "office_holidays",
        "contacts",
        "vehicle_records",
        "offices",
        "guides",
        "announcements",
    ):
        op.drop_table(table)
