"""Orders (SPEC §5): every payment is an order — a plate purchase now; auction deposits, auction
balances and reservation deposits next.

An order is for ``amount`` fen, due by its ``deadline``, and holds something of another module,
named by ``purpose`` and ``reference`` (``plate_purchase`` / ``listing:12``). ``orders`` never
knows what that is: it records what happened to the order as events (``OrderPaid``,
``OrderExpired``, ``OrderCancelled``, ``OrderRefunded``, ``OrderForfeited``) and the module that
holds the thing releases or completes it in a handler of those events.

States and the only legal moves::

    pending ──pay──► paid ──refund (part)──► paid ──refund (the rest)──► refunded
       │               └──forfeit──► forfeited
       ├──deadline──► expired
       └──cancel────► cancelled

Every move is a row of the order's ledger (``OrderMove``): when, from which state to which, how
much money came in (+) or went out (−), why (user, staff, gateway, timer) and a reference (a
receipt number, a gateway event id, a refund id). Money that arrives for an order that no longer
takes it (expired, cancelled, paid already) is received and given back: two ledger rows, no change
of state. So for every order, ``received − refunded`` is the sum of its ledger's amounts.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TypedDict

from core.clock import as_utc
from core.errors import DomainError
from core.events import Event

DEFAULT_MINUTES = 30
CURRENCY = "CNY"
COUNTER = "counter"  # ``paid_via`` of an order paid at the office's counter


class OrderState(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    FORFEITED = "forfeited"

    @property
    def finished(self) -> bool:
        """Nothing more is expected of the user (history, not "to pay")."""
        return self is not OrderState.PENDING


class Purpose(StrEnum):
    PLATE_PURCHASE = "plate_purchase"
    AUCTION_DEPOSIT = "auction_deposit"
    AUCTION_BALANCE = "auction_balance"
    RESERVATION_DEPOSIT = "reservation_deposit"


class Cause(StrEnum):
    """Who or what moved an order."""

    USER = "user"
    STAFF = "staff"
    GATEWAY = "gateway"
    TIMER = "timer"


class MoveKind(StrEnum):
    PLACED = "placed"
    PAID = "paid"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    FORFEITED = "forfeited"
    RECEIVED_LATE = "received_late"  # money for an order that no longer takes it
    APPLIED = "applied"  # part of what it holds counts towards a price (a won lot's deposit)
    EXTENDED = "extended"  # its deadline moved later (what cut it short moved: ``reference``)


# -- refusals ---------------------------------------------------------------------------------


class OrderNotFound(DomainError):
    code = "order.not_found"


class OrderNotPending(DomainError):
    """Paying or cancelling an order that is no longer waiting for payment."""

    code = "order.not_pending"


class OrderNotPaid(DomainError):
    """Refunding or forfeiting an order that holds no money."""

    code = "order.not_paid"


class OrderPastDeadline(DomainError):
    code = "order.past_deadline"


class OrderNotDue(DomainError):
    """Expiring an order before its deadline."""

    code = "order.not_due"


class RefundInvalid(DomainError):
    """A refund of nothing, or of more than the order still holds."""

    code = "order.refund_invalid"


class DepositHeld(DomainError):
    """A refund of an auction deposit that would give back a share held for a won plate's price
    while its balance may still be paid (or forfeited). Params: ``held``, ``most`` (fen)."""

    code = "order.deposit_held"


class AmountInvalid(DomainError):
    code = "order.amount_invalid"


class ReceiptRequired(DomainError):
    code = "order.receipt_required"


# -- the ledger and the order -----------------------------------------------------------------


@dataclass(eq=False)
class OrderMove:
    """One row of an order's ledger."""

    order_id: int
    at: datetime
    kind: MoveKind
    from_state: OrderState | None
    to_state: OrderState
    amount: int
    cause: Cause
    actor: str | None = None
    reference: str | None = None
    id: int | None = None


def new_pay_token() -> str:
    """The secret in the pay page's address: random, so that nobody reaches another's order by
    counting (the order id is never in the address)."""
    return secrets.token_urlsafe(18)


