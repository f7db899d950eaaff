"""Tables of offices, number pools, the vehicle registry, pre-selections, selection sessions,
the blacklist and the information pages; and the mapping of their core entities.

Plate numbers are not mapped: a pool holds up to millions of rows, reached with plain SQL along
two indexes (random draws by sort key; self-chosen numbers by serial).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import registry

from core.info import Announcement, Contact, Guide
from core.offices import Office
from core.plates import PlateKind
from core.pools import NumberState
from core.preselection import BlacklistEntry, Preselection, PreselectionState, SelectionSession
from core.registry import VehicleRecord
from store.tables import metadata
from store.types import UTCDateTime, enum_column

offices = sa.Table(
    "offices",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("province", sa.String(1), nullable=False),
    sa.Column("letter", sa.String(1), nullable=False),
    sa.Column("name", sa.String(80), nullable=False),
    sa.Column("region_code", sa.String(4), nullable=False),
    sa.Column("address", sa.String(200), nullable=False),
    sa.Column("opens", sa.Time, nullable=False),
    sa.Column("closes", sa.Time, nullable=False),
    sa.Column("notice", sa.Text, nullable=False),
    sa.Column("notice_en", sa.Text, nullable=False),
    sa.Column("name_en", sa.String(120), nullable=False, server_default=""),
    sa.Column("address_en", sa.String(200), nullable=False, server_default=""),
    sa.Column("self_choice_allowance", sa.Integer, nullable=False),
    sa.Column("batch_allowance", sa.Integer, nullable=False),
    sa.Column("batch_size", sa.Integer, nullable=False),
    sa.Column("candidates_per_check", sa.Integer, nullable=False),
    sa.Column("validity_working_days", sa.Integer, nullable=False),
    sa.Column("patterns", sa.JSON, nullable=False),
    sa.UniqueConstraint("province", "letter", name="uq_offices_code"),
    sa.Index("ix_offices_region", "region_code"),
)

office_holidays = sa.Table(
    "office_holidays",
    metadata,
    sa.Column("office_id", sa.Integer, sa.ForeignKey("offices.id"), primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
)

plate_numbers = sa.Table(
    "plate_numbers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("office_id", sa.Integer, sa.ForeignKey("offices.id"), nullable=False),
    sa.Column("kind", enum_column(PlateKind), nullable=False),
    sa.Column("serial", sa.String(8), nullable=False),
    sa.Column("state", enum_column(NumberState), nullable=False),
    sa.Column("sort_key", sa.Integer, nullable=False),
    sa.Column("no_four", sa.Boolean, nullable=False),
    sa.UniqueConstraint("office_id", "kind", "serial", name="uq_plate_numbers_serial"),
    # random draws: the next pooled numbers after a random point of the sort key
    sa.Index("ix_plate_numbers_draw", "office_id", "kind", "state", "sort_key"),
    sa.Index("ix_plate_numbers_draw_no_four", "office_id", "kind", "state", "no_four", "sort_key"),
)

# A pooled number shown in a random batch is held for that selection session: a row here. Holds
# live apart from the (large) pool table so that drawing and releasing a batch writes a few rows
# of a small table instead of moving twenty numbers between index ranges of the pool's indexes.
number_holds = sa.Table(
    "number_holds",
    metadata,
    sa.Column("number_id", sa.Integer, sa.ForeignKey("plate_numbers.id"), primary_key=True),
    sa.Column("session_id", sa.Integer, sa.ForeignKey("selection_sessions.id"), nullable=False),
    sa.Column("serial", sa.String(8), nullable=False),
    sa.Index("ix_number_holds_session", "session_id"),
)

vehicle_records = sa.Table(
    "vehicle_records",
    metadata,
    sa.Column("vin", sa.String(17), primary_key=True),
    sa.Column("certificate_no", sa.String(30), nullable=False),
    sa.Column("owner_id", sa.String(18), nullable=False),
    sa.Column("plate_kind", enum_column(PlateKind), nullable=False),
    sa.Column("registered", sa.Boolean, nullable=False),
    sa.Column("model", sa.String(60), nullable=False),
    sa.Column("imported_at", UTCDateTime, nullable=False),
)

preselections = sa.Table(
    "preselections",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("office_id", sa.Integer, sa.ForeignKey("offices.id"), nullable=False),
    sa.Column("vin", sa.String(17), nullable=False),
    sa.Column("plate_kind", enum_column(PlateKind), nullable=False),
    sa.Column("owner_id", sa.String(18), nullable=False),
    sa.Column("state", enum_column(PreselectionState), nullable=False),
    sa.Column("self_choice_left", sa.Integer, nullable=False),
    sa.Column("batches_left", sa.Integer, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("serial", sa.String(8)),
    sa.Column("selected_at", UTCDateTime),
    sa.Column("deadline", UTCDateTime),
    sa.Column("confirmed_at", UTCDateTime),
    sa.Column("cancelled_at", UTCDateTime),
    # one live pre-selection per vehicle; a cancelled one does not count
    sa.Index(
        "uq_preselections_live_vin",
        "vin",
        unique=True,
        postgresql_where=sa.text("state <> 'cancelled'"),
        sqlite_where=sa.text("state <> 'cancelled'"),
    ),
    sa.Index("ix_preselections_state_deadline", "state", "deadline"),
    sa.Index("ix_preselections_account", "account_id", "created_at"),
)

selection_sessions = sa.Table(
    "selection_sessions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("preselection_id", sa.Integer, sa.ForeignKey("preselections.id"), nullable=False),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("ended_at", UTCDateTime),
    sa.Index(
        "ix_selection_sessions_open",
        "expires_at",
        postgresql_where=sa.text("ended_at IS NULL"),
        sqlite_where=sa.text("ended_at IS NULL"),
    ),
    sa.Index("ix_selection_sessions_preselection", "preselection_id"),
)

blacklist = sa.Table(
    "blacklist",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("owner_id", sa.String(18), nullable=False),
    sa.Column("preselection_id", sa.Integer, sa.ForeignKey("preselections.id")),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("lifts_at", UTCDateTime, nullable=False),
    sa.Column("lifted_at", UTCDateTime),
    sa.Column("lifted_early", sa.Boolean, nullable=False),
    sa.Index(
        "ix_blacklist_due",
        "lifts_at",
        postgresql_where=sa.text("lifted_at IS NULL"),
        sqlite_where=sa.text("lifted_at IS NULL"),
    ),
    sa.Index("ix_blacklist_account", "account_id"),
    sa.Index("ix_blacklist_owner", "owner_id"),
)

guides = sa.Table(
    "guides",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("title", sa.String(80), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("title_en", sa.String(80), nullable=False),
    sa.Column("body_en", sa.Text, nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

contacts = sa.Table(
    "contacts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("office_id", sa.Integer, sa.ForeignKey("offices.id")),
    sa.Column("name", sa.String(80), nullable=False),
    sa.Column("name_en", sa.String(80), nullable=False),
    sa.Column("phone", sa.String(40), nullable=False),
    sa.Column("address", sa.String(200), nullable=False),
    sa.Column("address_en", sa.String(200), nullable=False),
    sa.Column("hours", sa.String(80), nullable=False),
)

announcements = sa.Table(
    "announcements",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("title", sa.String(80), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("title_en", sa.String(80), nullable=False),
    sa.Column("body_en", sa.Text, nullable=False),
    sa.Column("published_at", UTCDateTime, nullable=False),
    sa.Column("withdrawn_at", UTCDateTime),
    sa.Index("ix_announcements_published", "published_at"),
)


def map_preselection_entities(mapper_registry: registry) -> None:
    """Called once from ``store.tables.map_entities``."""
    mapper_registry.map_imperatively(Office, offices)
    mapper_registry.map_imperatively(VehicleRecord, vehicle_records)
    mapper_registry.map_imperatively(Preselection, preselections)
    mapper_registry.map_imperatively(SelectionSession, selection_sessions)
    mapper_registry.map_imperatively(BlacklistEntry, blacklist)
    mapper_registry.map_imperatively(Guide, guides)
    mapper_registry.map_imperatively(Contact, contacts)
    mapper_registry.map_imperatively(Announcement, announcements)
