"""Plate reservations (SPEC §8, manual 003 §6 "号牌预约"): a user asks for a number they want to
see in a later auction; staff review it; the user pays a reservation deposit; the plate becomes a
lot of the next auction period whose signup is still open.

States and the only moves::

    pending ──reject──► rejected
       └──approve──► approved ──deposit unpaid (order expired or cancelled)──► lapsed
                        └──deposit paid──► paid ──a period with signup open──► placed
                                            ▲                                   │
                                            └──lot withdrawn / period cancelled─┤
                                                                                ▼
                                                        the lot closes: won | lost | unsold

A number can be reserved only when it is **free**: the pool does not know it (pooled numbers are
for pre-selection; held, pre-selected, issued or for-sale numbers are someone's), it is in no open
lot, and nobody has a live (pending, approved, paid or placed) reservation of it; a unique index
of the store holds the last rule when two users try at once.

The reserver gets no privilege in the auction (SPEC §7): to bid on the plate they sign up for the
period and pay the auction deposit like everyone else. The reservation deposit only stands behind
the request: once the lot closes it is refunded, whoever won (``won``, ``lost``) or if nobody bid
(``unsold``). The refund goes back through the payment provider, which event handlers do not
have: the handler marks it due and ``refund_deposits`` (a server job given the provider) pays it.

Staff approve with the deposit and the lot's starting price (defaults below, SPEC §7's deposit
per share and a starting price staff may change per reservation).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from core import auctions
from core.accounts import Account
from core.auctions import YUAN, AuctionPeriod, PeriodCancelled, PeriodPublished, PeriodState
from core.bidding import LotClosed
from core.clock import Clock, ManualClock, as_utc, format_local
from core.errors import DomainError
from core.notices import NoticeKind, notify
from core.offices import Office, offices_for
from core.orders import (
    COUNTER,
    DEFAULT_MINUTES,
    Cause,
    Order,
    OrderCancelled,
    OrderExpired,
    OrderPaid,
    OrderState,
    Purpose,
)
from core.payments import PaymentProvider, place_order, refund_order
from core.plate_errors import OfficeUnknown
from core.plates import PlateKind, parse_serial
from core.pools import NumberState
from core.ports import UnitOfWork
from core.registry import validate_vin
from core.timers import BATCH
from core.wiring import Wiring

log = logging.getLogger(__name__)

DEFAULT_DEPOSIT_FEN = auctions.DEFAULT_DEPOSIT_FEN  # ¥5,000, SPEC §7's deposit per share
DEFAULT_STARTING_PRICE_FEN = 10_000 * YUAN
MAX_FEN = 10**12
KIND = PlateKind.SMALL  # "the last five characters": an ordinary plate
REFERENCE = "reservation:"


class ReservationState(StrEnum):
    PENDING = "pending"  # waiting for staff review
    REJECTED = "rejected"
    APPROVED = "approved"  # the deposit order is due
    LAPSED = "lapsed"  # the deposit was not paid by its deadline (or the order was cancelled)
    PAID = "paid"  # deposit paid; waits for a period whose signup is open
    PLACED = "placed"  # a lot of a period
    WON = "won"  # the reserver won the lot
    LOST = "lost"  # another bidder won it
    UNSOLD = "unsold"  # nobody bid

    @property
    def live(self) -> bool:
        """The number is taken by this reservation."""
        return self in LIVE_STATES


LIVE_STATES = frozenset(
    {
        ReservationState.PENDING,
        ReservationState.APPROVED,
        ReservationState.PAID,
        ReservationState.PLACED,
    }
)


@dataclass(eq=False)
class Reservation:
    account_id: int
    office_id: int
    plate_kind: PlateKind
    serial: str
    plate: str  # as shown: 粤D·12345
    vin: str
    created_at: datetime
    state: ReservationState = ReservationState.PENDING
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None
    reason: str | None = None  # why staff rejected it
    deposit_fen: int | None = None
    starting_price_fen: int | None = None
    order_id: int | None = None  # the deposit order
    period_id: int | None = None
    lot_id: int | None = None
    refund_due: bool = False  # the deposit is to go back (the lot closed)
    ended_at: datetime | None = None
    id: int | None = None

    @property
    def reference(self) -> str:
        return f"{REFERENCE}{self.id}"


# -- refusals ---------------------------------------------------------------------------------


class NumberPooled(DomainError):
    """The number is in the office's pool: it is for pre-selection, not for reservation."""

    code = "reservation.number_pooled"


class NumberTaken(DomainError):
    """Held in someone's batch, pre-selected or issued."""

    code = "reservation.number_taken"


class NumberForSale(DomainError):
    code = "reservation.number_for_sale"


class NumberInAuction(DomainError):
    code = "reservation.number_in_auction"


class NumberReserved(DomainError):
    """Another user has a live reservation of the number."""

    code = "reservation.number_reserved"


class AlreadyReserved(DomainError):
    """The user has a live reservation of this number already."""

    code = "reservation.already_yours"


class ReservationUnknown(DomainError):
    code = "reservation.unknown"


