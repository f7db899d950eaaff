"""Test helpers for orders: an account with a pending order, its ledger, and the order events a
test bus saw."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.synchronize import Barrier

from core.clock import ManualClock
from core.events import EventBus
from core.info import Guide
from core.orders import Cause, Order, OrderEvent, OrderExpired, OrderMove, Purpose
from core.payments import pay_at_counter, place_order, receive_payment, refund_order
from core.ports import UnitOfWork
from core.timers import Timers
from core.wiring import wire_core
from platebot.bootstrap import App
from store.db import create_engine
from store.uow import UnitOfWorkFactory
from tests.preselect_world import add_accounts, person
from web.sandbox import SandboxGateway

PRICE = 1_200_000  # ¥12,000 in fen


def account(app: App, phone: str = "+8613800138000") -> int:
    return add_accounts(app, person(phone=phone))[0]


def pending_order(
    app: App,
    account_id: int,
    amount: int = PRICE,
    purpose: Purpose = Purpose.PLATE_PURCHASE,
    reference: str = "listing:1",
) -> Order:
    with app.uow() as uow:
        order = place_order(
            uow,
            account_id=account_id,
            purpose=purpose,
            reference=reference,
            subject="粤D·A1234",
            amount=amount,
            now=app.clock.now(),
        )
        uow.commit()
    return order


def order_of(app: App, order_id: int) -> Order:
    with app.uow() as uow:
        order = uow.orders.get(order_id)
        assert order is not None
        return order


def ledger_of(uow: UnitOfWork, order_id: int) -> list[OrderMove]:
    return list(uow.orders.moves(order_id))


def ledger(app: App, order_id: int) -> list[tuple[str, int]]:
    """(kind, amount) of each move of the order's ledger, oldest first."""
    with app.uow() as uow:
        return [(m.kind.value, m.amount) for m in ledger_of(uow, order_id)]


@dataclass
class Seen:
    """Order events handled, in order (a handler subscribed to ``OrderEvent``)."""

    events: list[OrderEvent] = field(default_factory=list)

    def __call__(self, uow: UnitOfWork, event: OrderEvent) -> None:
        self.events.append(event)

    def names(self) -> list[str]:
        return [type(event).__name__ for event in self.events]


def note_release(uow: UnitOfWork, event: OrderExpired) -> None:
    """Stands for the holder's handler (a plate back on sale): one guide row per run, written in
    the expiring transaction, so a run that did not commit leaves none. A short pause widens the
    window in which another process could take the same order."""
    time.sleep(0.005)
    uow.info.add(
        Guide(title=f"released {event.order_id}", body=str(os.getpid()), created_at=event.at)
    )


def expire_in_process(url: str, now: datetime, start: Barrier, rounds: int) -> None:
    """Run in another process: the expiry timer at the parent's time ``now``, in small batches."""
    engine = create_engine(url)
    bus = EventBus()
    bus.subscribe(OrderExpired, note_release)
    timers = Timers(
        UnitOfWorkFactory(engine, bus=bus), ManualClock(now), wire_core().timers, batch=3
    )
    start.wait(timeout=60)
    for _ in range(rounds):
        timers.run_once()
    engine.dispose()


def pay_by_gateway(app: App, order_id: int) -> None:
    """What the pay page's Pay button makes the sandbox do: a signed callback for the whole
    amount, now, received."""
    sandbox = app.payments
    assert isinstance(sandbox, SandboxGateway)
    now = app.clock.now()
    body, headers = sandbox.callback_for(order_of(app, order_id), now)
    with app.uow() as uow:
        receive_payment(uow, sandbox, sandbox.verify_callback(body, headers, now), now)
        uow.commit()


def pay_at_the_counter(app: App, order_id: int, receipt: str = "R-1") -> None:
    with app.uow() as uow:
        pay_at_counter(uow, order_id=order_id, receipt=receipt, staff="王芳", now=app.clock.now())
        uow.commit()


def refund_by_staff(
    app: App, order_id: int, amount: int | None = None, receipt: str | None = "RF-1"
) -> None:
    """Staff refund ``amount`` fen (None: all the order holds), with a receipt for the counter."""
    with app.uow() as uow:
        refund_order(
            uow,
            app.payments,
            order_id=order_id,
            now=app.clock.now(),
            cause=Cause.STAFF,
            amount=amount,
            actor="王芳",
            receipt=receipt,
        )
        uow.commit()
