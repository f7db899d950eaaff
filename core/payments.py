"""Paying orders (SPEC §5): the payment provider port, and the use cases that move orders.

A provider (the built-in sandbox; a real gateway such as Alipay, WeChat Pay or UnionPay is one
more adapter) gives the pay address of an order, checks a callback (signature, timestamp) and
turns it into a ``PaymentNotice``, and refunds. Everything else is decided here, the same for
every provider: a callback for an unknown order, of another amount or currency, or reusing a
gateway event id with another body is refused and changes nothing; the same callback again is
acknowledged and pays once; money for an order that expired, was cancelled or is paid already
is given back at once (``LatePaymentRefunded``, so the user can be told).

Each use case is one transaction and locks the order's row first, so a callback, the pay page's
Cancel, a clerk at the counter and the expiry timer may race for one order and exactly one wins.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from core.errors import DomainError
from core.orders import (
    COUNTER,
    DEFAULT_MINUTES,
    Cause,
    DepositHeld,
    LatePaymentRefunded,
    Order,
    OrderCancelled,
    OrderExpired,
    OrderForfeited,
    OrderMove,
    OrderNotFound,
    OrderPaid,
    OrderRefunded,
    OrderState,
    Purpose,
    ReceiptRequired,
    about,
    new_order,
)
from core.ports import UnitOfWork
from core.timers import TimerStep
from core.wiring import Wiring

log = logging.getLogger(__name__)


# -- the port ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentNotice:
    """A gateway's word, signature and time checked, that money arrived for an order."""

    event_id: str  # the gateway's id of this notice: the same id is the same notice
    order_id: int
    amount: int  # fen
    currency: str
    paid_at: datetime  # when the payer paid, as the gateway says
    transaction: str  # the gateway's number of the payment
    digest: str  # of the callback's body: the same event id with another body is a forgery


class CallbackRefused(DomainError):
    """A callback that changes nothing. The subclass says why."""

    code = "payment.refused"


class CallbackMalformed(CallbackRefused):
    code = "payment.malformed"


class CallbackSignatureBad(CallbackRefused):
    code = "payment.signature"


class CallbackStale(CallbackRefused):
    code = "payment.stale"


class CallbackReplayed(CallbackRefused):
    code = "payment.replayed"


class CallbackUnknownOrder(CallbackRefused):
    code = "payment.unknown_order"


class CallbackAmountMismatch(CallbackRefused):
    code = "payment.amount_mismatch"


class CallbackCurrencyMismatch(CallbackRefused):
    code = "payment.currency_mismatch"


class RefundNotPossible(DomainError):
    """The order was paid through a provider this server no longer has."""

    code = "order.refund_provider"


class PaymentProvider(Protocol):
    """A payment gateway, seen from the office."""

    @property
    def name(self) -> str:
        """Stored as the order's ``paid_via``: refunds go back the way the money came."""
        ...

    def pay_url(self, order: Order) -> str:
        """Where the user pays ``order`` (a page of ours for the sandbox; the gateway's cashier
        page for a real one, made by its create-payment call)."""
        ...

    def verify_callback(
        self, body: bytes, headers: Mapping[str, str], now: datetime
    ) -> PaymentNotice:
        """The callback as a notice, or ``CallbackRefused`` (bad signature, stale, malformed)."""
        ...

    def refund(self, order: Order, amount: int, refund_id: str) -> str:
        """Give ``amount`` fen of ``order`` back to the payer; the gateway's refund reference.
        ``refund_id`` is unique per refund and the same when retried: the gateway refunds once."""
        ...


# -- use cases ------------------------------------------------------------------------------


class Outcome(StrEnum):
    """What a callback did."""

    PAID = "paid"
    DUPLICATE = "duplicate"  # the same callback again: nothing changed
    REFUNDED = "refunded"  # late (or second) money, given back


def _locked(uow: UnitOfWork, order_id: int) -> Order:
    order = uow.orders.get(order_id, lock=True)
    if order is None:
        raise OrderNotFound(order=order_id)
    return order


