"""A database connection lost under a dialog turn (a server restart, an idle connection dropped):
pooled connections are pinged only when they may be dead, and a turn that lost its connection
before committing is run again, so the user never sees it."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine as SqlEngine
from transitions import EventData

from core.accounts import Language
from core.clock import ManualClock
from core.outbox import Channel, Outcome, Outgoing, Sent
from dialogs.replies import Inbound
from platebot.dispatcher import Dispatcher
from store import db as store_db
from store.db import normalise_url
from store.tables import outbox as outbox_table
from store.uow import SqlUnitOfWork, UnitOfWorkFactory
from tests.support import outbox_row
from tests.tally import TallyFlow, start_tally, tally_engine, tally_of


class _Lost(Exception):
    """What the storage library raises when a connection is gone (SQLAlchemy's flag)."""

    connection_invalidated = True


class _LosingFlow(TallyFlow):
    """Its first turn fails as if the connection had been lost mid-turn."""

    def __init__(self) -> None:
        super().__init__()
        self.failures = 1
        self.runs = 0

    def add(self, event: EventData) -> None:
        self.runs += 1
        super().add(event)
        if self.failures:
            self.failures -= 1
            raise _Lost("server closed the connection unexpectedly")


def test_a_turn_that_lost_its_connection_is_run_again(db: SqlEngine, clock: ManualClock) -> None:
    flow = _LosingFlow()
    uow = UnitOfWorkFactory(db)
    engine = tally_engine(uow, clock, flow)
    start_tally(engine, "u1")

    reply = engine.handle(Inbound("test", "u1", "a"))

    assert flow.runs == 2
    assert [line.params for line in reply.lines] == [{"text": "1"}]  # not "error.internal"
    assert tally_of(engine, "u1") == ("tally", ["a"])  # once: the lost attempt left nothing


class _LosingCommit(SqlUnitOfWork):
    def commit(self) -> None:
        raise _Lost("server closed the connection unexpectedly")


def test_a_turn_whose_commit_lost_the_connection_is_not_run_again(
    db: SqlEngine, clock: ManualClock
) -> None:
    """The commit may have been made before the connection went: running the turn again could
    apply it twice. The user is told something went wrong instead."""
    flow = TallyFlow()
    uow = UnitOfWorkFactory(db)
    engine = tally_engine(uow, clock, flow)
    start_tally(engine, "u1")
    runs: list[str] = []
    losing = {"commits": 1}

    def factory() -> SqlUnitOfWork:
        if losing["commits"]:
            losing["commits"] -= 1
            runs.append("losing")
            return _LosingCommit(db)
        runs.append("plain")
        return SqlUnitOfWork(db)

    engine.uow_factory = factory
    reply = engine.handle(Inbound("test", "u1", "a"))

    assert runs == ["losing", "plain"]  # the failed turn, then the reset to the menu
    assert "error.internal" in reply.keys


# -- PostgreSQL: the server drops the pool's connections --------------------------------------


@pytest.fixture
def postgres(db: SqlEngine) -> Iterator[SqlEngine]:
    if db.dialect.name != "postgresql":
        pytest.skip("a server to drop the connections is PostgreSQL's")
    yield db


def _drop_pooled_connections(db: SqlEngine) -> int:
    """Terminate every server process of the database but the caller's (as a restart would),
    from a connection outside the engine's pool."""
    outside = sa.create_engine(normalise_url(db.url.render_as_string(hide_password=False)))
    try:
        with outside.connect() as conn:
            dropped = conn.execute(
                sa.text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalar_one()
            # pg_terminate_backend only signals: wait until the processes are gone, else a
            # statement sent at once may still be answered (on a loaded machine it was).
            # pg_stat_activity is read once per transaction: each look is a transaction of its
            # own, else the loop saw the processes as they were and ran its 5 s out every time.
            for _ in range(500):
                conn.commit()
                left = conn.execute(
                    sa.text(
                        "SELECT count(*) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                ).scalar_one()
                if left == 0:
                    break
                time.sleep(0.01)
    finally:
        outside.dispose()
    return int(dropped)


def _warm(db: SqlEngine) -> None:
    """Two connections in the pool, both used just now."""
    with db.connect() as one, db.connect() as two:
        one.execute(sa.text("SELECT 1"))
        two.execute(sa.text("SELECT 1"))


def test_a_turn_after_the_server_dropped_the_connections_is_answered(
    postgres: SqlEngine, clock: ManualClock
) -> None:
    uow = UnitOfWorkFactory(postgres)
    engine = tally_engine(uow, clock)
    start_tally(engine, "u1")
    _warm(postgres)
    assert _drop_pooled_connections(postgres) >= 2

    reply = engine.handle(Inbound("test", "u1", "a"))

    assert [line.params for line in reply.lines] == [{"text": "1"}]
    assert tally_of(engine, "u1") == ("tally", ["a"])


def test_a_recently_used_connection_is_not_pinged(
    postgres: SqlEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No round trip to the server at checkout: the first statement finds the loss, and the
    connections used before it are pinged from then on."""
    # "Recently" is 5 s; on a loaded machine the test itself can take longer than that.
    monkeypatch.setattr(store_db, "IDLE_BEFORE_PING", 600.0)
    postgres.dispose()  # no connection of earlier tests, used before a loss they saw
    _warm(postgres)
    _drop_pooled_connections(postgres)
    with postgres.connect() as conn, pytest.raises(sa.exc.DBAPIError) as raised:
        conn.execute(sa.text("SELECT 1"))
    assert raised.value.connection_invalidated
    with postgres.connect() as conn:  # the other pooled one: pinged, replaced
        assert conn.execute(sa.text("SELECT 1")).scalar_one() == 1


def test_a_connection_idle_in_the_pool_is_pinged(
    postgres: SqlEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _warm(postgres)
    _drop_pooled_connections(postgres)
    monkeypatch.setattr(store_db, "IDLE_BEFORE_PING", 0.0)
    with postgres.connect() as conn:
        assert conn.execute(sa.text("SELECT 1")).scalar_one() == 1


def test_a_send_is_recorded_though_the_server_dropped_the_connections_meanwhile(
    postgres: SqlEngine, clock: ManualClock
) -> None:
    """A message that reached the provider while PostgreSQL restarted is recorded as sent, not
    left claimed to be sent again when the lease runs out."""
    uow = UnitOfWorkFactory(postgres)
    with uow() as unit:
        unit.outbox.add(
            outbox_row(
                phone="+8613800138000",
                key="raw",
                params={"text": "notice"},
                language=Language.ZH,
                now=clock.now(),
            )
        )
        unit.commit()
    sent: list[str] = []

    class RestartDuringSend:
        def send(self, message: Outgoing) -> Outcome:
            text = message.text
            assert _drop_pooled_connections(postgres) >= 1  # the claim's connection, just used
            sent.append(text)
            return Sent("SM1")

    dispatcher = Dispatcher(uow, clock, {Channel.SMS: RestartDuringSend()})
    assert dispatcher.run_once() == 1
    with postgres.connect() as conn:
        status = conn.execute(sa.select(outbox_table.c.status)).scalar_one()
    assert (status, sent) == ("sent", ["notice"])