class ReservationNotPending(DomainError):
    """Reviewing a reservation that is not waiting for review."""

    code = "reservation.not_pending"


class ReasonRequired(DomainError):
    code = "reservation.reason_required"


class AmountInvalid(DomainError):
    code = "reservation.amount_invalid"


_REFUSAL_BY_STATE: dict[NumberState, type[DomainError]] = {
    NumberState.POOLED: NumberPooled,
    NumberState.HELD: NumberTaken,
    NumberState.PRESELECTED: NumberTaken,
    NumberState.ISSUED: NumberTaken,
    NumberState.FOR_SALE: NumberForSale,
    NumberState.IN_AUCTION: NumberInAuction,
    NumberState.RESERVED: NumberReserved,
}


# -- the user ---------------------------------------------------------------------------------


def offices_to_reserve_at(uow: UnitOfWork, account: Account) -> list[Office]:
    """The offices whose plates the user may reserve (as for pre-selection: their certificate
    location's, or all for existing car owners and window users)."""
    return offices_for(account, uow.offices.all())


def _ids(offices: Sequence[Office]) -> set[int | None]:
    return {office.id for office in offices}


def check_free(uow: UnitOfWork, *, account_id: int, office: Office, serial: str) -> None:
    """Refuse a number that is not free, saying why (see the module's docstring)."""
    office_id = office.id or 0
    plate = office.plate(serial)
    known = uow.pool.states(office_id, KIND, [serial], lock=True).get(serial)
    if known is not None:
        raise _REFUSAL_BY_STATE[known[0]](plate=plate)
    if uow.auctions.open_lot_for(office_id, KIND, serial) is not None:
        raise NumberInAuction(plate=plate)
    live = uow.reservations.live_for(office_id, KIND, serial)
    if live is not None:
        raise (AlreadyReserved if live.account_id == account_id else NumberReserved)(plate=plate)


def parse_number(text: str) -> str:
    """The last five characters of a plate, typed forgivingly (``粤D 12345``, ``ab123``)."""
    return parse_serial(KIND, text)


def reserve(
    uow: UnitOfWork,
    *,
    now: datetime,
    account: Account,
    office_code: str,
    serial: str,
    vin: str,
) -> Reservation:
    """A free number becomes a pending reservation for the VIN (format and check digit: the
    auction's signup checks VINs so, SPEC §7, and the lot is for the auction)."""
    if account.id is None:  # pragma: no cover - flows require an account
        raise ReservationUnknown()
    office = uow.offices.by_code(office_code)
    if (
        office is None
        or office.id is None
        or office.id not in _ids(offices_to_reserve_at(uow, account))
    ):
        raise OfficeUnknown(office=office_code[:8])
    serial = parse_number(serial)
    vin = validate_vin(vin)
    check_free(uow, account_id=account.id, office=office, serial=serial)
    reservation = Reservation(
        account_id=account.id,
        office_id=office.id,
        plate_kind=KIND,
        serial=serial,
        plate=office.plate(serial),
        vin=vin,
        created_at=now,
    )
    uow.reservations.add(reservation)
    log.info("reservation %s of %s requested", reservation.id, reservation.plate)
    return reservation


def history(uow: UnitOfWork, account_id: int) -> Sequence[Reservation]:
    """The user's reservations, newest first."""
    return uow.reservations.of_account(account_id)


def deposit_order(uow: UnitOfWork, reservation: Reservation) -> Order | None:
    return None if reservation.order_id is None else uow.orders.get(reservation.order_id)


# -- staff ------------------------------------------------------------------------------------


def _pending(uow: UnitOfWork, reservation_id: int) -> Reservation:
    reservation = uow.reservations.get(reservation_id, lock=True)
    if reservation is None:
        raise ReservationUnknown(reservation=reservation_id)
    if reservation.state is not ReservationState.PENDING:
        raise ReservationNotPending(reservation=reservation_id, state=reservation.state.value)
    return reservation


def approve(
    uow: UnitOfWork,
    provider: PaymentProvider,
    *,
    now: datetime,
    reservation_id: int,
    staff: str,
    deposit_fen: int = DEFAULT_DEPOSIT_FEN,
    starting_price_fen: int = DEFAULT_STARTING_PRICE_FEN,
    minutes: int = DEFAULT_MINUTES,
) -> Reservation:
    """Staff approve: the deposit order is placed and the user told to pay it, with the link.

    The provider is a parameter (not the pay token in the notice) because the link is the
    provider's to make: a real gateway creates the payment at its end and answers with its
    cashier address, which no template holding a token could build."""
    for name, value in (("deposit", deposit_fen), ("starting_price", starting_price_fen)):
        if not 0 < value <= MAX_FEN:
            raise AmountInvalid(setting=name, value=value)
    reservation = _pending(uow, reservation_id)
    order = place_order(
        uow,
        account_id=reservation.account_id,
        purpose=Purpose.RESERVATION_DEPOSIT,
        reference=reservation.reference,
        subject=reservation.plate,
        amount=deposit_fen,
        now=now,
        minutes=minutes,
    )
    reservation.state = ReservationState.APPROVED
    reservation.reviewed_by, reservation.reviewed_at = staff.strip(), now
    reservation.deposit_fen, reservation.starting_price_fen = deposit_fen, starting_price_fen
    reservation.order_id = order.id
    notify(
        uow,
        account_id=reservation.account_id,
        kind=NoticeKind.URGENT,  # a payment due
        key="reservation.notice.approved",
        params={
            "plate": reservation.plate,
            "amount": deposit_fen,
            "deadline": format_local(order.deadline),
            "url": provider.pay_url(order),
        },
        dedupe_key=f"{reservation.reference}:approved",
        now=now,
    )
    return reservation


