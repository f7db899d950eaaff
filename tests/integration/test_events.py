"""Domain events: handlers run in the use case's transaction, at its commit, and roll back with
it. Shown with a payment-like event whose handler completes what was paid for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine as SqlEngine

from core.events import Event, EventBus, EventLoop
from core.info import Announcement, Guide
from core.ports import UnitOfWork
from store.uow import UnitOfWorkFactory

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@dataclass(frozen=True)
class PaymentReceived(Event):
    """Stands for ``OrderPaid``: the use case takes the money, a handler hands over the goods."""

    what: str


@dataclass(frozen=True)
class GoodsHandedOver(Event):
    what: str


class GatewayDown(Exception):
    pass


def take_payment(uow: UnitOfWork, what: str) -> None:
    """The use case: writes its own record and says what happened; knows no consequences."""
    uow.info.add(Guide(title=f"paid {what}", body="", created_at=NOW))
    uow.record(PaymentReceived(what))


def hand_over(uow: UnitOfWork, event: PaymentReceived) -> None:
    titles = [guide.title for guide in uow.info.guides()]
    assert f"paid {event.what}" in titles, "the handler sees the use case's uncommitted writes"
    if event.what == "broken":
        raise GatewayDown(event.what)
    uow.info.add(Announcement(title=f"handed over {event.what}", body="", published_at=NOW))
    uow.record(GoodsHandedOver(event.what))


def stored(factory: UnitOfWorkFactory) -> tuple[list[str], list[str]]:
    with factory() as uow:
        return (
            [g.title for g in uow.info.guides()],
            [a.title for a in uow.info.announcements(now=None)],
        )


def payments_bus(seen: list[str]) -> EventBus:
    bus = EventBus()
    bus.subscribe(PaymentReceived, hand_over)
    bus.subscribe(GoodsHandedOver, lambda uow, event: seen.append(event.what))
    return bus


def test_a_handler_runs_in_the_use_cases_transaction_and_commits_with_it(db: SqlEngine) -> None:
    seen: list[str] = []
    factory = UnitOfWorkFactory(db, bus=payments_bus(seen))
    with factory() as uow:
        take_payment(uow, "plate")
        assert seen == [], "handlers run at commit, not when the event is recorded"
        uow.commit()
    assert seen == ["plate"], "an event a handler records is handled in the same commit"
    assert stored(factory) == (["paid plate"], ["handed over plate"])


def test_a_failing_handler_rolls_back_the_use_case_and_every_consequence(db: SqlEngine) -> None:
    seen: list[str] = []
    factory = UnitOfWorkFactory(db, bus=payments_bus(seen))
    with pytest.raises(GatewayDown), factory() as uow:
        take_payment(uow, "plate")
        take_payment(uow, "broken")
        uow.commit()
    assert stored(factory) == ([], [])
    with factory() as uow:  # a new unit of work starts with no events of the failed one
        uow.commit()
    assert seen == []  # the handover of "plate" ran, but its write went with the rollback


def test_events_of_a_transaction_left_without_commit_are_never_handled(db: SqlEngine) -> None:
    seen: list[str] = []
    factory = UnitOfWorkFactory(db, bus=payments_bus(seen))
    with factory() as uow:
        take_payment(uow, "plate")  # no commit: rolled back
    with factory() as uow:
        uow.commit()
    assert seen == [] and stored(factory) == ([], [])


def test_handlers_that_record_what_they_handle_are_stopped(db: SqlEngine) -> None:
    bus = EventBus()
    bus.subscribe(PaymentReceived, lambda uow, event: uow.record(event))
    factory = UnitOfWorkFactory(db, bus=bus)
    with pytest.raises(EventLoop), factory() as uow:
        take_payment(uow, "plate")
        uow.commit()
    assert stored(factory) == ([], [])
