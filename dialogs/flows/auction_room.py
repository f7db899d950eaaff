"""The auction room of the auction flow (SPEC §7): entered with bidder number + code; one screen
per lot (lot, current price, the leader's masked bidder number, my bid, the deadline as a China
clock time and the seconds left, the recent bids) with one choice per allowed increment (ids
``bid:<increment in fen>``: the live room message on Telegram carries buttons with the same
ids) and, while the lot has no bid, one to bid its starting price (``bid:start``, as a bare
``B`` / ``出价``: refused once someone has bid), the lots, automatic bidding; and the short
commands of ``auction_commands`` answered in a line or two (``COMMAND``), also typed from
anywhere by a signed-in bidder (``shortcut``). A bid typed is the bid command before it is any
part of an option's words (``typed_command``: ``出价`` is not "自动出价"). A closed lot's screen
shows its result and what to do next: the other lots, the period's results once it has closed.

A bid names one of the bidder's free VINs, asked only when more than one is free. Every refusal
says why and what to do next; the bidder's own bid is confirmed in the reply."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from transitions import EventData

from core.auction_errors import BidderUnknown, NoFreeVin
from core.auction_room import BID_CHOICE, START_CHOICE
from core.auction_signup import running_signups
from core.auctions import Signup, SignupState, enter_room, list_periods, stored_id
from core.bid_desk import BidDesk, InTurn
from core.clock import OFFICE_TZ, as_utc
from core.errors import DomainError
from core.room_view import RoomLot, RoomSeat, room_lot, room_lots, room_seat
from dialogs.flow import Event, Turn, turn_of
from dialogs.flows.auction_commands import MAX_DIGITS, Command, fen, parse_command
from dialogs.keywords import END_MARKS, is_number
from dialogs.money import format_yuan
from dialogs.replies import Text

if TYPE_CHECKING:
    from datetime import datetime

ROOM, LOTS, VIN, MAXIMUM, COMMAND = "ROOM", "LOTS", "VIN", "MAXIMUM", "COMMAND"
START = START_CHOICE.removeprefix(BID_CHOICE)  # the arg of the choice that bids the starting price


def _states() -> Any:
    from dialogs.flows.auction import State  # noqa: PLC0415 - that module imports this one

    return State


def transitions() -> list[dict[str, Any]]:
    S = _states()  # noqa: N806 - the states, named as in the flow
    room = [S.ROOM, S.COMMAND]
    return [
        {
            "trigger": "bid",
            "source": room,
            "dest": S.VIN,
            "conditions": _needs_vin,
            "before": _remember,
        },
        {"trigger": "bid", "source": room, "dest": S.ROOM, "before": _bid},
        {
            "trigger": "command",
            "source": [S.ROOM, S.COMMAND, S.LOTS, S.MAXIMUM, S.VIN],
            "dest": S.VIN,
            "conditions": _needs_vin,
            "before": _remember,
        },
        {
            "trigger": "command",
            "source": [S.ROOM, S.COMMAND, S.LOTS, S.MAXIMUM, S.VIN],
            "dest": S.COMMAND,
            "before": _command,
        },
        {
            "trigger": "share",
            "source": S.VIN,
            "dest": S.COMMAND,
            "conditions": _compact,
            "before": _with_share,
        },
        {"trigger": "share", "source": S.VIN, "dest": S.ROOM, "before": _with_share},
        {"trigger": "lots", "source": [S.ROOM, S.COMMAND], "dest": S.LOTS},
        {"trigger": "lot", "source": S.LOTS, "dest": S.ROOM, "before": _take_lot},
        {"trigger": "max", "source": S.ROOM, "dest": S.MAXIMUM},
        {
            "trigger": "maximum",
            "source": S.MAXIMUM,
            "dest": S.VIN,
            "conditions": _needs_vin,
            "before": _remember,
        },
        # refused, the maximum is asked again
        {"trigger": "maximum", "source": S.MAXIMUM, "dest": S.ROOM, "conditions": _maximum},
        {"trigger": "cancelmax", "source": S.ROOM, "dest": None, "before": _cancel_maximum},
        {"trigger": "refresh", "source": S.ROOM, "dest": None},
        # a closed lot's room, once the period has closed: its results
        {"trigger": "results", "source": S.ROOM, "dest": S.RESULT, "before": _period_results},
        {"trigger": "screen", "source": [S.COMMAND, S.LOTS, S.VIN, S.MAXIMUM], "dest": S.ROOM},
    ]


def typed_command(turn: Turn, text: str) -> Event | None:
    """A bid typed in the room (``B``, ``出价``, ``B 1000``, also ``出价。``) is the bid command
    before it is any part of an option's words: a bare ``出价`` bids the starting price of a lot
    with no bid and is refused on a lot with a price (with the price and the raises), never
    taken for the option "自动出价" (automatic bidding, which is chosen by its own words)."""
    word = text.strip().strip(END_MARKS)
    command = parse_command(word)
    if command is None or command.verb != "bid" or command.yuan is not None:
        return None  # ``B 1000`` may be the words of a lot (``Yue B 01000``): options first
    return Event("command", {"text": word})


def read(turn: Turn, text: str) -> Event | None:
    """A short command anywhere in the room; an amount (yuan) when a maximum is asked."""
    if turn.state.name == MAXIMUM:
        digits = text.replace(",", "").replace("¥", "").strip()
        if is_number(digits) and len(digits) <= MAX_DIGITS:
            return Event("maximum", {"yuan": int(digits)})
    if parse_command(text) is not None:
        return Event("command", {"text": text})
    return None


# -- entering -----------------------------------------------------------------------------------


def enter(turn: Turn, code: str) -> None:
    """Bidder number (``data["bidder"]``) + code open the room of the auction under way to the
    account that signed up; another's number is refused as an unknown one."""
    bidder = str(turn.data.get("bidder", ""))
    account_id = turn.conversation.account_id
    periods = list_periods(turn.uow, now=turn.now).current
    for period in periods:
        found = turn.uow.auctions.signup_by_bidder(stored_id(period.id), bidder)
        if found is None or found.account_id != account_id:
            continue
        signup = enter_room(
            turn.uow,
            key=turn.services.code_key,
            period_id=stored_id(period.id),
            bidder_number=bidder,
            code=code,
            account_id=account_id,
        )
        turn.data["signup"] = signup.id
        turn.data.pop("lot", None)
        return
    raise BidderUnknown()  # unknown, or not this account's: the same answer (no period tells)


