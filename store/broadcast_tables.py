"""The table of staff broadcasts, and the mapping of ``core.broadcast_ports.Broadcast``. Each
recipient's delivery is an outbox row with the broadcast's id (``outbox.broadcast_id``)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import registry

from core.broadcast_ports import AudienceKind, Broadcast, BroadcastState, Channels
from store.tables import metadata
from store.types import UTCDateTime, enum_column

broadcasts = sa.Table(
    "broadcasts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("text_zh", sa.Text, nullable=False),
    sa.Column("text_en", sa.Text, nullable=False),
    sa.Column("audience_kind", enum_column(AudienceKind), nullable=False),
    sa.Column("region_code", sa.String(4)),
    sa.Column("period_id", sa.Integer),
    sa.Column("phones", sa.JSON, nullable=False),
    sa.Column("channels", enum_column(Channels), nullable=False),
    sa.Column("created_by", sa.String(80), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("state", enum_column(BroadcastState), nullable=False),
    sa.Column("send_at", UTCDateTime),
    sa.Column("started_at", UTCDateTime),
    sa.Column("paused_at", UTCDateTime),
    sa.Column("cancelled_at", UTCDateTime),
    # The office it belongs to; NULL: every office's (an admin's) (migration 0023).
    sa.Column("office_code", sa.String(8)),
    # The timer's claim: scheduled broadcasts by their time.
    sa.Index(
        "ix_broadcasts_scheduled",
        "send_at",
        postgresql_where=sa.text("state = 'scheduled'"),
        sqlite_where=sa.text("state = 'scheduled'"),
    ),
    # A supervisor's list: their office's broadcasts, newest first.
    sa.Index("ix_broadcasts_office", "office_code", "id"),
)


def map_broadcast_entities(mapper_registry: registry) -> None:
    """Called once from ``store.tables.map_entities``."""
    mapper_registry.map_imperatively(Broadcast, broadcasts)
