"""Shared fixtures: a real database (SQLite file; PostgreSQL too when
``PLATEBOT_TEST_DATABASE_URL`` is set), a manual clock, and an app wired like production."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from core.clock import ManualClock
from core.outbox import Channel
from platebot.bootstrap import App, build_app
from platebot.settings import Settings
from store import migrate
from store.db import create_engine, normalise_url
from store.tables import metadata
from tests.support import RENDERERS, CapturingSender, Renderer

POSTGRES_URL = os.environ.get("PLATEBOT_TEST_DATABASE_URL")
BACKENDS = ["sqlite", *(["postgresql"] if POSTGRES_URL else [])]


@pytest.fixture(scope="session")
def postgres_engine() -> Iterator[Engine]:
    """A fresh database on the test server for this run, migrated once, dropped at the end."""
    if not POSTGRES_URL:
        pytest.skip("PLATEBOT_TEST_DATABASE_URL is not set")
    server = make_url(normalise_url(POSTGRES_URL))
    name = f"platebot_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine = create_engine(server.set(database=name).render_as_string(hide_password=False))
    migrate.upgrade(engine)
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _empty_tables(engine: Engine) -> None:
    with engine.begin() as conn:
        names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
        conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=BACKENDS)
def db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """A migrated, empty database: a SQLite file, and PostgreSQL when configured."""
    if request.param == "postgresql":
        engine: Engine = request.getfixturevalue("postgres_engine")
        _empty_tables(engine)
        yield engine
        return
    path = tmp_path_factory.mktemp("db") / "platebot.db"
    engine = create_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=[r.name for r in RENDERERS])
def renderer(request: pytest.FixtureRequest) -> Renderer:
    """Each channel's way of showing replies and picking choices (SMS, Telegram, console)."""
    return next(r for r in RENDERERS if r.name == request.param)


@pytest.fixture(params=["zh", "en"])
def lang(request: pytest.FixtureRequest) -> str:
    """The user's language."""
    return str(request.param)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sms() -> CapturingSender:
    return CapturingSender()


@pytest.fixture
def app(db: Engine, clock: ManualClock, sms: CapturingSender) -> App:
    settings = Settings(database_url=str(db.url), secret_key="test-secret")
    return build_app(settings, clock=clock, senders={Channel.SMS: sms}, db=db, upgrade=False)
