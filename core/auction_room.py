"""The live auction room (SPEC §7 "live updates", issue 14 items 6 and 7): who is in a period's
room, what each of them is shown as a lot changes, and what they are told.

- **In the room**: a bidder who entered it with bidder number and code (``core.auctions.
  enter_room`` records ``RoomEntered``). Kept in the database (``uow.room``), so every server
  process tells the same people. Bidding does not add anyone (a bid costs no extra write).
- **The room message** (Telegram only: SMS gets status on request, never room spam): one live
  message per bidder per lot, written as a notice of kind ``ROOM`` under the live key
  ``room:<lot>`` when the lot's price changes, and edited in place by the Telegram sender. Each
  write replaces the updates of the same message still waiting that were written no later, and
  one written later (sent or not) makes it stale, so only the latest state is sent; the
  sender spaces a chat's edits 3 s apart (about 20 a minute, Telegram's limit). Its buttons
  raise the price by each allowed increment (choice ids ``bid:<increment in fen>``), and
  while the lot has no bid, bid its starting price (``bid:start``).
  The seconds left are counted when the edit is sent (``core.outbox.at_send``).
- **Notices** (new messages, kind ``URGENT``: Telegram where linked, else SMS, one segment): the
  bidder who is outbid, the bidder whose automatic maximum is passed, and, when a lot closes,
  everyone in the room but the winner (sold at a price to a masked bidder number, or unsold).
  The winner gets one message, the settlement's: won, the price, the balance, its deadline and
  the pay link (``core.settlement``). A bidder is sent at most one outbid notice on a lot for
  those written before it goes, showing the latest price: being outbid again before it goes
  updates it (or, if its send is to be tried again, makes it stale), and leading again
  withdraws it.

A bid holds its lot locked until it commits, and every bid on a hot lot waits for that lock: so
a bid only notes what happened (``RoomChange``: one prebuilt insert for a bid that outbids
someone or opens the lot, in its own transaction: nothing is lost), and the timer step
``tell_room`` writes the notices and room updates from those notes, at least once a second,
with no lot locked. A lot's close is not on that path: its result notices are written by the
close itself.

The same screen (``screen_params``) serves the practice auction (``core.practice_auction``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.accounts import Language
from core.auctions import YUAN, AuctionPeriod, Lot, LotState, RoomEntered
from core.bidding import BidPlaced, LotClosed, MaximumExceeded, Outbid
from core.clock import OFFICE_TZ, as_utc
from core.masking import mask_bidder
from core.money import format_yuan
from core.notices import NoticeKind, notify, withdraw
from core.outbox import ChoiceSpec, at_send, choice
from core.plates import plate_in
from core.ports import UnitOfWork
from core.room_ports import ChangeKind, LotHeading, Member, RecentBid, RoomChange
from core.timers import TimerStep
from core.wiring import Wiring

RECENT_BIDS = 3  # bids listed on the room screen, the latest first
# The lane of ``tell_room``: a hot lot keeps it busy, and a busy lane runs again at once, every
# step of it; in the timers' lane that was every other step's transaction too, each time.
ROOM_LANE = "timers:rooms"
BID_CHOICE = "bid:"  # + an allowed increment in fen: the choice id of a raise
START_CHOICE = f"{BID_CHOICE}start"  # the choice id of a first bid at the starting price


# -- what is shown ----------------------------------------------------------------------------


def clock_time(moment: datetime) -> str:
    """A time of day as the office's clock shows it, to the second: ``14:05:02``."""
    return as_utc(moment).astimezone(OFFICE_TZ).strftime("%H:%M:%S")


def heading_plate(heading: LotHeading, language: Language) -> str:
    return plate_in(heading.province, heading.letter, heading.serial, language)


@dataclass(frozen=True)
class RoomView:
    """A lot as the room shows it."""

    position: int
    plate: str
    starting_price_fen: int
    price_fen: int | None
    leader: str | None  # the leading bidder number
    deadline: datetime
    increments_fen: tuple[int, ...]
    recent: tuple[RecentBid, ...] = ()