@dataclass(eq=False)
class Order:
    account_id: int
    purpose: Purpose
    reference: str
    subject: str  # what is paid for, as shown to the user (a plate: 粤D·A1234)
    amount: int  # fen
    created_at: datetime
    deadline: datetime
    pay_token: str
    currency: str = CURRENCY
    state: OrderState = OrderState.PENDING
    received: int = 0  # fen that came in (on time or late)
    refunded: int = 0  # fen given back
    kept: int = 0  # fen of the balance the office keeps: forfeited, or counted towards a price
    paid_at: datetime | None = None
    paid_via: str | None = None  # the provider's name, or ``counter``
    payment_ref: str | None = None  # gateway transaction or counter receipt
    ended_at: datetime | None = None  # when it left ``pending``
    id: int | None = None

    @property
    def balance(self) -> int:
        """What the office holds for this order now."""
        return self.received - self.refunded

    @property
    def refundable(self) -> int:
        """What of the balance may still go back (not kept: forfeited or counted to a price)."""
        return self.balance - self.kept

    def _move(
        self,
        at: datetime,
        kind: MoveKind,
        to: OrderState,
        cause: Cause,
        *,
        amount: int = 0,
        actor: str | None = None,
        reference: str | None = None,
    ) -> OrderMove:
        if self.id is None:
            raise RuntimeError("an order is stored before it moves")
        move = OrderMove(
            order_id=self.id,
            at=at,
            kind=kind,
            from_state=self.state,
            to_state=to,
            amount=amount,
            cause=cause,
            actor=actor,
            reference=reference,
        )
        self.state = to
        return move

    def placed(self) -> OrderMove:
        move = self._move(self.created_at, MoveKind.PLACED, OrderState.PENDING, Cause.USER)
        move.from_state = None
        return move

    def past_deadline(self, at: datetime) -> bool:
        return as_utc(at) > as_utc(self.deadline)

    def pay(
        self, at: datetime, *, cause: Cause, via: str, reference: str, actor: str | None = None
    ) -> OrderMove:
        """The whole amount arrived by the deadline."""
        if self.state is not OrderState.PENDING:
            raise OrderNotPending(state=self.state.value)
        if self.past_deadline(at):
            raise OrderPastDeadline()
        self.received += self.amount
        self.paid_at = self.ended_at = at
        self.paid_via = via
        self.payment_ref = reference
        return self._move(
            at,
            MoveKind.PAID,
            OrderState.PAID,
            cause,
            amount=self.amount,
            actor=actor,
            reference=reference,
        )

    def extend(self, deadline: datetime, now: datetime, *, reference: str) -> OrderMove:
        """A pending order's deadline, moved later (staff moved what had cut it short)."""
        if self.state is not OrderState.PENDING:
            raise OrderNotPending(state=self.state.value)
        self.deadline = deadline
        return self._move(
            now, MoveKind.EXTENDED, OrderState.PENDING, Cause.STAFF, reference=reference
        )

    def expire(self, now: datetime) -> OrderMove:
        if self.state is not OrderState.PENDING:
            raise OrderNotPending(state=self.state.value)
        if not self.past_deadline(now):
            raise OrderNotDue()
        self.ended_at = now
        return self._move(now, MoveKind.EXPIRED, OrderState.EXPIRED, Cause.TIMER)

    def cancel(self, now: datetime, *, cause: Cause, actor: str | None = None) -> OrderMove:
        if self.state is not OrderState.PENDING:
            raise OrderNotPending(state=self.state.value)
        self.ended_at = now
        return self._move(now, MoveKind.CANCELLED, OrderState.CANCELLED, cause, actor=actor)

    def refund(
        self,
        amount: int,
        now: datetime,
        *,
        cause: Cause,
        reference: str,
        actor: str | None = None,
    ) -> OrderMove:
        """Give back ``amount`` of what a paid order holds (a deposit share, or all of it); the
        order is ``refunded`` once nothing is left."""
        self.check_refund(amount)
        self.refunded += amount
        to = OrderState.REFUNDED if self.balance == 0 else OrderState.PAID
        return self._move(
            now, MoveKind.REFUNDED, to, cause, amount=-amount, actor=actor, reference=reference
        )

    def check_refund(self, amount: int) -> None:
        if self.state is not OrderState.PAID:
            raise OrderNotPaid(state=self.state.value)
        if not 0 < amount <= self.refundable:
            raise RefundInvalid(amount=amount, balance=self.refundable)

    def forfeit(
        self,
        now: datetime,
        *,
        cause: Cause,
        actor: str | None = None,
        amount: int | None = None,
        reference: str | None = None,
    ) -> OrderMove:
        """The office keeps ``amount`` (default: all that may still go back) of a paid order:
        one deposit share of an unpaid balance. The order is ``forfeited`` once nothing is left
        to give back; a part leaves it ``paid`` (the other shares may still be refunded)."""
        if self.state is not OrderState.PAID:
            raise OrderNotPaid(state=self.state.value)
        amount = self.refundable if amount is None else amount
        if not 0 <= amount <= self.refundable:
            raise RefundInvalid(amount=amount, balance=self.refundable)
        self.kept += amount
        to = OrderState.FORFEITED if self.refundable == 0 else OrderState.PAID
        return self._move(now, MoveKind.FORFEITED, to, cause, actor=actor, reference=reference)

    def apply(self, amount: int, now: datetime, *, reference: str) -> OrderMove:
        """``amount`` of a paid order counts towards a price (a won lot's deposit share): the
        office keeps it and it can no longer be refunded. The order stays ``paid``."""
        if self.state is not OrderState.PAID:
            raise OrderNotPaid(state=self.state.value)
        if not 0 < amount <= self.refundable:
            raise RefundInvalid(amount=amount, balance=self.refundable)
        self.kept += amount
        return self._move(now, MoveKind.APPLIED, OrderState.PAID, Cause.TIMER, reference=reference)

    def receive_late(self, amount: int, at: datetime, *, reference: str) -> OrderMove:
        """Money that came for an order no longer taking it; given back by ``return_late``."""
        if self.state is OrderState.PENDING and not self.past_deadline(at):
            raise OrderNotPending(state=self.state.value)  # pragma: no cover - callers check
        self.received += amount
        return self._move(
            at,
            MoveKind.RECEIVED_LATE,
            self.state,
            Cause.GATEWAY,
            amount=amount,
            reference=reference,
        )

    def return_late(self, amount: int, now: datetime, *, reference: str) -> OrderMove:
        self.refunded += amount
        return self._move(
            now, MoveKind.REFUNDED, self.state, Cause.GATEWAY, amount=-amount, reference=reference
        )


