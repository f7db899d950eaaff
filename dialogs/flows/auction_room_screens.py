"""The auction room's screens (``dialogs/flows/auction_room.py``): the lot with its price,
leader, my bid, deadline and recent bids, and one choice per allowed increment
(``bid:<increment in fen>``), first one to bid the starting price while the lot has no bid
(``bid:start``); a closed lot's result and what to do next (won: what to pay by when, with the
pay link); the lots, the VINs to bid with, the maximum asked, and the short commands' answers
alone."""

from __future__ import annotations

from core.auction_room import START_CHOICE
from core.auctions import LotState, PeriodState, Signup, stored_id
from core.clock import as_utc, format_deadline
from core.orders import OrderState
from core.room_view import RoomLot, room_lot, room_lots
from core.settlement import SettlementState
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
)
from dialogs.money import format_yuan
from dialogs.replies import Choice, Link, Reply, Text


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
    if lot.state is not LotState.OPEN:
        return _closed(turn, signup, lot, lines, several=len(lots) > 1)
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
    biddable = turn.now >= as_utc(lot.opens_at)
    if not biddable:
        lines.append(Text("auction.room_opens", {"time": clock_time(lot.opens_at)}))
    else:
        lines.append(
            Text(
                "auction.room_deadline",
                {"time": clock_time(lot.deadline), "seconds": lot.seconds_left(turn.now)},
            )
        )
    lines += _recent(lot)
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
    else:  # not open yet
        lines.append(Text("auction.room_wait"))
    if len(lots) > 1:
        choices.append(Choice("lots", Text("auction.lots")))
    if open_now:
        choices.append(Choice("max", Text("auction.max")))
    choices.append(Choice("refresh", Text("auction.refresh")))
    choices.append(Choice("menu", Text("menu.back")))
    return Reply(lines=tuple(lines), choices=tuple(choices))


def _recent(lot: RoomLot) -> list[Text]:
    if not lot.recent:
        return []
    recent = "; ".join(
        f"{bid.bidder} {format_yuan(bid.amount_fen)} {clock_time(bid.at)}" for bid in lot.recent
    )
    return [Text("auction.room_recent", {"bids": recent})]


def _closed(turn: Turn, signup: Signup, lot: RoomLot, lines: list[Text], *, several: bool) -> Reply:
    """A closed lot's room: its result (sold at what price to which bidder, or unsold; won by
    this bidder: what to pay by when, as the settlement stands) and what to do next: the other
    lots, the period's results once it has closed, the auctions, the menu. Nothing to bid or
    wait for: no raises, no automatic bidding, no refresh. The result of a win stays in a chat
    that edits messages in place (``keep``): the next screen comes as a new message."""
    price = format_yuan(lot.price_fen or 0)
    links: tuple[Link, ...] = ()
    won = lot.state is LotState.SOLD and lot.leading
    if won:
        lines.append(Text("auction.room_won", {"price": price}))
        after, links = _after_winning(turn, lot)
        lines += after
    elif lot.state is LotState.SOLD:
        lines.append(Text("auction.room_sold", {"price": price, "leader": lot.leader or "-"}))
        if lot.my_bid_fen is not None:
            lines.append(Text("auction.room_mine", {"mine": format_yuan(lot.my_bid_fen)}))
    else:
        lines.append(Text("auction.room_unsold"))
    if not won:  # the winner's page keeps what to pay by when, and its link, on one SMS page
        lines += _recent(lot)
    lines.append(Text("auction.room_next"))
    choices = [Choice("lots", Text("auction.lots"))] if several else []
    period = turn.uow.auctions.period(signup.period_id)
    if period is not None and period.state is PeriodState.CLOSED:  # its results are published
        choices.append(Choice("results", Text("auction.results")))
    choices += [Choice("home", Text("auction.home")), Choice("menu", Text("menu.back"))]
    return Reply(lines=tuple(lines), choices=tuple(choices), links=links, keep=won)


def _after_winning(turn: Turn, lot: RoomLot) -> tuple[list[Text], tuple[Link, ...]]:
    """What the winner is to do next, as the settlement's notices say it: pay the balance by its
    deadline (with the pay link), or nothing (the plate is issued), or too late (forfeited)."""
    settlement = turn.uow.settlements.of_lot(lot.lot_id)
    if settlement is None:
        return [], ()
    deposit = format_yuan(settlement.deposit_fen)
    if settlement.state is SettlementState.ISSUED:
        return [Text("auction.room_won_issued", {"vin": settlement.vin})], ()
    if settlement.state is SettlementState.FORFEITED:
        return [Text("auction.room_won_forfeited", {"deposit": deposit})], ()
    order_id = settlement.balance_order_id
    order = None if order_id is None else turn.uow.orders.get(order_id)
    if order is None or order.state is not OrderState.PENDING:
        return [], ()
    due = Text(
        "auction.room_won_due",
        {
            "deposit": deposit,
            "amount": format_yuan(settlement.balance_fen),
            "order": stored_id(order.id),
            "deadline": format_deadline(settlement.due_at),
        },
    )
    payments = turn.services.payments
    links = (
        () if payments is None else (Link(Text("auction.pay_balance"), payments.pay_url(order)),)
    )
    return [due], links