_SEEN: WeakKeyDictionary[Turn, Signup] = WeakKeyDictionary()
# The current lot, read with the signup in the same statement: used by the turn's first look at
# it (``current_lot``), read again after that.
_LOT_SEEN: WeakKeyDictionary[Turn, tuple[int | None, RoomLot]] = WeakKeyDictionary()
# The VIN of a signup with one share, read with the signup: the one a bid names.
_ONE_VIN: WeakKeyDictionary[Turn, int] = WeakKeyDictionary()


def signup_of(turn: Turn) -> Signup | None:
    """The signup this room acts for: the one entered with its code, or a signed-in bidder's
    only active signup of an auction under way (read once a turn, with the current lot)."""
    seen = _SEEN.get(turn)
    if seen is not None:
        turn.data["signup"] = seen.id
        return seen
    signup = _find_signup(turn)
    if signup is not None:
        _SEEN[turn] = signup
    return signup


def remember(turn: Turn, signup: Signup, *, with_lot: bool = False) -> None:
    """The signup this turn acts for, found already (by ``shortcut``); ``with_lot``: read the
    lot it will act on (the first open one) and its VIN now, in one statement (a bid)."""
    _SEEN[turn] = signup
    if with_lot:
        seat = room_seat(turn.uow, stored_id(signup.id), None)
        if seat is not None:
            _seen_with(turn, seat, None)


def _seen_with(turn: Turn, seat: RoomSeat, chosen: int | None) -> None:
    """What was read with the signup, for the rest of the turn."""
    if seat.lot is not None:
        _LOT_SEEN[turn] = (chosen, seat.lot)
    if seat.signup.shares == 1 and seat.first_share_id is not None:
        _ONE_VIN[turn] = seat.first_share_id


def _find_signup(turn: Turn) -> Signup | None:
    signup_id = turn.data.get("signup")
    if signup_id is not None:
        chosen = turn.data.get("lot")
        chosen = None if chosen is None else int(chosen)
        seat = room_seat(turn.uow, int(signup_id), chosen)
        if seat is None or seat.signup.state is not SignupState.ACTIVE:
            return None
        _seen_with(turn, seat, chosen)
        return seat.signup
    account_id = turn.conversation.account_id
    if account_id is None:
        return None
    running = running_signups(turn.uow, account_id, turn.now)
    if len(running) != 1:
        return None
    turn.data["signup"] = running[0].id
    return running[0]


