"""Plate auctions (SPEC §7, manual 003 §5 "网上竞买"): the periods (the one under way, auction
notices of those to come, results of past ones), signing up with a deposit, signup history,
and the auction room (``dialogs/flows/auction_room.py``).

Signup: shares n, n distinct VINs (format and check digit; a VIN in another live signup is
refused at once), a summary to confirm, then the deposit order with its pay link. Paid, the
bidder number and verification code come by SMS (and in the Telegram chat); the pay screen and
"signup history" show them too.
"""

from __future__ import annotations

import enum
from typing import Any

from transitions import EventData

from core.auction_errors import (
    BidderUnknown,
    DepositChanged,
    DuplicateVin,
    InvalidShares,
    VinInAnotherSignup,
)
from core.auction_signup import running_signups, sign_up_with_deposit
from core.auctions import MAX_SHARES, list_periods
from core.clock import format_local
from core.registry import validate_vin
from dialogs.flow import BaseFlow, Event, Turn, turn_of
from dialogs.flows import auction_room, auction_room_screens
from dialogs.flows import auction_screens as screens
from dialogs.flows.auction_commands import parse_command
from dialogs.keywords import is_number
from dialogs.replies import Inbound, Reply


class State(enum.Enum):
    HOME = enum.auto()
    PERIOD = enum.auto()
    RESULTS = enum.auto()
    RESULT = enum.auto()
    SHARES = enum.auto()
    VINS = enum.auto()
    CONFIRM = enum.auto()
    PAY = enum.auto()
    HISTORY = enum.auto()
    BIDDER = enum.auto()
    CODE = enum.auto()
    ROOM = enum.auto()
    LOTS = enum.auto()
    VIN = enum.auto()
    MAXIMUM = enum.auto()
    COMMAND = enum.auto()


S = State
ROOM_STATES = (S.ROOM, S.LOTS, S.VIN, S.MAXIMUM, S.COMMAND)
_TYPED_BIDS = (S.ROOM, S.COMMAND)  # where a bare bid typed comes before the options' words


