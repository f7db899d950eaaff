"""Orders on the real database: counter payment, refunds whole and in part, forfeits, cancels and
expiry, each a legal move recorded in the ledger and told to the other modules as an event."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from core.clock import ManualClock
from core.errors import DomainError
from core.events import EventBus
from core.orders import (
    Cause,
    OrderEvent,
    OrderExpired,
    OrderMove,
    OrderNotFound,
    OrderNotPaid,
    OrderNotPending,
    OrderPastDeadline,
    OrderRefunded,
    OrderState,
    Purpose,
    ReceiptRequired,
    RefundInvalid,
)
from core.payments import (
    Outcome,
    cancel_order,
    forfeit_order,
    pay_at_counter,
    receive_payment,
    refund_order,
)
from core.timers import Timers
from core.wiring import wire_core
from platebot.bootstrap import App
from store.uow import UnitOfWorkFactory
from tests.order_world import PRICE, Seen, account, ledger, order_of, pending_order
from tests.preselect_world import snapshot
from web.sandbox import SandboxGateway

DEPOSIT = 1_500_000  # three shares of ¥5,000


@pytest.fixture
def seen() -> Seen:
    return Seen()


@pytest.fixture
def uow(app: App, seen: Seen) -> UnitOfWorkFactory:
    """Units of work whose bus tells ``seen`` of every order event."""
    bus = EventBus()
    bus.subscribe(OrderEvent, seen)
    return UnitOfWorkFactory(app.db, bus=bus)


def test_a_clerk_marks_an_order_paid_at_the_counter_with_the_receipt(
    app: App, uow: UnitOfWorkFactory, seen: Seen
) -> None:
    order = pending_order(app, account(app))
    with uow() as work:
        pay_at_counter(
            work, order_id=order.id or 0, receipt="R-0001", staff="王芳", now=app.clock.now()
        )
        work.commit()
    stored = order_of(app, order.id or 0)
    assert (stored.state, stored.paid_via, stored.payment_ref) == (
        OrderState.PAID,
        "counter",
        "R-0001",
    )
    assert seen.names() == ["OrderPaid"]
    with app.uow() as work:
        move = work.orders.moves(order.id or 0)[-1]
    assert (move.cause, move.actor, move.reference, move.amount) == (
        Cause.STAFF,
        "王芳",
        "R-0001",
        PRICE,
    )


def test_counter_payment_needs_a_receipt_and_the_deadline(
    app: App, uow: UnitOfWorkFactory, clock: ManualClock
) -> None:
    order = pending_order(app, account(app))
    with uow() as work, pytest.raises(ReceiptRequired):
        pay_at_counter(work, order_id=order.id or 0, receipt=" ", staff="王芳", now=clock.now())
    clock.advance(timedelta(minutes=31))
    with uow() as work, pytest.raises(OrderPastDeadline):
        pay_at_counter(work, order_id=order.id or 0, receipt="R-1", staff="王芳", now=clock.now())
    assert order_of(app, order.id or 0).state is OrderState.PENDING


def test_a_deposit_is_refunded_share_by_share_until_nothing_is_left(
    app: App, uow: UnitOfWorkFactory, seen: Seen
) -> None:
    order = pending_order(app, account(app), amount=DEPOSIT, purpose=Purpose.AUCTION_DEPOSIT)
    sandbox = app.payments
    assert isinstance(sandbox, SandboxGateway)
    body, headers = sandbox.callback_for(order, app.clock.now())
    notice = sandbox.verify_callback(body, headers, app.clock.now())
    with uow() as work:
        receive_payment(work, sandbox, notice, app.clock.now())
        work.commit()
    for _share in range(2):
        with uow() as work:
            refund_order(
                work,
                sandbox,
                order_id=order.id or 0,
                amount=500_000,
                now=app.clock.now(),
                cause=Cause.STAFF,
                actor="王芳",
            )
            work.commit()
        assert order_of(app, order.id or 0).state is OrderState.PAID
    with uow() as work, pytest.raises(RefundInvalid):
        refund_order(
            work,
            sandbox,
            order_id=order.id or 0,
            amount=500_001,
            now=app.clock.now(),
            cause=Cause.STAFF,
        )
    with uow() as work:
        refund_order(work, sandbox, order_id=order.id or 0, now=app.clock.now(), cause=Cause.STAFF)
        work.commit()
    stored = order_of(app, order.id or 0)
    assert (stored.state, stored.refunded, stored.balance) == (OrderState.REFUNDED, DEPOSIT, 0)
    refunds = [e for e in seen.events if isinstance(e, OrderRefunded)]
    assert [(e.amount, e.refunded_total, e.whole) for e in refunds] == [
        (500_000, 500_000, False),
        (500_000, 1_000_000, False),
        (500_000, 1_500_000, True),
    ]
    assert sum(amount for _kind, amount in ledger(app, order.id or 0)) == 0
    refs = [m.reference for m in _moves(app, order.id or 0) if m.kind.value == "refunded"]
    assert refs == [
        f"SBXR-R{order.id}-500000",
        f"SBXR-R{order.id}-1000000",
        f"SBXR-R{order.id}-1500000",
    ]


def _moves(app: App, order_id: int) -> list[OrderMove]:
    with app.uow() as work:
        return list(work.orders.moves(order_id))


def test_a_counter_payment_is_refunded_at_the_counter_with_a_receipt(
    app: App, uow: UnitOfWorkFactory
) -> None:
    order = pending_order(app, account(app))
    with uow() as work:
        pay_at_counter(
            work, order_id=order.id or 0, receipt="R-1", staff="王芳", now=app.clock.now()
        )
        work.commit()
    with uow() as work, pytest.raises(ReceiptRequired):
        refund_order(
            work, app.payments, order_id=order.id or 0, now=app.clock.now(), cause=Cause.STAFF
        )
    with uow() as work:
        refund_order(
            work,
            app.payments,
            order_id=order.id or 0,
            now=app.clock.now(),
            cause=Cause.STAFF,
            receipt="RF-1",
        )
        work.commit()
    assert order_of(app, order.id or 0).state is OrderState.REFUNDED


def test_a_forfeited_deposit_keeps_what_was_not_refunded(
    app: App, uow: UnitOfWorkFactory, seen: Seen
) -> None:
    order = pending_order(app, account(app), amount=DEPOSIT, purpose=Purpose.AUCTION_DEPOSIT)
    now = app.clock.now()
    with uow() as work:
        pay_at_counter(work, order_id=order.id or 0, receipt="R-1", staff="王芳", now=now)
        refund_order(
            work,
            None,
            order_id=order.id or 0,
            amount=1_000_000,
            now=now,
            cause=Cause.STAFF,
            receipt="RF",
        )
        forfeit_order(work, order_id=order.id or 0, now=now, cause=Cause.TIMER)
        work.commit()
    assert seen.names() == ["OrderPaid", "OrderRefunded", "OrderForfeited"]
    forfeited = seen.events[-1]
    assert getattr(forfeited, "amount", None) == 500_000
    stored = order_of(app, order.id or 0)
    assert (stored.state, stored.balance) == (OrderState.FORFEITED, 500_000)


@pytest.mark.parametrize("action", ["refund", "forfeit"])
def test_an_unpaid_order_cannot_be_refunded_or_forfeited(
    app: App, uow: UnitOfWorkFactory, action: str
) -> None:
    order = pending_order(app, account(app))
    before = snapshot(app)
    with uow() as work, pytest.raises(OrderNotPaid):
        if action == "refund":
            refund_order(
                work, app.payments, order_id=order.id or 0, now=app.clock.now(), cause=Cause.STAFF
            )
        else:
            forfeit_order(work, order_id=order.id or 0, now=app.clock.now(), cause=Cause.STAFF)
    assert snapshot(app) == before


def test_a_user_cancels_only_their_own_pending_order(
    app: App, uow: UnitOfWorkFactory, seen: Seen
) -> None:
    owner, other = account(app), account(app, phone="+8613800138001")
    order = pending_order(app, owner)
    with uow() as work, pytest.raises(OrderNotFound):
        cancel_order(
            work, order_id=order.id or 0, now=app.clock.now(), cause=Cause.USER, account_id=other
        )
    with uow() as work:
        cancel_order(
            work, order_id=order.id or 0, now=app.clock.now(), cause=Cause.USER, account_id=owner
        )
        work.commit()
    with uow() as work, pytest.raises(OrderNotPending):
        cancel_order(work, order_id=order.id or 0, now=app.clock.now(), cause=Cause.USER)
    assert seen.names() == ["OrderCancelled"]
    assert seen.events[0].reference == "listing:1"


def test_orders_expire_at_their_deadline_once_and_say_what_they_held(
    app: App, uow: UnitOfWorkFactory, seen: Seen, clock: ManualClock
) -> None:
    owner = account(app)
    first = pending_order(app, owner, reference="listing:1")
    clock.advance(timedelta(minutes=10))
    second = pending_order(app, owner, reference="listing:2")
    timers = Timers(uow, clock, wire_core().timers)
    clock.advance(timedelta(minutes=20))  # the first one's deadline itself: still payable
    timers.run_once()
    assert seen.names() == []
    clock.advance(timedelta(seconds=1))
    timers.run_once()
    timers.run_once()
    assert [(type(e), e.reference) for e in seen.events] == [(OrderExpired, "listing:1")]
    clock.advance(timedelta(minutes=10))
    timers.run_once()
    assert [e.reference for e in seen.events] == ["listing:1", "listing:2"]
    assert order_of(app, first.id or 0).state is OrderState.EXPIRED
    assert ledger(app, second.id or 0) == [("placed", 0), ("expired", 0)]


def test_a_paid_order_never_expires(app: App, uow: UnitOfWorkFactory, clock: ManualClock) -> None:
    order = pending_order(app, account(app))
    with uow() as work:
        pay_at_counter(work, order_id=order.id or 0, receipt="R-1", staff="王芳", now=clock.now())
        work.commit()
    clock.advance(timedelta(hours=2))
    Timers(uow, clock, wire_core().timers).run_once()
    assert order_of(app, order.id or 0).state is OrderState.PAID


def test_refusals_carry_stable_codes() -> None:
    codes = {cls.code for cls in (OrderNotFound, OrderNotPending, OrderNotPaid, RefundInvalid)}
    assert codes == {
        "order.not_found",
        "order.not_pending",
        "order.not_paid",
        "order.refund_invalid",
    }
    assert issubclass(OrderNotPending, DomainError)


def test_the_same_callback_delivered_twice_at_once_pays_once(app: App) -> None:
    order = pending_order(app, account(app))
    sandbox = app.payments
    assert isinstance(sandbox, SandboxGateway)
    body, headers = sandbox.callback_for(order, app.clock.now())
    start = threading.Barrier(2)
    outcomes: list[Outcome] = []

    def deliver() -> None:
        notice = sandbox.verify_callback(body, headers, app.clock.now())
        start.wait(timeout=30)
        with app.uow() as work:
            outcomes.append(receive_payment(work, sandbox, notice, app.clock.now()))
            work.commit()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == [Outcome.DUPLICATE, Outcome.PAID]
    assert ledger(app, order.id or 0) == [("placed", 0), ("paid", PRICE)]


def test_orders_are_listed_newest_first_by_account_and_state(
    app: App, uow: UnitOfWorkFactory, clock: ManualClock
) -> None:
    mine, theirs = account(app), account(app, phone="+8613800138001")
    first = pending_order(app, mine, reference="listing:1")
    clock.advance(timedelta(minutes=1))
    second = pending_order(app, mine, reference="listing:2")
    pending_order(app, theirs, reference="listing:3")
    with uow() as work:
        cancel_order(work, order_id=first.id or 0, now=clock.now(), cause=Cause.USER)
        work.commit()
    with app.uow() as work:
        everything = [o.reference for o in work.orders.listed(account_id=mine)]
        unfinished = work.orders.listed(account_id=mine, states=[OrderState.PENDING])
        cancelled = work.orders.listed(states=[OrderState.CANCELLED])
        by_token = work.orders.by_token(second.pay_token)
    assert everything == ["listing:2", "listing:1"]
    assert [o.id for o in unfinished] == [second.id]
    assert [o.id for o in cancelled] == [first.id]
    assert by_token is not None and by_token.id == second.id