def current_lot(turn: Turn, signup: Signup, lots: list[RoomLot] | None = None) -> RoomLot | None:
    """The lot the bidder looks at: the one chosen, else the first open one, else the first."""
    if lots is None:
        return _read_current_lot(turn, signup)
    if not lots:
        return None
    chosen_id = turn.data.get("lot")
    for lot in lots:
        if lot.lot_id == chosen_id:
            return lot
    lot = next((lot for lot in lots if lot.state.value == "open"), lots[0])
    turn.data["lot"] = lot.lot_id
    return lot


def _read_current_lot(turn: Turn, signup: Signup) -> RoomLot | None:
    """``current_lot`` read alone (or as read with the signup this turn)."""
    chosen_id = turn.data.get("lot")
    seen = _LOT_SEEN.pop(turn, None)
    found: RoomLot | None = None
    if seen is not None and seen[0] == chosen_id:  # read for the lot asked for now
        found = seen[1]
    elif chosen_id is not None:
        found = room_lot(turn.uow, signup, int(chosen_id), detail=False)
    if found is not None and chosen_id is not None:
        return found
    if found is None:
        first = room_seat(turn.uow, stored_id(signup.id), None)
        found = None if first is None else first.lot
    if found is not None:
        turn.data["lot"] = found.lot_id
    return found


class NotInRoom(DomainError):
    code = "auction.not_in_room"


def _need(turn: Turn) -> tuple[Signup, RoomLot]:
    signup = signup_of(turn)
    if signup is None:
        raise NotInRoom()
    lot = current_lot(turn, signup)
    if lot is None:
        raise NotInRoom()
    return signup, lot


# -- callbacks ------------------------------------------------------------------------------


def _action(event: EventData) -> dict[str, Any]:
    """What the user asked for: a bid of an increment or at the starting price (``start``), a
    command, or a maximum."""
    kwargs = event.kwargs
    if "arg" in kwargs:
        arg = str(kwargs["arg"])
        if arg == START:
            return {"verb": "bid", "fen": 0, "start": True, "compact": False}
        return {"verb": "bid", "fen": int(arg), "compact": False}
    if "yuan" in kwargs:
        return {"verb": "max", "fen": fen(int(kwargs["yuan"])), "compact": False}
    command = parse_command(str(kwargs.get("text", ""))) or Command("status")
    return {
        "verb": command.verb,
        "fen": fen(command.yuan or 0),
        "n": command.yuan,
        "start": command.verb == "bid" and command.yuan is None,  # a bare B
        "compact": True,
    }


def _needs_vin(event: EventData) -> bool:
    """A bid or a maximum, and more than one of the bidder's VINs free."""
    turn = turn_of(event)
    turn.data.pop("free_share", None)  # a bid's VIN is this turn's to find
    action = _action(event)
    if action["verb"] not in ("bid", "max") or (action["verb"] == "max" and not action["fen"]):
        return False
    signup = signup_of(turn)
    if signup is None:
        return False
    if signup.shares == 1:
        one = _ONE_VIN.get(turn)
        if action["verb"] == "bid" and one is not None:
            turn.data["free_share"] = one  # its one VIN, read with the signup: not read again
        return False
    free = turn.uow.auctions.free_shares(stored_id(signup.id))
    if len(free) == 1:  # the one that bids: not read again
        turn.data["free_share"] = free[0].id
    if len(free) > 1 and action["verb"] == "bid":
        # refused before the VIN: a raise that is not allowed, the starting price once the lot
        # has a price (both decided again under the lot's lock, and kept in its trail)
        lot = current_lot(turn, signup)
        if lot is not None and not lot.is_open(turn.now):  # refused as closed (or not open yet)
            return False
        if lot is not None and action.get("start") and lot.price_fen is not None:
            return False
        if lot is not None and not action.get("start") and action["fen"] not in lot.increments_fen:
            return False
    return len(free) > 1


def _remember(event: EventData) -> None:
    turn = turn_of(event)
    turn.data["pending"] = _action(event)
    _need(turn)


def _compact(event: EventData) -> bool:
    return bool(turn_of(event).data.get("pending", {}).get("compact"))