class AuctionFlow(BaseFlow):
    """Periods and results → signup → deposit → bidder number → room → bids."""

    name = "auction"
    State = State
    help_key = "help.auction"
    checkpoints = frozenset({"PAY"})

    def transitions(self) -> list[dict[str, Any]]:
        anywhere = list(S)
        return [
            {"trigger": "period", "source": [S.HOME], "dest": S.PERIOD, "before": self.take_period},
            {
                "trigger": "results",
                "source": [S.HOME, S.RESULT],
                "dest": S.RESULTS,
                "before": self.first_page,
            },
            {
                "trigger": "result",
                "source": S.RESULTS,
                "dest": S.RESULT,
                "before": self.take_result,
            },
            {
                "trigger": "more",
                "source": [S.RESULTS, S.RESULT],
                "dest": None,
                "before": self.next_page,
            },
            {"trigger": "history", "source": [S.HOME, S.PAY], "dest": S.HISTORY},
            {
                "trigger": "signup",
                "source": S.PERIOD,
                "dest": S.SHARES,
                "conditions": self.may_sign_up,
            },
            {"trigger": "shares", "source": S.SHARES, "dest": S.VINS, "before": self.take_shares},
            {
                "trigger": "vins",
                "source": S.VINS,
                "dest": S.CONFIRM,
                "before": self.take_vins,
                "conditions": self.vins_complete,
            },
            {"trigger": "vins", "source": S.VINS, "dest": None, "before": self.take_vins},
            {"trigger": "again", "source": S.CONFIRM, "dest": S.VINS, "before": self.forget_vins},
            {"trigger": "confirm", "source": S.CONFIRM, "dest": S.PAY, "before": self.sign_up},
            {"trigger": "check", "source": S.PAY, "dest": None},
            {
                "trigger": "room",
                "source": [S.HOME, S.PAY, S.HISTORY],
                "dest": S.BIDDER,
                "conditions": [self.auction_under_way, self.signed_in],
            },
            {"trigger": "bidder", "source": S.BIDDER, "dest": S.CODE, "before": self.take_bidder},
            {
                "trigger": "bidder_code",
                "source": S.BIDDER,
                "dest": S.ROOM,
                "before": self.take_bidder_and_code,
            },
            {"trigger": "code", "source": S.CODE, "dest": S.ROOM, "conditions": self.enter_room},
            # the number is unknown or not this account's: both are asked for again
            {"trigger": "code", "source": S.CODE, "dest": S.BIDDER},
            {"trigger": "home", "source": anywhere, "dest": S.HOME},
            {"trigger": "menu", "source": anywhere, "dest": None, "before": self.to_menu},
            {"trigger": "practice", "source": S.HOME, "dest": None, "before": self.to_practice},
            *auction_room.transitions(),
        ]

    def entry(self, turn: Turn) -> enum.Enum:
        return S.HOME

    # -- reading what is typed --------------------------------------------------------------

    def read(self, turn: Turn, inbound: Inbound) -> Event | None:
        text = inbound.text.strip()
        state = turn.state
        if state in ROOM_STATES:
            return auction_room.read(turn, text)
        if state is S.SHARES and is_number(text) and len(text) <= 3:
            return Event("shares", {"arg": text})
        if state is S.VINS:
            return Event("vins", {"vins": self.check_vins(turn, text)})
        if state is S.BIDDER:
            words = text.split()
            if not words or not is_number(words[0]) or len(words) > 2:
                raise BidderUnknown()
            if len(words) == 2:
                return Event("bidder_code", {"bidder": words[0], "text": words[1]})
            return Event("bidder", {"bidder": words[0]})
        if state is S.CODE:
            return Event("code", {"text": text})
        return None

    def shortcut(self, turn: Turn, inbound: Inbound) -> Event | None:
        """A room command typed anywhere by a signed-in bidder with exactly one active signup of
        an auction under way: answered as in the room (``COMMAND``). A bare ``B`` (the starting
        price) only in the room: elsewhere a lone letter is an answer (粤B, an office)."""
        if turn.conversation.flow == self.name or turn.conversation.account_id is None:
            return None
        command = parse_command(inbound.text)
        if command is None or (command.verb == "bid" and command.yuan is None):
            return None
        running = running_signups(turn.uow, turn.conversation.account_id, turn.now)
        if len(running) != 1:
            return None
        auction_room.remember(turn, running[0], with_lot=command.verb in ("bid", "max"))
        return Event("command", {"text": inbound.text})

    shortcut_state = "COMMAND"

    def typed_command(self, turn: Turn, text: str) -> Event | None:
        """In the room, a bid typed comes before the options' words (``出价`` is not "自动出价")."""
        # where "自动出价" is an option: the room and its commands' answers
        return auction_room.typed_command(turn, text) if turn.state in _TYPED_BIDS else None

    # -- callbacks ------------------------------------------------------------------------------

    def to_menu(self, event: EventData) -> None:
        turn_of(event).go("menu")

    def to_practice(self, event: EventData) -> None:
        """The practice auction (its own flow): nothing of it is saved."""
        turn_of(event).go("practice_auction")

    def take_period(self, event: EventData) -> None:
        turn_of(event).data["period"] = int(str(event.kwargs["arg"]))

    def first_page(self, event: EventData) -> None:
        turn_of(event).data["page"] = 0

    def next_page(self, event: EventData) -> None:
        data = turn_of(event).data
        data["page"] = int(data.get("page", 0)) + 1

    def take_result(self, event: EventData) -> None:
        data = turn_of(event).data
        data["result"], data["page"] = int(str(event.kwargs["arg"])), 0

    def may_sign_up(self, event: EventData) -> bool:
        """Inside the signup window, with an account (a newcomer registers first)."""
        turn = turn_of(event)
        period = screens.period_of(turn)
        if period is None or not period.signup_open(turn.now):
            turn.note(
                "error.auction.signup_closed",
                opens=format_local(period.signup_opens) if period else "-",
                closes=format_local(min(period.signup_closes, period.starts_at)) if period else "-",
            )
            return False
        if not turn.registered:
            turn.note("account.required_first")
            turn.conversation.returns.append("auction")
            turn.go("register")
            return False
        account_id = turn.conversation.account_id
        known = account_id is not None and period.id is not None
        if known and turn.uow.auctions.signup_of(account_id or 0, period.id or 0) is not None:
            turn.note("error.auction.already_signed_up")  # told now, not after the VINs
            return False
        return True

    def take_shares(self, event: EventData) -> None:
        turn = turn_of(event)
        shares = int(str(event.kwargs["arg"]))
        if not 1 <= shares <= MAX_SHARES:
            raise InvalidShares(most=MAX_SHARES)
        turn.data["shares"], turn.data["vins"] = shares, []

    def check_vins(self, turn: Turn, text: str) -> list[str]:
        """The VINs given so far and those in ``text`` (one, or several with spaces between),
        each checked at once: format and check digit, not twice, in no other live signup."""
        vins: list[str] = list(turn.data.get("vins", []))
        for word in text.split():
            if len(vins) >= int(turn.data.get("shares", 1)):
                break
            vin = validate_vin(word)
            if vin in vins:
                raise DuplicateVin(vin=vin)
            if turn.uow.auctions.live_vins([vin]):
                raise VinInAnotherSignup(vin=vin)
            vins.append(vin)
        return vins

    def vins_complete(self, event: EventData) -> bool:
        return len(event.kwargs["vins"]) >= int(turn_of(event).data.get("shares", 1))

    def take_vins(self, event: EventData) -> None:
        turn = turn_of(event)
        turn.data["vins"] = list(event.kwargs["vins"])
        period = screens.period_of(turn)  # the deposit the summary shows, and the user confirms
        turn.data["deposit"] = period.deposit_fen if period is not None else 0

    def forget_vins(self, event: EventData) -> None:
        turn_of(event).data["vins"] = []

    def sign_up(self, event: EventData) -> None:
        turn = turn_of(event)
        account_id = turn.conversation.account_id
        if account_id is None:  # pragma: no cover - signup is entered with an account
            raise RuntimeError("a signup needs an account")
        try:
            signup, order = sign_up_with_deposit(
                turn.uow,
                clock=turn.services.clock,
                account_id=account_id,
                period_id=int(turn.data["period"]),
                vins=list(turn.data["vins"]),
                minutes=turn.services.order_minutes,
                deposit_fen=turn.data.get("deposit"),
            )
        except DepositChanged as changed:  # the summary shows the new total to confirm
            turn.data["deposit"] = changed.params["deposit"]
            raise
        turn.data["signup"], turn.data["order"] = signup.id, order.id

    def signed_in(self, event: EventData) -> bool:
        """The room opens only to the account that signed up: a chat signs in first."""
        turn = turn_of(event)
        if turn.registered:
            return True
        turn.note("account.required_first")
        turn.conversation.returns.append("auction")
        turn.go("register")
        return False

    def auction_under_way(self, event: EventData) -> bool:
        turn = turn_of(event)
        if list_periods(turn.uow, now=turn.now).current:
            return True
        turn.note("auction.no_auction_now")
        return False

    def take_bidder(self, event: EventData) -> None:
        turn_of(event).data["bidder"] = str(event.kwargs["bidder"])

    def take_bidder_and_code(self, event: EventData) -> None:
        """The bidder number and the code in one message."""
        turn = turn_of(event)
        turn.data["bidder"] = str(event.kwargs["bidder"])
        auction_room.enter(turn, str(event.kwargs["text"]))

    def enter_room(self, event: EventData) -> bool:
        """The code typed after the bidder number: in the room, or refused (a wrong code of
        one's own is asked for again, the refusal of any other number goes back to it)."""
        turn = turn_of(event)
        try:
            auction_room.enter(turn, str(event.kwargs["text"]))
        except BidderUnknown as error:
            turn.note(f"error.{error.code}")
            return False
        return True

    # -- screens --------------------------------------------------------------------------------

    def prompt(self, turn: Turn) -> Reply:
        state = turn.state
        if state in ROOM_STATES:
            return auction_room_screens.prompt(turn)
        shown = {
            S.HOME: screens.home,
            S.PERIOD: screens.period_notice,
            S.RESULTS: screens.results,
            S.RESULT: screens.result,
            S.SHARES: screens.shares,
            S.VINS: screens.vins,
            S.CONFIRM: screens.confirm,
            S.PAY: screens.pay,
            S.HISTORY: screens.history,
            S.BIDDER: screens.bidder,
            S.CODE: screens.code,
        }
        return shown[state](turn)  # type: ignore[index]
