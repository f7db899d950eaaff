"""A unit of work whose commit the database refuses (a full disk, a deferred constraint) or whose
transaction could not begin (the write lock held elsewhere) leaves nothing behind: the next unit
of work, on the turn process's kept connection too, runs as if nothing had happened."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine as SqlEngine

from store.db import DatabaseBusy, create_engine, write_lock_by
from store.uow import UnitOfWorkFactory

# Tables of this test only: a foreign key checked at commit, so that the commit itself fails.
_metadata = sa.MetaData()
_parents = sa.Table(
    "commit_probe_parents", _metadata, sa.Column("id", sa.Integer, primary_key=True)
)
_children = sa.Table(
    "commit_probe_children",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "parent_id",
        sa.Integer,
        sa.ForeignKey("commit_probe_parents.id", deferrable=True, initially="DEFERRED"),
    ),
)


@pytest.fixture
def tables(db: SqlEngine) -> Iterator[SqlEngine]:
    _metadata.create_all(db)
    yield db
    _metadata.drop_all(db)


def children(db: SqlEngine) -> int:
    with db.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(_children)).scalar_one())


@pytest.mark.parametrize("keep_connection", [True, False])
def test_after_a_refused_commit_the_next_unit_of_work_runs(
    tables: SqlEngine, keep_connection: bool
) -> None:
    factory = UnitOfWorkFactory(tables, keep_connection=keep_connection)
    with pytest.raises(sa.exc.IntegrityError), factory() as uow:
        uow.connection.execute(_children.insert().values(parent_id=99))  # no such parent
        uow.commit()  # refused here, at the end of the transaction
    for parent in (1, 2):  # and again: the connection is not left half in a transaction
        with factory() as uow:
            uow.connection.execute(_parents.insert().values(id=parent))
            uow.connection.execute(_children.insert().values(parent_id=parent))
            uow.commit()
    assert children(tables) == 2


def test_a_transaction_that_could_not_have_the_write_lock_leaves_the_connection_usable(
    tmp_path: Path,
) -> None:
    """SQLite: another process holds the write lock past the deadline; the next unit of work,
    once the lock is free, runs in a transaction of its own (not statement by statement)."""
    path = tmp_path / "locked.db"
    db = create_engine(f"sqlite:///{path}")
    _metadata.create_all(db)
    factory = UnitOfWorkFactory(db, keep_connection=True)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    with (
        pytest.raises(DatabaseBusy),
        write_lock_by(time.monotonic() + 0.2),
        factory() as uow,
    ):
        uow.connection.execute(_parents.insert().values(id=1))
    holder.rollback()
    with factory() as uow:
        uow.connection.execute(_parents.insert().values(id=2))
        assert uow.connection.in_transaction()
        uow.rollback()
    with db.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(_parents)).scalar_one() == 0
    holder.close()
    db.dispose()