def _with_share(event: EventData) -> None:
    turn = turn_of(event)
    pending = turn.data.pop("pending", None)
    if not pending:
        return
    share_id = int(str(event.kwargs["arg"]))
    if pending["verb"] == "bid":
        start = bool(pending.get("start"))
        _place(turn, pending["fen"], share_id, compact=bool(pending["compact"]), at_start=start)
    else:
        _set_maximum(turn, pending["fen"], share_id, compact=bool(pending["compact"]))


def _bid(event: EventData) -> None:
    action = _action(event)
    _place(turn_of(event), action["fen"], None, compact=False, at_start=bool(action.get("start")))


def _command(event: EventData) -> None:
    turn = turn_of(event)
    action = _action(event)
    verb = action["verb"]
    if verb == "bid":
        _place(turn, action["fen"], None, compact=True, at_start=bool(action["start"]))
    elif verb == "max":
        if action["fen"]:
            _set_maximum(turn, action["fen"], None, compact=True)
        else:
            _cancel(turn)
    elif verb == "lots":
        _lots(turn, action.get("n"))
    else:
        _status(turn)


def _take_lot(event: EventData) -> None:
    turn_of(event).data["lot"] = int(str(event.kwargs["arg"]))


def _period_results(event: EventData) -> None:
    turn = turn_of(event)
    signup, _ = _need(turn)
    turn.data["result"], turn.data["page"] = signup.period_id, 0


def _maximum(event: EventData) -> bool:
    return _set_maximum(turn_of(event), fen(int(event.kwargs["yuan"])), None, compact=False)


def _cancel_maximum(event: EventData) -> None:
    _cancel(turn_of(event))


# -- use cases, with what the bidder is told ---------------------------------------------------


def _free_share(turn: Turn, signup: Signup, share_id: int | None) -> int:
    found = turn.data.pop("free_share", None)
    if share_id is not None:
        return share_id
    if found is not None:
        return int(found)
    free = turn.uow.auctions.free_shares(stored_id(signup.id))
    if not free:
        raise NoFreeVin()
    return stored_id(free[0].id)


def _place(
    turn: Turn, increment: int, share_id: int | None, *, compact: bool, at_start: bool = False
) -> None:
    """A raise of ``increment``, or (``at_start``) the starting price as the lot's first bid:
    whether it still is the first is decided under the lot's lock, not by the screen."""
    signup, lot = _need(turn)
    language = turn.language
    if share_id is None and lot.leading:  # the leading VIN: refused as the leader's own raise
        stored = turn.uow.auctions.lot(lot.lot_id)  # read again: outbid meanwhile?
        if stored is not None and stored.leader_signup_id == signup.id:
            share_id = stored.leader_share_id
    if share_id is None:
        share_id = turn.data.pop("free_share", None)
    if share_id is None and signup.shares == 1:  # its one VIN: the bid says if it is locked
        share_id = stored_id(turn.uow.auctions.shares(stored_id(signup.id))[0].id)
    try:
        result = _bids(turn).place_bid(
            signup_id=stored_id(signup.id),
            lot_id=lot.lot_id,
            share_id=share_id,
            increment_fen=None if at_start else increment,
            at_start=at_start,
        )
    except DomainError as error:
        turn.notes.append(refusal(turn, error, lot))
        return
    params: dict[str, str | int] = {
        "plate": lot.plate_in(language),
        "amount": format_yuan(result.amount_fen),
        "price": format_yuan(result.price_fen),
        "time": clock_time(result.deadline),
        "seconds": max(0, int((result.deadline - turn.now).total_seconds())),
    }
    turn.note("auction.bid_ok" if result.leading else "auction.bid_outbid_at_once", **params)


def _bids(turn: Turn) -> BidDesk | InTurn:
    """Where the turn's bids and maxima are decided: the process's bid desk, in a transaction of
    their own beside the turn's, decided with the other bids on the lot (PostgreSQL); else in
    the turn's own transaction (SQLite: one writer at a time)."""
    return turn.services.bids or InTurn(turn.uow, turn.services.clock)


def _set_maximum(turn: Turn, max_fen: int, share_id: int | None, *, compact: bool) -> bool:
    """Automatic bidding up to ``max_fen``; whether it was set (else the refusal is noted)."""
    signup, lot = _need(turn)
    try:
        change = _bids(turn).set_maximum(
            signup_id=stored_id(signup.id),
            lot_id=lot.lot_id,
            share_id=_free_share(turn, signup, share_id),
            max_fen=max_fen,
        )
    except DomainError as error:
        turn.notes.append(refusal(turn, error, lot))
        return False
    turn.note(
        "auction.max_ok",
        plate=lot.plate_in(turn.language),
        max=format_yuan(max_fen),
        price=format_yuan(change.price_fen or 0),
        state_key="auction.leading" if change.leader_signup_id == signup.id else "auction.behind",
    )
    return True