def screen_params(
    view: RoomView, *, mine_fen: int | None, me: str | None, now: datetime | None
) -> dict[str, Any]:
    """The params of ``room.screen``. With ``now`` the seconds left are counted now; without,
    when the message is sent (a live message)."""
    params: dict[str, Any] = {
        "position": view.position,
        "plate": view.plate,
        "deadline": clock_time(view.deadline),
    }
    if view.price_fen is None:
        params.update(what_key="room.starting", price=format_yuan(view.starting_price_fen))
    else:
        params.update(what_key="room.current", price=format_yuan(view.price_fen))
    if view.leader is None:
        params["leader_key"] = "room.nobody"
    elif view.leader == me:
        params["leader_key"] = "room.you"
    else:
        params["leader"] = mask_bidder(view.leader)
    if mine_fen is None:
        params["mine_key"] = "room.no_bid"
    else:
        params["mine"] = format_yuan(mine_fen)
    if view.recent:
        params["recent"] = "\n".join(
            f"{clock_time(bid.placed_at)} {mask_bidder(bid.bidder_number)} "
            f"{format_yuan(bid.amount_fen)}"
            for bid in view.recent
        )
    else:
        params["recent_key"] = "room.no_bids"
    params["left_until"] = as_utc(view.deadline).isoformat()
    return params if now is None else at_send(params, now)


def raise_choices(
    increments_fen: Sequence[int], *, opening_fen: int | None = None
) -> list[ChoiceSpec]:
    """A button per allowed increment: ``bid:<increment in fen>``, labelled ``+¥1,000``; before
    the first bid (``opening_fen``: the starting price), first a button that bids the starting
    price (``bid:start``): a raise of it would make the lowest first bid one increment above."""
    first: list[ChoiceSpec] = []
    if opening_fen is not None:
        first.append(choice(START_CHOICE, "room.start_bid", amount=format_yuan(opening_fen)))
    return first + [
        choice(f"{BID_CHOICE}{step}", "room.raise", amount=format_yuan(step))
        for step in increments_fen
    ]


def _view(
    heading: LotHeading,
    lot: Lot,
    period: AuctionPeriod,
    language: Language,
    recent: tuple[RecentBid, ...],
) -> RoomView:
    leader = recent[0].bidder_number if recent and lot.leader_signup_id is not None else None
    return RoomView(
        position=lot.position,
        plate=heading_plate(heading, language),
        starting_price_fen=lot.starting_price_fen,
        price_fen=lot.price_fen,
        leader=leader,
        deadline=lot.deadline,
        increments_fen=tuple(period.increments_fen),
        recent=recent,
    )


# -- who is in the room -----------------------------------------------------------------------


def on_room_entered(uow: UnitOfWork, event: RoomEntered) -> None:
    uow.room.join(event.signup_id)


# -- the room message -------------------------------------------------------------------------


def push_room(uow: UnitOfWork, lot: Lot, watchers: Sequence[Member], *, now: datetime) -> int:
    """The lot's room message, as it stands now, to each of ``watchers`` (an update of the
    message they have, or their first). Returns the rows written."""
    heading = None if lot.id is None else uow.room.heading(lot.id)
    period = uow.auctions.period(lot.period_id)
    if lot.id is None or heading is None or period is None:
        return 0
    recent = tuple(uow.room.recent_bids(lot.id, RECENT_BIDS))
    best = uow.room.best_bids(lot.id)
    written = 0
    for member in watchers:
        view = _view(heading, lot, period, member.language, recent)
        if lot.state is LotState.OPEN:
            opening = view.starting_price_fen if view.price_fen is None else None
            key, choices = "room.screen", raise_choices(view.increments_fen, opening_fen=opening)
            params = screen_params(
                view, mine_fen=best.get(member.signup_id), me=member.bidder_number, now=None
            )
        else:
            won = lot.leader_signup_id == member.signup_id
            key, choices, params = _closed_screen(lot, view, won=won)
        written += notify(
            uow,
            kind=NoticeKind.ROOM,
            account_id=member.account_id,
            language=member.language,
            key=key,
            params=params,
            dedupe_key=f"room:{lot.id}:{member.signup_id}:{lot.bids}:{lot.state}",
            live_key=f"room:{lot.id}",
            choices=choices,
            now=now,
        )
    return written


def _closed_screen(
    lot: Lot, view: RoomView, *, won: bool
) -> tuple[str, list[ChoiceSpec], dict[str, Any]]:
    """A closed lot's result, without buttons: sold (to the one it is shown to: ``won``), or
    unsold."""
    params: dict[str, Any] = {"position": view.position, "plate": view.plate}
    if lot.state is LotState.SOLD and lot.price_fen is not None and view.leader is not None:
        params.update(price=format_yuan(lot.price_fen), leader=mask_bidder(view.leader))
        return "room.screen_won" if won else "room.screen_sold", [], params
    return "room.screen_unsold", [], params


