"""The practice auction: the room screen of a real auction, marked as practice, against a
simulated rival (``core.practice_auction``); short countdowns, nothing saved."""

from __future__ import annotations

import enum
import re
from typing import Any

from transitions import EventData

from core import practice_auction as practice
from core.accounts import Language
from core.auction_room import BID_CHOICE, START_CHOICE, RoomView, screen_params
from core.masking import mask_bidder
from core.money import format_yuan
from core.plates import plate_in
from core.practice_auction import Bidder, Move, PracticeLot
from core.room_ports import RecentBid
from dialogs.flow import BaseFlow, Event, Turn, turn_of
from dialogs.replies import Choice, Inbound, Reply, Text

# ``B 2000`` / ``出价 2000`` / ``+2000``: raise by ¥2,000, as the real room's SMS command;
# ``B`` / ``出价`` alone: the starting price, as there too.
_TYPED_BID = re.compile(r"^\s*(?:(?:b|出价|\+)\s*(\d{1,7})|b|出价)\s*$", re.IGNORECASE)
_START = START_CHOICE.removeprefix(BID_CHOICE)
_NUMBERS = {Bidder.ME: practice.ME, Bidder.RIVAL: practice.RIVAL}
PROVINCE, LETTER = "粤", "D"


class State(enum.Enum):
    ROOM = enum.auto()


class PracticeAuctionFlow(BaseFlow):
    """One practice lot: raise, refresh, and when it closes see the result and go again."""

    name = "practice_auction"
    State = State
    help_key = "help.practice_auction"

    def transitions(self) -> list[dict[str, Any]]:
        room = State.ROOM
        return [
            {"trigger": "bid", "source": room, "dest": None, "before": self.place_bid},
            {"trigger": "refresh", "source": room, "dest": None, "before": self.refresh},
            {"trigger": "again", "source": room, "dest": None, "before": self.start_again},
            {"trigger": "leave", "source": room, "dest": None, "before": self.leave},
        ]

    def entry(self, turn: Turn) -> enum.Enum:
        turn.data["lot"] = practice.to_data(practice.new_lot(turn.now))
        return State.ROOM

    def read(self, turn: Turn, inbound: Inbound) -> Event | None:
        typed = _TYPED_BID.match(inbound.text)
        if typed is None:
            return None
        if typed.group(1) is None:
            return Event("bid", {"arg": _START})
        return Event("bid", {"arg": str(int(typed.group(1)) * 100)})

    def prompt(self, turn: Turn) -> Reply:
        lot = _lot(turn)
        lot.catch_up(turn.now)  # the same whenever it is worked out: nothing to keep
        banner = Text("practice_auction.banner")
        if lot.closed(turn.now):
            return Reply(
                lines=(banner, _result(lot)),
                choices=(
                    Choice("again", Text("practice_auction.again")),
                    Choice("leave", Text("practice_auction.leave")),
                ),
                practice=True,
            )
        params = screen_params(
            _view(lot, turn.language), mine_fen=lot.my_bid_fen, me=practice.ME, now=turn.now
        )
        raises = tuple(
            Choice(f"{BID_CHOICE}{step}", Text("room.raise", {"amount": format_yuan(step)}))
            for step in practice.INCREMENTS_FEN
        )
        if lot.price_fen is None:  # as the real room: the first bid may be the starting price
            start = Text("room.start_bid", {"amount": format_yuan(practice.START_FEN)})
            raises = (Choice(START_CHOICE, start), *raises)
        return Reply(
            lines=(banner, Text("room.screen", params)),
            choices=(
                *raises,
                Choice("refresh", Text("practice_auction.refresh")),
                Choice("leave", Text("practice_auction.leave")),
            ),
            practice=True,
        )

    def place_bid(self, event: EventData) -> None:
        """Raise by the increment pressed (or typed), or bid the starting price; the rival may
        answer at once."""
        turn = turn_of(event)
        lot = _lot(turn)
        arg = str(event.kwargs.get("arg", "0"))
        move = lot.bid(None if arg == _START else int(arg), turn.now)
        turn.data["lot"] = practice.to_data(lot)
        if move is Move.ANSWERED:
            turn.note("practice_auction.accepted", amount=format_yuan(lot.bids[-2].amount_fen))
            turn.note(
                "practice_auction.rival_bid",
                rival=_masked(Bidder.RIVAL),
                amount=format_yuan(lot.bids[-1].amount_fen),
            )
        elif move is Move.ACCEPTED:
            turn.note("practice_auction.accepted", amount=format_yuan(lot.bids[-1].amount_fen))
        elif move is Move.NOT_ALLOWED:
            turn.note("practice_auction.not_allowed")
        elif move is Move.ALREADY_LEADING:
            turn.note("practice_auction.already_leading")
        elif move is Move.HAS_PRICE:
            turn.note("practice_auction.has_price", price=format_yuan(lot.price_fen or 0))
        else:
            turn.note("practice_auction.too_late")

    def refresh(self, event: EventData) -> None:
        """Show the lot as it stands now (the rival may have moved, the lot closed)."""

    def start_again(self, event: EventData) -> None:
        """A fresh practice lot."""
        turn = turn_of(event)
        turn.data["lot"] = practice.to_data(practice.new_lot(turn.now))

    def leave(self, event: EventData) -> None:
        """Back where the user came from."""
        turn_of(event).finish()


def _lot(turn: Turn) -> PracticeLot:
    """The practice lot; a new one when there is none (a conversation put in the room otherwise,
    or one whose data is gone): a practice has nothing to lose."""
    if "lot" not in turn.data:
        turn.data["lot"] = practice.to_data(practice.new_lot(turn.now))
    return practice.from_data(turn.data["lot"])


def _masked(bidder: Bidder) -> str:
    return mask_bidder(_NUMBERS[bidder])


def _view(lot: PracticeLot, language: Language) -> RoomView:
    leader = lot.leader
    recent = tuple(
        RecentBid(bid.at, _NUMBERS[bid.bidder], bid.amount_fen) for bid in reversed(lot.bids[-3:])
    )
    return RoomView(
        position=1,
        plate=plate_in(PROVINCE, LETTER, practice.PLATE_SERIAL, language),
        starting_price_fen=practice.START_FEN,
        price_fen=lot.price_fen,
        leader=None if leader is None else _NUMBERS[leader],
        deadline=lot.deadline,
        increments_fen=practice.INCREMENTS_FEN,
        recent=recent,
    )


def _result(lot: PracticeLot) -> Text:
    price = lot.price_fen
    if lot.leader is Bidder.ME and price is not None:
        return Text("practice_auction.won", {"price": format_yuan(price)})
    if lot.leader is Bidder.RIVAL and price is not None:
        return Text(
            "practice_auction.lost", {"rival": _masked(Bidder.RIVAL), "price": format_yuan(price)}
        )
    return Text("practice_auction.unsold")
