"""Schema migrations (Alembic), run by ``platebot db upgrade`` and at start-up."""

from __future__ import annotations

import secrets
from importlib import resources

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from store.db import is_postgres
from store.tables import app_secrets

_LOCK_ID = 7_305_911  # PostgreSQL advisory lock: one process migrates at a time


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("store") / "migrations"))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Bring the database to ``revision``; safe when several processes start at once."""
    config = alembic_config(engine)
    if is_postgres(engine):
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT pg_advisory_lock(:id)"), {"id": _LOCK_ID})
            conn.commit()
            try:
                config.attributes["connection"] = conn
                command.upgrade(config, revision)
                conn.commit()
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:id)"), {"id": _LOCK_ID})
                conn.commit()
    else:
        command.upgrade(config, revision)


def current_revisions(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


def secret_key(engine: Engine) -> bytes:
    """The key one-time codes are hashed with when ``PLATEBOT_SECRET_KEY`` is not set: made once,
    kept in the database, so every process sharing the database uses the same one."""
    query = sa.select(app_secrets.c.value).where(app_secrets.c.name == "otp")
    with engine.begin() as conn:
        value = conn.execute(query).scalar()
        if value is None:  # first start: several processes may get here at once; one key wins
            insert = postgresql.insert if is_postgres(engine) else sqlite.insert
            conn.execute(
                insert(app_secrets)
                .values(name="otp", value=secrets.token_hex(32))
                .on_conflict_do_nothing(index_elements=["name"])
            )
            value = conn.execute(query).scalar_one()
    return bytes.fromhex(value)