def _bid_note(event: BidPlaced) -> RoomChange | None:
    """The lot's first bid: its room message is to show it (``tell_room``). A later bid needs
    no note of its own: every step that raises a price someone led at outbids someone (the
    leader before it, or the bidder whom a maximum answered), and that ``Outbid`` note also
    stands for the price's change."""
    if event.seq != 1:
        return None
    return RoomChange(
        kind=ChangeKind.BID,
        lot_id=event.lot_id,
        period_id=event.period_id,
        signup_id=event.signup_id,
        price_fen=event.amount_fen,
        at=event.placed_at,
    )


def note_bids(uow: UnitOfWork, events: list[BidPlaced | Outbid | MaximumExceeded]) -> None:
    """What a bid (or a batch of them) changed in the room, noted in one insert while the lot
    is held: the fan-out runs later, in ``tell_room``."""
    changes: list[RoomChange] = []
    for event in events:
        if isinstance(event, BidPlaced):
            change = _bid_note(event)
        elif isinstance(event, Outbid):
            change = _outbid_note(event)
        else:
            change = _maximum_note(event)
        if change is not None:
            changes.append(change)
    uow.room.note_all(changes)


def _push_lot(uow: UnitOfWork, lot_id: int, now: datetime) -> int:
    """The room message of the lot as it stands, to those watching on Telegram."""
    lot = uow.auctions.lot(lot_id)
    if lot is None or lot.state is not LotState.OPEN:
        return 0  # its close shows the result
    watchers = uow.room.watchers(lot.period_id)
    return push_room(uow, lot, watchers, now=now) if watchers else 0


def tell_room(uow: UnitOfWork, now: datetime, limit: int) -> int:
    """Timer step: what bids noted (``RoomChange``), told: outbid and maximum notices, and one
    room update per changed lot, showing the lot as it stands now (so a burst of bids is one
    update). A bid only notes its changes (a short insert while it holds the lot); the fan-out
    runs here, with no lot locked. One runner tells at a time (of every server process: a
    bidder's waiting notice is written over, never written twice); changes are deleted once
    told. Every notice has its dedupe key, so a change told twice is written once.

    A bidder has at most one outbid notice on a lot waiting to be sent: the latest (an outbid
    notice written while an earlier one waits takes its place, ``_tell_outbid``; one put back
    to wait after a later one was written is stale, and the dispatcher skips it), and none once
    they lead again (a waiting one is withdrawn). Of the changes told together, only each
    bidder's last counts: outbid, then leading again, is no notice at all."""
    changes = uow.room.claim_changes(limit)
    lots: dict[int, datetime] = {}
    outbid: dict[tuple[int, int], RoomChange] = {}  # (lot, signup): the latest outbid
    leading: dict[tuple[int, int], datetime] = {}  # (lot, signup): leads again since then
    for change in changes:
        if change.kind is ChangeKind.OUTBID:
            bidder = (change.lot_id, change.signup_id)
            leading.pop(bidder, None)
            outbid[bidder] = change
            if change.leader_signup_id is not None:
                leader = (change.lot_id, change.leader_signup_id)
                outbid.pop(leader, None)
                leading[leader] = change.at
        elif change.kind is ChangeKind.MAXIMUM:
            _tell_maximum(uow, change)
        if change.kind is not ChangeKind.MAXIMUM:  # the price changed
            lots[change.lot_id] = max(change.at, lots.get(change.lot_id, change.at))
    for (lot_id, signup_id), since in leading.items():
        withdraw(
            uow,
            coalesce_key=_outbid_key(lot_id, signup_id),
            written_by=since,
            reason="not sent: the bidder leads again",
        )
    for change in outbid.values():
        _tell_outbid(uow, change)
    for lot_id, at in lots.items():
        _push_lot(uow, lot_id, at)
    uow.room.drop_changes([change.id for change in changes if change.id is not None])
    return len(changes)


# -- notices ----------------------------------------------------------------------------------


def _tell(
    uow: UnitOfWork,
    member: Member,
    heading: LotHeading,
    *,
    key: str,
    params: dict[str, Any],
    dedupe_key: str,
    now: datetime,
    coalesce_key: str | None = None,
) -> None:
    """A notice about a lot to the bidder: a new message (it notifies), on Telegram where
    linked, else by SMS."""
    plate = heading_plate(heading, member.language)
    notify(
        uow,
        kind=NoticeKind.URGENT,
        account_id=member.account_id,
        language=member.language,
        key=key,
        params={"position": heading.position, "plate": plate, **params},
        dedupe_key=dedupe_key,
        now=now,
        coalesce_key=coalesce_key,
    )


