"""What a bidder sees in the auction room (SPEC §7): each lot with its current price, the
leader's masked bidder number, the bidder's own bid, the deadline and the recent bids. Read
without the lot's lock: a screen shows the lot as it was a moment ago; a bid is decided under
the lock (``core.bidding``)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from core.accounts import Language
from core.auctions import Lot, LotState, Signup, stored_id
from core.clock import as_utc
from core.masking import mask_bidder
from core.offices import Office
from core.plates import PROVINCES_PINYIN, display
from core.ports import UnitOfWork
from core.room_ports import Seat

RECENT = 3


@dataclass(frozen=True, slots=True)
class RecentBid:
    bidder: str  # masked
    amount_fen: int
    at: datetime


@dataclass(frozen=True, slots=True)
class RoomLot:
    lot_id: int
    position: int
    plate: str
    plate_en: str
    state: LotState
    starting_price_fen: int
    price_fen: int | None
    leader: str | None  # masked bidder number
    leading: bool  # the bidder looking at it leads
    my_bid_fen: int | None
    opens_at: datetime
    deadline: datetime
    increments_fen: tuple[int, ...]
    recent: tuple[RecentBid, ...]

    def plate_in(self, language: Language) -> str:
        return self.plate_en if language is Language.EN else self.plate

    def seconds_left(self, now: datetime) -> int:
        return max(0, math.ceil((as_utc(self.deadline) - now).total_seconds()))

    def is_open(self, now: datetime) -> bool:
        return self.state is LotState.OPEN and as_utc(self.opens_at) <= now < as_utc(self.deadline)


def room_lots(uow: UnitOfWork, signup: Signup, *, detail: bool = False) -> list[RoomLot]:
    """The period's lots (withdrawn ones left out) as the bidder sees them. ``detail`` reads
    each lot's trail for the bidder's own bid and the recent bids."""
    period = uow.auctions.period(signup.period_id)
    increments = tuple(period.increments_fen) if period is not None else ()
    offices: dict[int, Office | None] = {}
    numbers: dict[int, str | None] = {}
    shown: list[RoomLot] = []
    for lot in uow.auctions.lots(signup.period_id):
        if lot.state is LotState.WITHDRAWN:
            continue
        if lot.office_id not in offices:
            offices[lot.office_id] = uow.offices.get(lot.office_id)
        plates = _plates(offices[lot.office_id], lot.serial)
        shown.append(_room_lot(uow, lot, signup, plates, increments, numbers, detail))
    return sorted(shown, key=lambda lot: lot.position)


def room_lot(
    uow: UnitOfWork, signup: Signup, lot_id: int, *, detail: bool = True
) -> RoomLot | None:
    """One lot of the signup's period (None: not one, or withdrawn); ``detail`` as above."""
    seat = uow.room.seat(stored_id(signup.id), lot_id)
    if seat is None or seat.lot is None:
        return None
    return _seated(uow, seat, signup, detail)


@dataclass(frozen=True, slots=True)
class RoomSeat:
    """A signup with the lot it looks at (None: no such lot), and its first VIN (with one share,
    the one it bids with)."""

    signup: Signup
    lot: RoomLot | None
    first_share_id: int | None


def room_seat(uow: UnitOfWork, signup_id: int, lot_id: int | None) -> RoomSeat | None:
    """The signup (None: unknown) with lot ``lot_id`` of its period as ``room_lot`` shows it
    without ``detail`` (None: not one, or withdrawn); with ``lot_id`` None, the lot the room
    shows first: the first open one, else the first. One read (``RoomRepository.seat``): what a
    bid turn looks up before its bid."""
    seat = uow.room.seat(signup_id, lot_id)
    if seat is None:
        return None
    lot = None if seat.lot is None else _seated(uow, seat, seat.signup, False)
    return RoomSeat(seat.signup, lot, seat.first_share_id)


def _seated(uow: UnitOfWork, seat: Seat, signup: Signup, detail: bool) -> RoomLot:
    lot = seat.lot
    assert lot is not None  # noqa: S101 - the callers' check
    leader = seat.leader_number if lot.leader_signup_id is not None else None
    numbers: dict[int, str | None] = {}
    if lot.leader_signup_id is not None:
        numbers[lot.leader_signup_id] = leader
    plate = display(seat.province, seat.letter, lot.serial)
    pinyin = PROVINCES_PINYIN.get(seat.province, seat.province)
    plate_en = f"{pinyin} {seat.letter} {lot.serial}"
    return _room_lot(uow, lot, signup, (plate, plate_en), seat.increments_fen, numbers, detail)


def _bidder(uow: UnitOfWork, signup_id: int | None, numbers: dict[int, str | None]) -> str | None:
    if signup_id is None:
        return None
    if signup_id not in numbers:
        found = uow.auctions.signup(signup_id)
        numbers[signup_id] = None if found is None else found.bidder_number
    number = numbers[signup_id]
    return None if number is None else mask_bidder(number)


def _plates(office: Office | None, serial: str) -> tuple[str, str]:
    """The plate in Chinese and in English."""
    if office is None:
        return serial, serial
    return office.plate(serial), f"{office.code_in(Language.EN)} {serial}"


def _room_lot(  # noqa: PLR0917 - one private helper, called twice
    uow: UnitOfWork,
    lot: Lot,
    signup: Signup,
    plates: tuple[str, str],
    increments: tuple[int, ...],
    numbers: dict[int, str | None],
    detail: bool,
) -> RoomLot:
    lot_id = stored_id(lot.id)
    mine: int | None = None
    recent: list[RecentBid] = []
    if detail:  # from the end of the lot's trail: a hot lot's is long
        mine = uow.room.latest_bid(lot_id, stored_id(signup.id))
        for bid in uow.room.recent_bids(lot_id, RECENT):
            shown = mask_bidder(bid.bidder_number) if bid.bidder_number else "-"
            recent.append(RecentBid(shown, bid.amount_fen, bid.placed_at))
    return RoomLot(
        lot_id=lot_id,
        position=lot.position,
        plate=plates[0],
        plate_en=plates[1],
        state=lot.state,
        starting_price_fen=lot.starting_price_fen,
        price_fen=lot.price_fen,
        leader=_bidder(uow, lot.leader_signup_id, numbers),
        leading=lot.leader_signup_id is not None and lot.leader_signup_id == signup.id,
        my_bid_fen=mine,
        opens_at=lot.opens_at,
        deadline=lot.deadline,
        increments_fen=increments,
        recent=tuple(recent),
    )