def new_order(
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
    """``deadline``: a moment of its own (an auction balance's working days); default: ``minutes``
    from now."""
    if amount <= 0:
        raise AmountInvalid(amount=amount)
    return Order(
        account_id=account_id,
        purpose=purpose,
        reference=reference,
        subject=subject,
        amount=amount,
        created_at=now,
        deadline=deadline if deadline is not None else now + timedelta(minutes=minutes),
        pay_token=new_pay_token(),
    )


# -- events: what other modules react to ----------------------------------------------------


@dataclass(frozen=True)
class OrderEvent(Event):
    """Something happened to an order; ``purpose`` and ``reference`` say what it holds, so the
    module holding it handles only its own."""

    order_id: int
    account_id: int
    purpose: Purpose
    reference: str
    at: datetime


@dataclass(frozen=True)
class OrderPaid(OrderEvent):
    """Complete what was paid for (the sale, the signup, the reservation)."""

    amount: int
    cause: Cause


@dataclass(frozen=True)
class OrderExpired(OrderEvent):
    """Release what the order held. ``late``: found expired by a payment that came after the
    deadline, before the timer did (the late refund's notice says both: one message)."""

    late: bool = False


@dataclass(frozen=True)
class OrderCancelled(OrderEvent):
    """Release what the order held."""

    cause: Cause


@dataclass(frozen=True)
class OrderRefunded(OrderEvent):
    """``amount`` went back; ``whole``: the order is now refunded (nothing left).

    ``told``: the module that made this move as part of its own (the deposits of an auction's
    losing shares refunded, a reservation's deposit refunded when its lot closed) tells the user
    itself, with what the move means for them: the order's own notice would be a second message
    about one event (``core.order_notices``)."""

    amount: int
    refunded_total: int
    whole: bool
    cause: Cause
    told: bool = False


@dataclass(frozen=True)
class OrderForfeited(OrderEvent):
    """``amount`` is kept by the office; what the order paid for goes back to staff.
    ``told``: see ``OrderRefunded``."""

    amount: int
    cause: Cause
    told: bool = False


@dataclass(frozen=True)
class LatePaymentRefunded(OrderEvent):
    """Money came after the order expired or was cancelled (or twice), and went back: tell the
    user. Holds nothing to release: the order's own event did that already."""

    amount: int
    state: OrderState


class About(TypedDict):
    """The fields every order event has, for ``OrderPaid(**about(order, now), ...)``."""

    order_id: int
    account_id: int
    purpose: Purpose
    reference: str
    at: datetime


def about(order: Order, at: datetime) -> About:
    if order.id is None:
        raise RuntimeError("an order is stored before its events")
    return About(
        order_id=order.id,
        account_id=order.account_id,
        purpose=order.purpose,
        reference=order.reference,
        at=at,
    )
