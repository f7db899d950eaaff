"""Shared fixtures: a real database (SQLite file; PostgreSQL too when
``PLATEBOT_TEST_DATABASE_URL`` is set), a manual clock, and an app wired like production."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.clock import ManualClock
from core.outbox import Channel
from platebot.bootstrap import App, build_app
from platebot.settings import Settings
from store import migrate
from store.db import create_engine, scratch_database
from store.tables import metadata
from tests.sms_support import ACCOUNT_SID, AUTH_TOKEN
from tests.standins.twilio_api import TwilioStandIn
from tests.support import RENDERERS, CapturingSender, Renderer

POSTGRES_URL = os.environ.get("PLATEBOT_TEST_DATABASE_URL")
BACKENDS = ["sqlite", *(["postgresql"] if POSTGRES_URL else [])]


@pytest.fixture(scope="session")
def postgres_engine() -> Iterator[Engine]:
    """A fresh database on the test server for this run, migrated once, dropped at the end."""
    if not POSTGRES_URL:
        pytest.skip("PLATEBOT_TEST_DATABASE_URL is not set")
    with scratch_database(POSTGRES_URL, "platebot_test") as engine:
        migrate.upgrade(engine)
        yield engine


# The tables written since they were last emptied: any row ever inserted (kept, deleted or
# rolled back) gave the table's file a page; a table truncated or never written has none.
_WRITTEN_TABLES = sa.text(
    "SELECT name FROM unnest(CAST(:tables AS text[])) AS name"
    " WHERE pg_relation_size(CAST(quote_ident(name) AS regclass)) > 0"
)

# Restart the identity sequences of the tables (those ``TRUNCATE ... RESTART IDENTITY`` restarts)
# that have been used since they were last restarted: ``setval``, not a new file for each.
_RESTART_USED_SEQUENCES = sa.text(
    "SELECT setval(format('%I.%I', s.schemaname, s.sequencename), s.start_value, false)"
    " FROM pg_sequences s"
    " JOIN pg_namespace n ON n.nspname = s.schemaname"
    " JOIN pg_class c ON c.relname = s.sequencename AND c.relnamespace = n.oid"
    " JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid"
    "  AND d.deptype IN ('a', 'i')"
    " JOIN pg_class t ON t.oid = d.refobjid"
    " WHERE t.relname = ANY(:tables) AND s.last_value IS NOT NULL"
)


def _empty_tables(engine: Engine) -> None:
    """Every table empty and its ids starting again from 1, as a new database has them: the
    tables a test wrote (and those referring to them) are truncated, the others are as the last
    truncate left them. A ``TRUNCATE ... RESTART IDENTITY`` of all 45 tables and their 29
    sequences (new files for each table, index and sequence) took 0.1 s alone and up to a second
    with the suite's other worker busy, before each of its ~1,500 PostgreSQL tests. Not
    ``DELETE``, though faster still: a query without ``ORDER BY`` (some tests read rows so) then
    gets them in another order than after a truncate, as dead rows and free space are left."""
    names = [table.name for table in metadata.sorted_tables]
    quote = engine.dialect.identifier_preparer.quote
    with engine.begin() as conn:
        written = conn.execute(_WRITTEN_TABLES, {"tables": names}).scalars().all()
        if written:
            listed = ", ".join(quote(name) for name in written)
            conn.execute(sa.text(f"TRUNCATE {listed} CASCADE"))
        conn.execute(_RESTART_USED_SEQUENCES, {"tables": names})


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once for the run (per test worker): each test gets a copy, which
    is what migrating a new file gives, in a millisecond instead of the migrations' half second."""
    path = tmp_path_factory.mktemp("template") / "platebot.db"
    engine = create_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()  # the last connection closed writes the WAL back: all is in the one file
    assert not path.with_name(path.name + "-wal").exists()
    return path


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
    shutil.copyfile(request.getfixturevalue("migrated_sqlite"), path)
    engine = create_engine(f"sqlite:///{path}")
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
def standin(clock: ManualClock) -> Iterator[TwilioStandIn]:
    """A local stand-in of Twilio's Messages REST API (the real twilio client talks to it), on
    the test's clock."""
    with TwilioStandIn(ACCOUNT_SID, AUTH_TOKEN, now=clock.now) as running:
        yield running


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sms() -> CapturingSender:
    return CapturingSender()


@pytest.fixture
def telegram_sender() -> CapturingSender:
    """Stands in for the Bot API of the ``app`` fixture."""
    return CapturingSender()


@pytest.fixture
def app(
    db: Engine, clock: ManualClock, sms: CapturingSender, telegram_sender: CapturingSender
) -> App:
    """Telegram on, as with a bot token (a linked chat is reached there), without the bot."""
    settings = Settings(database_url=str(db.url), secret_key="test-secret")
    senders = {Channel.SMS: sms, Channel.TELEGRAM: telegram_sender}
    return build_app(settings, clock=clock, senders=senders, db=db, upgrade=False)