def _write(uow: UnitOfWork, move: OrderMove) -> None:
    uow.orders.add_move(move)


def place_order(
    uow: UnitOfWork,
    *,
    account_id: int,
    purpose: Purpose,
    reference: str,
    subject: str,
    amount: int,
    now: datetime,
    minutes: int = DEFAULT_MINUTES,
    deadline: datetime | None = None,
) -> Order:
    """A pending order; the caller holds what it is for in the same transaction."""
    order = new_order(
        account_id=account_id,
        purpose=purpose,
        reference=reference,
        subject=subject,
        amount=amount,
        now=now,
        minutes=minutes,
        deadline=deadline,
    )
    uow.orders.add(order)
    _write(uow, order.placed())
    return order


def cancel_order(
    uow: UnitOfWork,
    *,
    order_id: int,
    now: datetime,
    cause: Cause,
    actor: str | None = None,
    account_id: int | None = None,
) -> Order:
    """A user (``account_id``: theirs only) or staff gives up a pending order."""
    order = _locked(uow, order_id)
    if account_id is not None and order.account_id != account_id:
        raise OrderNotFound(order=order_id)
    _write(uow, order.cancel(now, cause=cause, actor=actor))
    uow.record(OrderCancelled(**about(order, now), cause=cause))
    return order


def pay_at_counter(
    uow: UnitOfWork, *, order_id: int, receipt: str, staff: str, now: datetime
) -> Order:
    """A clerk took the money at the counter, by the deadline; ``receipt`` is its number."""
    if not receipt.strip():
        raise ReceiptRequired()
    order = _locked(uow, order_id)
    _write(uow, order.pay(now, cause=Cause.STAFF, via=COUNTER, reference=receipt, actor=staff))
    uow.record(OrderPaid(**about(order, now), amount=order.amount, cause=Cause.STAFF))
    return order


def receive_payment(
    uow: UnitOfWork, provider: PaymentProvider, notice: PaymentNotice, now: datetime
) -> Outcome:
    """A checked callback: pay the order, or acknowledge a duplicate, or give late money back.
    Raises ``CallbackRefused`` (nothing written) for an unknown order, a wrong amount or
    currency, or a reused event id with another body."""
    order = uow.orders.get(notice.order_id, lock=True)
    if order is None:
        raise CallbackUnknownOrder(order=notice.order_id)
    # Read after the order's lock: the same callback delivered twice at once finds the first
    # one's record here once the first commits.
    seen = uow.payments.digest_of(notice.event_id)
    if seen is not None:
        if seen != notice.digest:
            raise CallbackReplayed(event=notice.event_id)
        return Outcome.DUPLICATE
    if notice.currency != order.currency:
        raise CallbackCurrencyMismatch(expected=order.currency, got=notice.currency)
    if notice.amount != order.amount:
        raise CallbackAmountMismatch(expected=order.amount, got=notice.amount)
    if not uow.payments.remember(notice.event_id, order.id or 0, notice.digest, now):
        raise CallbackReplayed(event=notice.event_id)  # pragma: no cover - the lock orders them
    if order.state is OrderState.PENDING and not order.past_deadline(notice.paid_at):
        move = order.pay(
            notice.paid_at, cause=Cause.GATEWAY, via=provider.name, reference=notice.transaction
        )
        _write(uow, move)
        uow.record(OrderPaid(**about(order, now), amount=order.amount, cause=Cause.GATEWAY))
        return Outcome.PAID
    if order.state is OrderState.PENDING:  # paid after the deadline, before the timer came by
        _expire(uow, order, max(now, notice.paid_at), late=True)
    _write(uow, order.receive_late(notice.amount, notice.paid_at, reference=notice.event_id))
    refund = provider.refund(order, notice.amount, f"late-{notice.event_id}")
    _write(uow, order.return_late(notice.amount, now, reference=refund))
    uow.record(LatePaymentRefunded(**about(order, now), amount=notice.amount, state=order.state))
    log.info("late payment of order %s (%s) refunded", order.id, order.state.value)
    return Outcome.REFUNDED


