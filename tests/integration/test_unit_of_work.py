"""The unit of work: one transaction each time it is entered."""

from __future__ import annotations

from sqlalchemy.engine import Engine as SqlEngine

from core.clock import ManualClock
from dialogs.replies import Inbound
from store.uow import UnitOfWorkFactory
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