def _outbid_key(lot_id: int, signup_id: int) -> str:
    """The bidder's outbid notice on the lot, while it waits to be sent."""
    return f"outbid:{lot_id}:{signup_id}"


def _outbid_note(event: Outbid) -> RoomChange:
    return RoomChange(
        kind=ChangeKind.OUTBID,
        lot_id=event.lot_id,
        period_id=event.period_id,
        signup_id=event.signup_id,
        leader_signup_id=event.leader_signup_id,
        price_fen=event.price_fen,
        at=event.at,
    )


def _maximum_note(event: MaximumExceeded) -> RoomChange:
    return RoomChange(
        kind=ChangeKind.MAXIMUM,
        lot_id=event.lot_id,
        period_id=event.period_id,
        signup_id=event.signup_id,
        price_fen=event.price_fen,
        max_fen=event.max_fen,
        at=event.at,
    )


def _tell_outbid(uow: UnitOfWork, change: RoomChange) -> None:
    """Who leads now and at what price, and (by SMS) how to raise; in place of the bidder's
    outbid notice on the lot that still waits, if one does."""
    leader_id = change.leader_signup_id or 0
    found = uow.room.bidders([change.signup_id, leader_id])
    member, leader = found.get(change.signup_id), found.get(leader_id)
    heading = uow.room.heading(change.lot_id)
    if member is None or leader is None or heading is None:
        return
    price = change.price_fen or 0
    params = {
        "price": format_yuan(price),
        "leader": mask_bidder(leader.bidder_number),
        "step": heading.step_fen // YUAN,  # as the SMS command takes it: B 1000 is ¥1,000
    }
    _tell(
        uow,
        member,
        heading,
        key="room.outbid",
        params=params,
        dedupe_key=f"{_outbid_key(change.lot_id, change.signup_id)}:{price}",
        now=change.at,
        coalesce_key=_outbid_key(change.lot_id, change.signup_id),
    )


def _tell_maximum(uow: UnitOfWork, change: RoomChange) -> None:
    member = uow.room.bidders([change.signup_id]).get(change.signup_id)
    heading = uow.room.heading(change.lot_id)
    if member is None or heading is None:
        return
    price, maximum = change.price_fen or 0, change.max_fen or 0
    params = {"maximum": format_yuan(maximum), "price": format_yuan(price)}
    key = f"maximum:{change.lot_id}:{change.signup_id}:{maximum}:{price}"
    _tell(
        uow,
        member,
        heading,
        key="room.maximum_exceeded",
        params=params,
        dedupe_key=key,
        now=change.at,
    )


def on_lot_closed(uow: UnitOfWork, event: LotClosed) -> None:
    """Everyone else in the room is told the result, a new message; the room message shows it.
    The winner gets one message, the settlement's (``core.settlement``: won at what price, what
    to pay by when, the pay link), not this one too."""
    lot = uow.auctions.lot(event.lot_id)
    heading = uow.room.heading(event.lot_id)
    if lot is None or heading is None:
        return
    told = {member.signup_id: member for member in uow.room.members(event.period_id)}
    winner = None
    if event.winner_signup_id is not None:
        winner = uow.room.bidders([event.winner_signup_id]).get(event.winner_signup_id)
    for member in told.values():
        params: dict[str, Any] = {}
        if event.sold and winner is not None and event.price_fen is not None:
            if member.signup_id == winner.signup_id:
                continue
            params["price"] = format_yuan(event.price_fen)
            key, params["leader"] = "room.sold", mask_bidder(winner.bidder_number)
        else:
            key = "room.unsold"
        dedupe_key = f"result:{event.lot_id}:{member.signup_id}"
        _tell(
            uow, member, heading, key=key, params=params, dedupe_key=dedupe_key, now=event.closed_at
        )
    watchers = uow.room.watchers(event.period_id)
    if watchers:
        push_room(uow, lot, watchers, now=event.closed_at)


def wire(wiring: Wiring) -> None:
    wiring.timer(TimerStep("tell auction rooms", tell_room), lane=ROOM_LANE)
    wiring.bus.subscribe(RoomEntered, on_room_entered)
    wiring.bus.subscribe_batch((BidPlaced, Outbid, MaximumExceeded), note_bids)
    wiring.bus.subscribe(LotClosed, on_lot_closed)
