"""The user is told what happened to their order (SPEC §5, §12): paid, expired unpaid, cancelled
by the office, refunded (whole or in part), forfeited, and money that came too late and went
back. Handlers of ``core.orders``' events write a notice through the outbox in the same
transaction as the move, in the account's language, where the user is (``PERSONAL``: a linked
Telegram chat, else SMS).

Every order's purpose is told the same way (the order's ``subject`` says what it is for). Each
notice's key names the order and the move, so a move handled again (a timer run again after a
crash, a retried step) is told once, and each refund of a deposit share is told on its own.
A user who cancels an order themselves is not told what they just did.

One event, one message (every SMS costs the office money): a move that the module holding the
order tells the user itself, saying what it means for them, is not told here as well. That is
a refund or forfeit the holder made as part of its own work (``told`` on the event: an
auction's losing shares refunded, a deposit share forfeited for an unpaid balance, a
reservation's deposit refunded), and every end of the pending state of an
order of ``TOLD_BY_HOLDER``: paid (at the counter or through a gateway), expired, or cancelled
by staff. So only a plate purchase is told here that it is paid, expired or cancelled; and
when money that came after its deadline finds it still pending, the late refund's notice says
that it expired and the money went back, in one message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.money import format_yuan
from core.notices import NoticeKind, notify
from core.orders import (
    Cause,
    LatePaymentRefunded,
    OrderCancelled,
    OrderEvent,
    OrderExpired,
    OrderForfeited,
    OrderPaid,
    OrderRefunded,
    Purpose,
)

if TYPE_CHECKING:
    from core.ports import UnitOfWork
    from core.wiring import Wiring

# Orders whose holder tells the user when they stop being pending, with what that means and the
# amount. Paid: an auction deposit (the bidder number and code, ``core.auction_signup``), an
# auction balance (the plate issued, ``core.settlement``), a reservation deposit (the plate in
# an auction period, or waiting for one, ``core.reservation_lots``). Expired or cancelled by
# staff: the signup cancelled, the plate back with the office and the deposit share forfeited,
# the reservation lapsed (cancelled by the user, who saw what it gives up: nobody tells it).
# Each holder keeps such an order pending only while it waits for it, so it tells every such
# end.
TOLD_BY_HOLDER = frozenset(
    {Purpose.AUCTION_DEPOSIT, Purpose.AUCTION_BALANCE, Purpose.RESERVATION_DEPOSIT}
)


def _tell(
    uow: UnitOfWork,
    event: OrderEvent,
    move: str,
    key: str,
    **params: str | int,
) -> None:
    order = uow.orders.get(event.order_id)
    if order is None:  # pragma: no cover - the event comes from the order's own transaction
        return
    notify(
        uow,
        account_id=event.account_id,
        kind=NoticeKind.PERSONAL,
        key=f"notice.order.{key}",
        params={"id": event.order_id, "subject": order.subject, **params},
        dedupe_key=f"order:{event.order_id}:{move}",
        now=event.at,
    )


def tell_paid(uow: UnitOfWork, event: OrderPaid) -> None:
    if event.purpose in TOLD_BY_HOLDER:
        return
    _tell(uow, event, "paid", "paid", amount=format_yuan(event.amount))


def tell_expired(uow: UnitOfWork, event: OrderExpired) -> None:
    if event.purpose in TOLD_BY_HOLDER or event.late:  # late: ``tell_late_refund`` says it
        return
    _tell(uow, event, "expired", "expired")


def tell_cancelled(uow: UnitOfWork, event: OrderCancelled) -> None:
    if event.cause is Cause.USER:
        return  # the user did it, and saw it done
    if event.purpose in TOLD_BY_HOLDER:
        return
    _tell(uow, event, "cancelled", "cancelled")


def tell_refunded(uow: UnitOfWork, event: OrderRefunded) -> None:
    if event.told:
        return
    # What was refunded in all grows with each refund: a key per refund.
    move = f"refund:{event.refunded_total}"
    if event.whole and event.amount == event.refunded_total:
        _tell(uow, event, move, "refunded", amount=format_yuan(event.amount))
        return
    _tell(
        uow,
        event,
        move,
        "refunded_part",
        amount=format_yuan(event.amount),
        total=format_yuan(event.refunded_total),
    )


def tell_forfeited(uow: UnitOfWork, event: OrderForfeited) -> None:
    if event.told:
        return
    _tell(uow, event, "forfeited", "forfeited", amount=format_yuan(event.amount))


def tell_late_refund(uow: UnitOfWork, event: LatePaymentRefunded) -> None:
    order = uow.orders.get(event.order_id)
    refunded = order.refunded if order is not None else 0
    _tell(
        uow,
        event,
        f"late:{refunded}",  # what was refunded in all grows with each late refund
        "late_refunded",
        amount=format_yuan(event.amount),
        state_key=f"order.state.{event.state.value}",
    )


def wire(wiring: Wiring) -> None:
    wiring.bus.subscribe(OrderPaid, tell_paid)
    wiring.bus.subscribe(OrderExpired, tell_expired)
    wiring.bus.subscribe(OrderCancelled, tell_cancelled)
    wiring.bus.subscribe(OrderRefunded, tell_refunded)
    wiring.bus.subscribe(OrderForfeited, tell_forfeited)
    wiring.bus.subscribe(LatePaymentRefunded, tell_late_refund)