def refund_order(
    uow: UnitOfWork,
    provider: PaymentProvider | None,
    *,
    order_id: int,
    now: datetime,
    cause: Cause,
    amount: int | None = None,
    actor: str | None = None,
    receipt: str | None = None,
    told: bool = False,
) -> Order:
    """Give back ``amount`` (default: all the order holds, but a won share's deposit that is
    held for the plate's price: ``DepositHeld``). Money paid through a gateway goes
    back through it; money paid at the counter is handed back there (``receipt``). ``told``:
    the caller tells the user itself (``OrderRefunded``)."""
    order = _locked(uow, order_id)
    # An auction deposit's share that won a plate is held for its price until the balance is
    # paid (then counted to it) or not (then forfeited): it is never refunded.
    held = uow.settlements.held_deposit(order_id) if order.purpose is Purpose.AUCTION_DEPOSIT else 0
    amount = order.refundable - held if amount is None else amount
    if held and not 0 < amount <= order.refundable - held:
        raise DepositHeld(held=held, most=max(order.refundable - held, 0))
    order.check_refund(amount)  # before the gateway is asked
    if order.paid_via == COUNTER:
        if not receipt or not receipt.strip():
            raise ReceiptRequired()
        reference = receipt
    elif provider is not None and provider.name == order.paid_via:
        # The refund id grows with what was refunded: a retried refund reuses it.
        reference = provider.refund(order, amount, f"R{order_id}-{order.refunded + amount}")
    else:
        raise RefundNotPossible(via=order.paid_via or "")
    move = order.refund(amount, now, cause=cause, reference=reference, actor=actor)
    _write(uow, move)
    uow.record(
        OrderRefunded(
            **about(order, now),
            amount=amount,
            refunded_total=order.refunded,
            whole=order.state is OrderState.REFUNDED,
            cause=cause,
            told=told,
        )
    )
    return order


def forfeit_order(
    uow: UnitOfWork,
    *,
    order_id: int,
    now: datetime,
    cause: Cause,
    actor: str | None = None,
    amount: int | None = None,
    reference: str | None = None,
    told: bool = False,
) -> Order:
    """The office keeps ``amount`` (default: all the order may still give back): one deposit
    share of a signup of several, or the whole deposit. ``told``: the caller tells the user
    itself (``OrderRefunded``)."""
    order = _locked(uow, order_id)
    kept = order.refundable if amount is None else amount
    _write(uow, order.forfeit(now, cause=cause, actor=actor, amount=amount, reference=reference))
    uow.record(OrderForfeited(**about(order, now), amount=kept, cause=cause, told=told))
    return order


def apply_to_price(
    uow: UnitOfWork, *, order_id: int, amount: int, now: datetime, reference: str
) -> Order:
    """``amount`` of a paid order counts towards a price (a won lot's deposit share)."""
    order = _locked(uow, order_id)
    _write(uow, order.apply(amount, now, reference=reference))
    return order


def extend_order(
    uow: UnitOfWork, *, order_id: int, deadline: datetime, now: datetime, reference: str
) -> Order:
    """A pending order may be paid until ``deadline`` (later than its own); kept as a move."""
    order = _locked(uow, order_id)
    _write(uow, order.extend(deadline, now, reference=reference))
    return order


def _expire(uow: UnitOfWork, order: Order, now: datetime, *, late: bool = False) -> None:
    _write(uow, order.expire(now))
    uow.record(OrderExpired(**about(order, now), late=late))


def expire_orders(uow: UnitOfWork, now: datetime, limit: int) -> int:
    """Timer step: pending orders past their deadline expire (their holders release them)."""
    due = uow.orders.claim_expired(now, limit)
    for order in due:
        # Re-checked under the lock: paid or cancelled between the query and the lock.
        if order.state is OrderState.PENDING and order.past_deadline(now):
            _expire(uow, order, now)
    return len(due)


def wire(wiring: Wiring) -> None:
    wiring.timer(TimerStep("expire unpaid orders", expire_orders))