def reject(
    uow: UnitOfWork, *, now: datetime, reservation_id: int, staff: str, reason: str
) -> Reservation:
    """Staff reject, saying why; the user is told the reason and the number is free again."""
    reason = " ".join(reason.split())
    if not reason:
        raise ReasonRequired()
    reservation = _pending(uow, reservation_id)
    reservation.state = ReservationState.REJECTED
    reservation.reviewed_by, reservation.reviewed_at = staff.strip(), now
    reservation.reason, reservation.ended_at = reason[:200], now
    _tell(uow, reservation, "rejected", now, reason=reservation.reason)
    return reservation


def listed(
    uow: UnitOfWork, *, state: ReservationState | None = None, limit: int = 200
) -> Sequence[Reservation]:
    return uow.reservations.listed(states=None if state is None else [state], limit=limit)


def _tell(
    uow: UnitOfWork,
    reservation: Reservation,
    what: str,
    now: datetime,
    *,
    tag: str = "",
    **params: str | int,
) -> None:
    """A notice of ``what`` happened; its key names the period (``tag``: what else tells this
    one from an earlier one of the same kind, e.g. the period the plate left)."""
    notify(
        uow,
        account_id=reservation.account_id,
        kind=NoticeKind.PERSONAL,
        key=f"reservation.notice.{what}",
        params={"plate": reservation.plate, **params},
        dedupe_key=f"{reservation.reference}:{what}:{reservation.period_id or 0}{tag}",
        now=now,
    )


# -- the deposit and the auction ----------------------------------------------------------------


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
    but: int | None = None,
) -> bool:
    """Make the plate a lot of ``period`` (or the next one open); False when there is none (it
    waits for the next one published) or the plate cannot be a lot now (staff put it in an
    auction or a pool meanwhile: it waits, and the payment that brought us here stands)."""
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
        )
    except DomainError as error:
        log.warning("reservation %s not placed in period %s: %s", reservation.id, period.id, error)
        return False
    reservation.state = ReservationState.PLACED
    reservation.period_id, reservation.lot_id = period.id, lot.id
    _tell(
        uow,
        reservation,
        "placed",
        now,
        period=period.name,
        signup_closes=format_local(min(as_utc(period.signup_closes), as_utc(period.starts_at))),
        starts=format_local(period.starts_at),
    )
    return True


def deposit_paid(uow: UnitOfWork, event: OrderPaid) -> None:
    """The deposit came in: the plate joins the next period with signup open, or waits."""
    reservation = _of_order(uow, event.purpose, event.reference)
    if reservation is None or reservation.state is not ReservationState.APPROVED:
        return
    reservation.state = ReservationState.PAID
    if not _place(uow, reservation, event.at, None):
        _tell(uow, reservation, "waiting", event.at)


def deposit_unpaid(uow: UnitOfWork, event: OrderExpired | OrderCancelled) -> None:
    """The deposit order expired or was cancelled: the reservation lapses, the number is free."""
    reservation = _of_order(uow, event.purpose, event.reference)
    if reservation is None or reservation.state is not ReservationState.APPROVED:
        return
    reservation.state, reservation.ended_at = ReservationState.LAPSED, event.at
    _tell(uow, reservation, "lapsed", event.at)


def period_published(uow: UnitOfWork, event: PeriodPublished) -> None:
    """Paid reservations waiting for a period join the new one, oldest first."""
    period = uow.auctions.period(event.period_id)
    if period is None or not signup_still_open(period, event.published_at):
        return
    for reservation in uow.reservations.in_state(ReservationState.PAID):
        _place(uow, reservation, event.published_at, period)


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
            _tell(uow, reservation, "waiting", now, tag=f":left-{left}")


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
            _tell(uow, reservation, f"{reservation.state.value}_counter", now, amount=amount)
            continue
        refund_order(
            uow, provider, order_id=order.id or 0, now=now, cause=Cause.TIMER, amount=amount
        )
        _tell(uow, reservation, reservation.state.value, now, amount=amount)
    return len(due)


def wire(wiring: Wiring) -> None:
    wiring.bus.subscribe(OrderPaid, deposit_paid)
    wiring.bus.subscribe(OrderExpired, deposit_unpaid)
    wiring.bus.subscribe(OrderCancelled, deposit_unpaid)
    wiring.bus.subscribe(PeriodPublished, period_published)
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