def _cancel(turn: Turn) -> None:
    signup, lot = _need(turn)
    try:
        _bids(turn).cancel_maximum(signup_id=stored_id(signup.id), lot_id=lot.lot_id)
    except DomainError as error:
        turn.notes.append(refusal(turn, error, lot))
        return
    turn.note("auction.max_cancelled", plate=lot.plate_in(turn.language))


def _lots(turn: Turn, position: int | None) -> None:
    signup = signup_of(turn)
    if signup is None:
        raise NotInRoom()
    lots = room_lots(turn.uow, signup)
    if position is not None:
        chosen = next((lot for lot in lots if lot.position == position), None)
        if chosen is None:
            turn.note("auction.no_such_lot", n=position)
            return
        turn.data["lot"] = chosen.lot_id
        turn.notes.append(lot_line(turn, chosen, "auction.lot_chosen"))
        return
    for lot in lots:
        turn.notes.append(lot_line(turn, lot, "auction.lot_status"))
    turn.note("auction.lots_hint")


def _status(turn: Turn) -> None:
    signup = signup_of(turn)
    if signup is None:
        raise NotInRoom()
    mine = [lot for lot in room_lots(turn.uow, signup, detail=True) if lot.my_bid_fen is not None]
    if not mine:
        current = current_lot(turn, signup)
        if current is not None:
            turn.notes.append(lot_line(turn, current, "auction.lot_status"))
        turn.note("auction.status_none")
        return
    for lot in mine:
        turn.note(
            "auction.status_line",
            n=lot.position,
            plate=lot.plate_in(turn.language),
            mine=format_yuan(lot.my_bid_fen or 0),
            price=format_yuan(lot.price_fen or lot.starting_price_fen),
            state_key=state_key(lot, turn.now),
            time=clock_time(lot.deadline),
        )


def state_key(lot: RoomLot, now: datetime) -> str:
    if lot.state.value == "sold":
        return "auction.won" if lot.leading else "auction.lost"
    if lot.state.value == "unsold":
        return "auction.unsold"
    return "auction.leading" if lot.leading else "auction.behind"


def lot_line(turn: Turn, lot: RoomLot, key: str) -> Text:
    """A lot in one line (a choice's label too): its plate as Chinese writes it, which English
    shows as ``Yue D 88888`` when rendered (``dialogs.catalog``), so a bidder may pick the lot
    by typing either form."""
    price = lot.price_fen if lot.price_fen is not None else lot.starting_price_fen
    return Text(
        key,
        {
            "n": lot.position,
            "plate": lot.plate,
            "price": format_yuan(price),
            "time": clock_time(lot.deadline),
            "seconds": lot.seconds_left(turn.now),
        },
    )


def clock_time(when: datetime) -> str:
    """China clock time to the second: the deadline a bidder reads."""
    return as_utc(when).astimezone(OFFICE_TZ).strftime("%H:%M:%S")


def refusal(turn: Turn, error: DomainError, lot: RoomLot) -> Text:
    """A refused bid in words, amounts in yuan, with what to do next."""
    params: dict[str, str | int] = {}
    for name, value in error.params.items():
        if name in ("minimum", "price"):
            params[name] = format_yuan(int(value))
        elif name == "increments":
            params[name] = " ".join(format_yuan(int(v)) for v in str(value).split(",") if v)
        elif name == "opens":
            params[name] = clock_time(datetime_of(str(value)))
        elif name == "lot":
            params[name] = _lot_name(turn, int(value))
        else:
            params[name] = value
    return Text(f"error.{error.code}", params)


def datetime_of(text: str) -> datetime:
    from datetime import datetime as dt  # noqa: PLC0415

    return dt.fromisoformat(text)


def _lot_name(turn: Turn, lot_id: int) -> str:
    signup = signup_of(turn)
    if signup is None or lot_id == 0:
        return "-"
    for lot in room_lots(turn.uow, signup):
        if lot.lot_id == lot_id:
            return f"{lot.position} {lot.plate_in(turn.language)}"
    return "-"
