"""The auction room's screens (``dialogs/flows/auction_room.py``): the lot with its price,
leader, my bid, deadline and recent bids, and one choice per allowed increment
(``bid:<increment in fen>``), first one to bid the starting price while the lot has no bid
(``bid:start``); the lots, the VINs to bid with, the maximum asked, and the short commands'
answers alone."""

from __future__ import annotations

from core.auction_room import START_CHOICE
from core.auctions import Signup, stored_id
from core.clock import as_utc
from core.room_view import room_lot, room_lots
from dialogs.flow import Turn
from dialogs.flows.auction_room import (
    COMMAND,
    LOTS,
    MAXIMUM,
    VIN,
    clock_time,
    current_lot,
    lot_line,
    signup_of,
    state_key,
)
from dialogs.money import format_yuan
from dialogs.replies import Choice, Reply, Text


def prompt(turn: Turn) -> Reply:
    state = turn.state.name
    signup = signup_of(turn)
    if signup is None:
        return Reply(
            lines=(Text("auction.room_closed"),),
            choices=(Choice("home", Text("auction.home")), Choice("menu", Text("menu.back"))),
        )
    if state == COMMAND:
        lines = () if turn.notes else (Text("auction.commands"),)
        return Reply(lines=lines)
    if state == LOTS:
        lots = room_lots(turn.uow, signup)
        return Reply(
            lines=(Text("auction.pick_lot"),),
            choices=(
                *(
                    Choice(f"lot:{lot.lot_id}", lot_line(turn, lot, "auction.lot_choice"))
                    for lot in lots
                ),
                Choice("screen", Text("auction.back_to_room")),
            ),
        )
    if state == VIN:
        free = turn.uow.auctions.free_shares(stored_id(signup.id))
        return Reply(
            lines=(Text("auction.pick_vin"),),
            choices=(
                *(Choice(f"share:{share.id}", Text("raw", {"text": share.vin})) for share in free),
                Choice("screen", Text("auction.back_to_room")),
            ),
        )
    if state == MAXIMUM:
        return Reply(lines=(Text("auction.ask_maximum"),))
    return _room(turn, signup)


def _room(turn: Turn, signup: Signup) -> Reply:
    lots = room_lots(turn.uow, signup)
    current = current_lot(turn, signup, lots)
    if current is None:
        return Reply(lines=(Text("auction.no_lots"),), choices=(Choice("menu", Text("menu.back")),))
    lot = room_lot(turn.uow, signup, current.lot_id) or current
    language = turn.language
    lines = [
        Text(
            "auction.room_lot",
            {
                "n": lot.position,
                "of": len(lots),
                "plate": lot.plate_in(language),
                "bidder": signup.bidder_number or "",
            },
        )
    ]
    if lot.price_fen is None:
        lines.append(Text("auction.room_start", {"price": format_yuan(lot.starting_price_fen)}))
    else:
        lines.append(
            Text(
                "auction.room_price",
                {"price": format_yuan(lot.price_fen), "leader": lot.leader or "-"},
            )
        )
    if lot.leading:
        lines.append(Text("auction.room_leading"))
    elif lot.my_bid_fen is not None:
        lines.append(Text("auction.room_mine", {"mine": format_yuan(lot.my_bid_fen)}))
    open_now = lot.is_open(turn.now)
    biddable = lot.state.value == "open" and turn.now >= as_utc(lot.opens_at)
    if lot.state.value != "open":
        lines.append(Text("auction.room_closed_lot", {"state_key": state_key(lot, turn.now)}))
    elif turn.now < as_utc(lot.opens_at):
        lines.append(Text("auction.room_opens", {"time": clock_time(lot.opens_at)}))
    else:
        lines.append(
            Text(
                "auction.room_deadline",
                {"time": clock_time(lot.deadline), "seconds": lot.seconds_left(turn.now)},
            )
        )
    if lot.recent:
        recent = "; ".join(
            f"{bid.bidder} {format_yuan(bid.amount_fen)} {clock_time(bid.at)}" for bid in lot.recent
        )
        lines.append(Text("auction.room_recent", {"bids": recent}))
    choices: list[Choice] = []
    if biddable and lot.price_fen is None:  # the first bid may be the starting price itself
        lines.append(Text("auction.room_ask_first"))
        price = format_yuan(lot.starting_price_fen)
        choices.append(Choice(START_CHOICE, Text("room.start_bid", {"amount": price})))
    elif biddable:
        lines.append(Text("auction.room_ask"))
    if biddable:  # also when leading or late: the refusal says why
        choices += [
            Choice(f"bid:{step}", Text("auction.raise", {"amount": format_yuan(step)}))
            for step in lot.increments_fen
        ]
    else:
        lines.append(Text("auction.room_wait"))
    if len(lots) > 1:
        choices.append(Choice("lots", Text("auction.lots")))
    if open_now:
        choices.append(Choice("max", Text("auction.max")))
    choices.append(Choice("refresh", Text("auction.refresh")))
    choices.append(Choice("menu", Text("menu.back")))
    return Reply(lines=tuple(lines), choices=tuple(choices))
