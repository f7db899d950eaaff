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
lot nor sold at auction with the winner's balance still due, and nobody has a live (pending,
approved, paid or placed) reservation of it; a unique index of the store holds the last rule
when two users try at once. The other way round, the pool load and the sale listing refuse a
number a live reservation takes (``core.pools.taken_elsewhere``).

What happens once the deposit is paid (the lot, the auction, the refund) is in
``core.reservation_lots``; the refusals are in ``core.reservation_errors``.

Staff approve with the deposit and the lot's starting price (defaults below, SPEC §7's deposit
per share and a starting price staff may change per reservation).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from core import auctions
from core.accounts import Account
from core.auctions import YUAN
from core.clock import format_local
from core.errors import DomainError
from core.notices import NoticeKind, notify
from core.offices import Office, offices_for
from core.orders import DEFAULT_MINUTES, Order, Purpose
from core.payments import PaymentProvider, place_order
from core.plate_errors import OfficeUnknown
from core.plates import PlateKind, parse_serial
from core.pools import NumberState
from core.ports import UnitOfWork
from core.registry import validate_vin
from core.reservation_errors import (
    AlreadyReserved,
    AmountInvalid,
    NumberForSale,
    NumberInAuction,
    NumberPooled,
    NumberReserved,
    NumberTaken,
    ReasonRequired,
    ReservationNotPending,
    ReservationUnknown,
)

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
    if uow.settlements.awaiting(office_id, KIND, serial) is not None:  # won, balance still due
        raise NumberTaken(plate=plate)
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
    uow.offices.lock(office.id)  # a pool load or a listing of the number waits, then sees it
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
    tell(uow, reservation, "rejected", now, reason=reservation.reason)
    return reservation


def listed(
    uow: UnitOfWork, *, state: ReservationState | None = None, limit: int = 200
) -> Sequence[Reservation]:
    return uow.reservations.listed(states=None if state is None else [state], limit=limit)


def tell(
    uow: UnitOfWork,
    reservation: Reservation,
    what: str,
    now: datetime,
    *,
    tag: str = "",
    text: str | None = None,
    **params: str | int,
) -> None:
    """A notice of ``what`` happened; its key names the period (``tag``: what else tells this
    one from an earlier one of the same kind, e.g. the period the plate left). ``text``: the
    catalog text, when it is not ``what``'s own (why it happened: a lapse by cancellation)."""
    notify(
        uow,
        account_id=reservation.account_id,
        kind=NoticeKind.PERSONAL,
        key=f"reservation.notice.{text or what}",
        params={"plate": reservation.plate, **params},
        dedupe_key=f"{reservation.reference}:{what}:{reservation.period_id or 0}{tag}",
        now=now,
    )
