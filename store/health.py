"""What ``/healthz`` writes to find out whether the database takes writes: a row it updates and
commits. A write that is rolled back would not tell: on SQLite (WAL) nothing reaches the disk
before the commit, so a full disk refuses only the commit."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from store.db import write_lock_by
from store.tables import metadata
from store.types import UTCDateTime

health_probes = sa.Table(
    "health_probes",
    metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("probed_at", UTCDateTime, nullable=False),
)


def probe(engine: Engine, now: datetime, wait: float) -> None:
    """Write and commit the time of this probe; raises what the database raised, and (SQLite)
    ``DatabaseBusy`` when the write lock was not free within ``wait`` seconds."""
    dialect: Any = postgresql if engine.dialect.name == "postgresql" else sqlite
    insert = dialect.insert(health_probes).values(name="probe", probed_at=now)
    upsert = insert.on_conflict_do_update(
        index_elements=["name"], set_={"probed_at": insert.excluded.probed_at}
    )
    with write_lock_by(time.monotonic() + wait), engine.begin() as conn:
        conn.execute(upsert)
