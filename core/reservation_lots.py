"""What follows a reservation's deposit (SPEC §8, §7): paid, the plate becomes a lot of the next
auction period whose signup is still open, or waits for the next one published; unpaid, the
reservation lapses; a lot withdrawn or a period cancelled before the auction sends the plate on.

The reserver gets no privilege in the auction (SPEC §7): to bid on the plate they sign up for the
period and pay the auction deposit like everyone else. The reservation deposit only stands behind
the request: once the lot closes it is refunded, whoever won (``won``, ``lost``) or if nobody bid
(``unsold``). The refund goes back through the payment provider, which event handlers do not
have: the handler marks it due and ``refund_deposits`` (a server job given the provider) pays it.

Each of these is one message to the user: the outcome's notice tells the refund too (the order's
own notice is not sent: ``told``), the deposit paid (through a gateway or at the counter) is told
with where the plate goes (a period, or waiting for one), and the lapse's notice tells why the
deposit order ended (neither order notice is sent: ``core.order_notices.TOLD_BY_HOLDER``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from core import auctions
from core.auctions import AuctionPeriod, PeriodCancelled, PeriodPublished, PeriodState
from core.bidding import LotClosed
from core.clock import Clock, ManualClock, as_utc, format_local
from core.errors import DomainError
from core.orders import (
    COUNTER,
    Cause,
    OrderCancelled,
    OrderExpired,
    OrderPaid,
    OrderState,
    Purpose,
)
from core.payments import PaymentProvider, refund_order
from core.ports import UnitOfWork
from core.reservations import (
    DEFAULT_STARTING_PRICE_FEN,
    REFERENCE,
    Reservation,
    ReservationState,
    deposit_order,
    tell,
)
from core.timers import BATCH
from core.wiring import Wiring

log = logging.getLogger(__name__)


def _of_order(uow: UnitOfWork, purpose: Purpose, reference: str) -> Reservation | None:
    if purpose is not Purpose.RESERVATION_DEPOSIT or not reference.startswith(REFERENCE):
        return None
    return uow.reservations.get(int(reference.removeprefix(REFERENCE)), lock=True)


def signup_still_open(period: AuctionPeriod, now: datetime) -> bool:
    """A period a lot can join and bidders can still sign up for: published, its signup not
    closed yet (it may not have opened) and not started."""
    closes = min(as_utc(period.signup_closes), as_utc(period.starts_at))
    return period.state is PeriodState.PUBLISHED and as_utc(now) < closes


def next_period(uow: UnitOfWork, now: datetime, but: int | None = None) -> AuctionPeriod | None:
    """The period starting soonest whose signup is still open (other than ``but``)."""
    open_ones = [p for p in uow.auctions.periods() if signup_still_open(p, now) and p.id != but]
    return min(open_ones, key=lambda p: (as_utc(p.starts_at), p.id or 0), default=None)


def _place(
    uow: UnitOfWork,
    reservation: Reservation,
    now: datetime,
    period: AuctionPeriod | None,
    *,
    but: int | None = None,
    paid: int | None = None,
) -> bool:
    """Make the plate a lot of ``period`` (or the next one open); False when there is none (it
    waits for the next one published) or the plate cannot be a lot now (staff put it in an
    auction or a pool meanwhile: it waits, and the payment that brought us here stands).
    ``paid``: the deposit just received, which the notice says too."""
    period = period or next_period(uow, now, but)
    if period is None or period.id is None:
        return False
    office = uow.offices.get(reservation.office_id)
    if office is None:  # pragma: no cover - offices are never deleted
        return False
    try:
        lot = auctions.add_lot(
            uow,
            clock=ManualClock(now),
            period_id=period.id,
            office_code=office.code,
            kind=reservation.plate_kind,
            serial=reservation.serial,
            starting_price_fen=reservation.starting_price_fen or DEFAULT_STARTING_PRICE_FEN,
            reservation_id=reservation.id,
        )
    except DomainError as error:
        log.warning("reservation %s not placed in period %s: %s", reservation.id, period.id, error)
        return False
    reservation.state = ReservationState.PLACED
    reservation.period_id, reservation.lot_id = period.id, lot.id
    signup_closes = min(as_utc(period.signup_closes), as_utc(period.starts_at))
    where = {
        "period": auctions.name_for(uow, period, reservation.account_id),
        "signup_opens": format_local(period.signup_opens),
        "signup_closes": format_local(signup_closes),
        "starts": format_local(period.starts_at),
    }
    # What the reserver can do now: sign up from when (not open yet), or until when. A signup
    # open until bidding starts (as it mostly is) is one time to tell: in Chinese the two times
    # would take the text past one segment.
    text = "placed"
    if as_utc(now) < as_utc(period.signup_opens):
        text = "placed_before_signup"
    elif signup_closes == as_utc(period.starts_at):
        text = "placed_at_start"
    if paid is None:
        tell(uow, reservation, "placed", now, text=text, **where)
        return True
    text = f"paid_{text}"
    tell(uow, reservation, "placed", now, text=text, amount=paid, **where)
    return True


def deposit_paid(uow: UnitOfWork, event: OrderPaid) -> None:
    """The deposit came in: the plate joins the next period with signup open, or waits; one
    message says the deposit received and where the plate went (the order's own is not sent,
    ``core.order_notices``)."""
    reservation = _of_order(uow, event.purpose, event.reference)
    if reservation is None or reservation.state is not ReservationState.APPROVED:
        return
    reservation.state = ReservationState.PAID
    if not _place(uow, reservation, event.at, None, paid=event.amount):
        tell(uow, reservation, "waiting", event.at, text="paid_waiting", amount=event.amount)


def deposit_unpaid(uow: UnitOfWork, event: OrderExpired | OrderCancelled) -> None:
    """The deposit order expired or was cancelled: the reservation lapses, the number is free."""
    reservation = _of_order(uow, event.purpose, event.reference)
    if reservation is None or reservation.state is not ReservationState.APPROVED:
        return
    reservation.state, reservation.ended_at = ReservationState.LAPSED, event.at
    # Its one message (the order's own is not sent, ``core.order_notices``) says why it lapsed.
    if isinstance(event, OrderCancelled) and event.cause is Cause.USER:
        return  # they cancelled it themselves, and were told first what it gives up
    cancelled = isinstance(event, OrderCancelled)
    tell(uow, reservation, "lapsed", event.at, text="lapsed_cancelled" if cancelled else None)


def period_published(uow: UnitOfWork, event: PeriodPublished) -> None:
    """Paid reservations waiting for a period join the new one, oldest first."""
    _join_waiting(uow, event.period_id, event.published_at)


def period_rescheduled(uow: UnitOfWork, event: auctions.PeriodAmended) -> None:
    """A period whose signup staff extended (it may have closed): waiting reservations join it,
    as they join one just published."""
    if event.rescheduled:
        _join_waiting(uow, event.period_id, event.amended_at)


def _join_waiting(uow: UnitOfWork, period_id: int, now: datetime) -> None:
    period = uow.auctions.period(period_id)
    if period is None or not signup_still_open(period, now):
        return
    for reservation in uow.reservations.in_state(ReservationState.PAID):
        _place(uow, reservation, now, period)


def _back_to_waiting(uow: UnitOfWork, reservations: Sequence[Reservation], now: datetime) -> None:
    """Their lot is gone before the auction (withdrawn, period cancelled): the next period
    (not the one staff took it out of)."""
    for reservation in reservations:
        if reservation.state is not ReservationState.PLACED:
            continue
        left = reservation.period_id
        reservation.state = ReservationState.PAID
        reservation.period_id = reservation.lot_id = None
        if not _place(uow, reservation, now, None, but=left):
            tell(uow, reservation, "waiting", now, tag=f":left-{left}")


def lot_withdrawn(uow: UnitOfWork, event: auctions.LotWithdrawn) -> None:
    reservation = uow.reservations.on_lot(event.lot_id)
    _back_to_waiting(uow, [reservation] if reservation else [], event.withdrawn_at)


def period_cancelled(uow: UnitOfWork, event: PeriodCancelled) -> None:
    placed = uow.reservations.in_state(ReservationState.PLACED, period_id=event.period_id)
    _back_to_waiting(uow, placed, event.cancelled_at)


def lot_closed(uow: UnitOfWork, event: LotClosed) -> None:
    """The reserved plate's lot closed: won by the reserver, by another bidder, or unsold. The
    deposit is due back in every case (``refund_deposits`` pays it)."""
    reservation = uow.reservations.on_lot(event.lot_id)
    if reservation is None or reservation.state is not ReservationState.PLACED:
        return
    outcome = ReservationState.UNSOLD
    if event.sold and event.winner_signup_id is not None:
        signup = uow.auctions.signup(event.winner_signup_id)
        won = signup is not None and signup.account_id == reservation.account_id
        outcome = ReservationState.WON if won else ReservationState.LOST
    reservation.state, reservation.ended_at = outcome, event.closed_at
    reservation.refund_due = True


def refund_deposits(uow: UnitOfWork, provider: PaymentProvider, now: datetime, limit: int) -> int:
    """Job: deposits of reservations whose lot closed go back the way they came, and the user is
    told the outcome and the refund. A deposit paid at the counter is handed back there: the
    user is told to collect it (staff refund it with a receipt, ``staff order refund``)."""
    due = uow.reservations.claim_refunds(limit)
    for reservation in due:
        reservation.refund_due = False
        order = deposit_order(uow, reservation)
        if order is None or order.state is not OrderState.PAID or order.balance == 0:
            continue
        amount = order.balance
        if order.paid_via == COUNTER:
            tell(uow, reservation, f"{reservation.state.value}_counter", now, amount=amount)
            continue
        refund_order(
            uow,
            provider,
            order_id=order.id or 0,
            now=now,
            cause=Cause.TIMER,
            amount=amount,
            told=True,  # the outcome's notice says it: one message
        )
        tell(uow, reservation, reservation.state.value, now, amount=amount)
    return len(due)


def wire(wiring: Wiring) -> None:
    wiring.bus.subscribe(OrderPaid, deposit_paid)
    wiring.bus.subscribe(OrderExpired, deposit_unpaid)
    wiring.bus.subscribe(OrderCancelled, deposit_unpaid)
    wiring.bus.subscribe(PeriodPublished, period_published)
    wiring.bus.subscribe(auctions.PeriodAmended, period_rescheduled)
    wiring.bus.subscribe(auctions.LotWithdrawn, lot_withdrawn)
    wiring.bus.subscribe(PeriodCancelled, period_cancelled)
    wiring.bus.subscribe(LotClosed, lot_closed)


class ReservationRefunds:
    """The server job that runs ``refund_deposits`` with the configured payment provider (event
    handlers and timer steps are given none)."""

    def __init__(
        self, uow_factory: Callable[[], UnitOfWork], clock: Clock, provider: PaymentProvider
    ) -> None:
        self.uow_factory = uow_factory
        self.clock = clock
        self.provider = provider

    def run_once(self) -> int:
        done = 0
        while True:
            with self.uow_factory() as uow:
                count = refund_deposits(uow, self.provider, self.clock.now(), BATCH)
                uow.commit()
            done += count
            if count < BATCH:
                return done
