"""Engines for SQLite (embedded) and PostgreSQL (shared by several server processes)."""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url

from core.ports import StoreBusy


def normalise_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` use the psycopg 3 driver that platebot ships with."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


_ORJSON = (
    orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
)


def dumps(value: Any) -> str:
    """JSON for the database's JSON columns: orjson (several times faster than the standard
    library, and JSON columns are written on every dialog turn), with the standard library for
    what orjson refuses (a lone surrogate in a text typed on a console, say). What neither can
    keep exactly (an integer beyond 64 bits would come back as a float) is refused."""
    try:
        return orjson.dumps(value, option=_ORJSON).decode()
    except TypeError:
        text = json.dumps(value)
    if json.dumps(loads(text)) != text:
        raise ValueError("a value that JSON cannot keep exactly")
    return text


def loads(text: str | bytes) -> Any:
    """Read what ``dumps`` wrote (orjson, or the standard library for what orjson refuses)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def create_engine(url: str, **kwargs: Any) -> Engine:
    """An engine whose errors never carry statement parameters (they hold personal data, and
    errors get logged)."""
    url = normalise_url(url)
    kwargs.setdefault("json_serializer", dumps)
    kwargs.setdefault("json_deserializer", loads)
    if make_url(url).get_backend_name() == "sqlite":
        return _sqlite_engine(url, **kwargs)
    engine = sa.create_engine(url, hide_parameters=True, **kwargs)
    _ping_when_stale(engine)
    return engine


IDLE_BEFORE_PING = 5.0  # seconds a pooled connection may sit unused before it is pinged


def _ping_when_stale(engine: Engine) -> None:
    """Ping a pooled connection at checkout only when it may have died unseen: it sat unused in
    the pool for more than ``IDLE_BEFORE_PING`` seconds, or it was last used before another
    connection of this engine was found lost (a server restart drops them all). A ping on every
    checkout (``pool_pre_ping``) cost a round trip to the server per transaction. A connection
    that dies between pings fails its statement with ``connection_invalidated`` set, and a dialog
    turn is then run again on a fresh connection (``dialogs.engine.Engine.handle``)."""
    lost_at = [float("-inf")]  # when a connection of this engine was last found lost

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["platebot_used_at"] = time.monotonic()

    @event.listens_for(engine, "invalidate")
    def _on_invalidate(_dbapi_connection: Any, _record: Any, exception: Any) -> None:
        if exception is not None:
            lost_at[0] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        used_at = record.info.get("platebot_used_at")  # None: connected just now
        if used_at is None:
            return
        if time.monotonic() - used_at <= IDLE_BEFORE_PING and used_at > lost_at[0]:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            # The pool drops this connection and checks out (or makes) another.
            raise sa.exc.DisconnectionError("a pooled connection was lost") from error


BUSY_TIMEOUT_MS = 30_000  # how long a transaction waits for SQLite's write lock by default


class DatabaseBusy(StoreBusy):
    """SQLite's write lock could not be had by the deadline ``write_lock_by`` set."""


@dataclass
class _LockDeadline:
    at: float  # time.monotonic()
    missed: bool = False


_deadline: ContextVar[_LockDeadline | None] = ContextVar("platebot_lock_deadline", default=None)
_reading: ContextVar[bool] = ContextVar("platebot_reading_only", default=False)


@contextmanager
def write_lock_by(deadline: float) -> Iterator[None]:
    """On SQLite, a transaction begun in this block (in this thread) waits for the write lock
    until ``deadline`` (``time.monotonic()``; on Linux one clock for every process) and no
    longer: ``DatabaseBusy`` then, and at once for every later transaction of the block, so that
    work given up (an answer already sent without it) does not run after all when the lock
    frees. Nothing on PostgreSQL, where there is no database-wide write lock to wait for."""
    token = _deadline.set(_LockDeadline(deadline))
    try:
        yield
    finally:
        _deadline.reset(token)


@contextmanager
def reading_only() -> Iterator[None]:
    """On SQLite, transactions begun in this block (in this thread) are plain deferred ones that
    only read: they do not wait for the write lock, which another process may hold (or a full
    disk keep from being used). A write in them fails instead of waiting."""
    token = _reading.set(True)
    try:
        yield
    finally:
        _reading.reset(token)


def _begin_immediate(dbapi_connection: Any) -> None:
    """Every transaction starts with ``BEGIN IMMEDIATE`` (see ``_sqlite_engine``), waiting at most
    until the deadline of ``write_lock_by`` when one is set."""
    driver: sqlite3.Connection = dbapi_connection.driver_connection
    if _reading.get():
        driver.execute("BEGIN")
        return
    limit = _deadline.get()
    if limit is None:
        driver.execute("BEGIN IMMEDIATE")
        return
    remaining = limit.at - time.monotonic()
    if limit.missed or remaining <= 0:
        limit.missed = True
        raise DatabaseBusy("the database's write lock was not free in time")
    driver.execute(f"PRAGMA busy_timeout = {max(1, int(remaining * 1000))}")
    try:
        driver.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        if error.sqlite_errorcode != sqlite3.SQLITE_BUSY:
            raise
        limit.missed = True
        raise DatabaseBusy("the database's write lock was not free in time") from error
    finally:
        driver.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


def _sqlite_engine(url: str, **kwargs: Any) -> Engine:
    """Every transaction starts with ``BEGIN IMMEDIATE``: writers queue on the database lock, so
    two turns of one user (or two processes) are applied one after the other. WAL lets readers
    go on meanwhile."""
    engine = sa.create_engine(
        url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000}, hide_parameters=True, **kwargs
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        if make_url(url).database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_connection: Any, _record: Any) -> None:
        # A COMMIT SQLite refused (a full disk) leaves SQLite's transaction open, while
        # SQLAlchemy counts it as ended and gives the connection back without its rollback: the
        # next BEGIN on it would fail ("cannot start a transaction within a transaction").
        if dbapi_connection is not None and dbapi_connection.in_transaction:
            dbapi_connection.rollback()

    # The dialect's own BEGIN, not a "begin" event: SQLAlchemy wraps an error of ``do_begin``
    # (a lock not had in time) and leaves the connection able to begin again, while an error
    # raised by a "begin" listener leaves it unable to start a transaction by itself ever after
    # (statements would then run outside any transaction).
    engine.dialect.do_begin = _begin_immediate  # type: ignore[method-assign]
    return engine


@contextmanager
def scratch_database(server_url: str, prefix: str) -> Iterator[Engine]:
    """A new, empty database on a PostgreSQL server, dropped afterwards (tests, benchmarks)."""
    server = make_url(normalise_url(server_url))
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine = create_engine(server.set(database=name).render_as_string(hide_password=False))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"
