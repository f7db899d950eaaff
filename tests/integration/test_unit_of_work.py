"""The unit of work: one transaction each time it is entered."""

from __future__ import annotations

from sqlalchemy.engine import Engine as SqlEngine

from core.clock import ManualClock
from dialogs.replies import Inbound
from store.uow import SqlUnitOfWork, UnitOfWorkFactory
from tests.tally import tally_engine


def test_a_unit_of_work_used_again_works_on_its_new_transaction(
    db: SqlEngine, clock: ManualClock
) -> None:
    uow = UnitOfWorkFactory(db)()
    new = tally_engine(UnitOfWorkFactory(db), clock)._new(Inbound("test", "u2"))
    with uow:
        uow.conversations.lock(channel="test", user_key="u2", new=new)
        uow.commit()
    with uow:  # not the closed connection of the first transaction
        kept = uow.conversations.lock(channel="test", user_key="u2", new=new)
    assert kept.user_key == "u2"


def test_units_of_work_of_a_kept_connection_run_one_after_the_other_on_it(
    db: SqlEngine, clock: ManualClock
) -> None:
    """What one commits the next sees; what one leaves uncommitted is rolled back, not left
    open for the next; one opened inside another takes a connection of its own."""
    factory = UnitOfWorkFactory(db, keep_connection=True)
    new = tally_engine(UnitOfWorkFactory(db), clock)._new

    def users(uow: SqlUnitOfWork) -> list[str]:
        query = "SELECT user_key FROM conversations ORDER BY user_key"
        return list(uow.connection.exec_driver_sql(query).scalars())

    with factory() as first:
        first.conversations.lock(channel="test", user_key="u1", new=new(Inbound("test", "u1")))
        kept = first.connection
        first.commit()
    with factory() as second:
        assert second.connection is kept
        assert users(second) == ["u1"]
        second.conversations.lock(channel="test", user_key="u2", new=new(Inbound("test", "u2")))
        with factory() as inner:  # the kept one is busy
            assert inner.connection is not kept
    with factory() as third:
        assert third.connection is kept
        assert users(third) == ["u1"], "what the second left uncommitted was rolled back"


def test_a_kept_connection_that_broke_is_replaced(db: SqlEngine) -> None:
    factory = UnitOfWorkFactory(db, keep_connection=True)
    with factory() as uow:
        broken = uow.connection
        broken.invalidate()
    with factory() as uow:
        assert uow.connection is not broken
        assert uow.connection.exec_driver_sql("SELECT 1").scalar_one() == 1
