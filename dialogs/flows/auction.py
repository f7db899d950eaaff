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
    DuplicateVin,
    InvalidShares,
    PeriodUnknown,
    VinInAnotherSignup,
)
from core.auction_results import period_results, published_results
from core.auction_signup import my_signups, running_signups, sign_up_with_deposit
from core.auctions import MAX_SHARES, AuctionPeriod, SignupState, list_periods, room_code
from core.clock import format_local
from core.orders import OrderState
from core.registry import validate_vin
from dialogs.flow import BaseFlow, Event, Turn, turn_of
from dialogs.flows import auction_room
from dialogs.flows.auction_commands import parse_command
from dialogs.keywords import is_number
from dialogs.money import format_yuan
from dialogs.replies import Choice, Inbound, Link, Reply, Text

PAGE = 5


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
MENU_CHOICE = Choice("menu", Text("menu.back"))
HOME_CHOICE = Choice("home", Text("auction.home"))


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
                "conditions": self.auction_under_way,
            },
            {"trigger": "bidder", "source": S.BIDDER, "dest": S.CODE, "before": self.take_bidder},
            {
                "trigger": "bidder_code",
                "source": S.BIDDER,
                "dest": S.ROOM,
                "before": self.take_bidder_and_code,
            },
            {"trigger": "code", "source": S.CODE, "dest": S.ROOM, "before": self.enter_room},
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
        an auction under way: answered as in the room (``COMMAND``)."""
        if turn.conversation.flow == self.name or turn.conversation.account_id is None:
            return None
        command = parse_command(inbound.text)
        if command is None:
            return None
        running = running_signups(turn.uow, turn.conversation.account_id, turn.now)
        if len(running) != 1:
            return None
        auction_room.remember(turn, running[0])
        return Event("command", {"text": inbound.text})

    shortcut_state = "COMMAND"

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
        period = _period(turn)
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
        turn_of(event).data["vins"] = list(event.kwargs["vins"])

    def forget_vins(self, event: EventData) -> None:
        turn_of(event).data["vins"] = []

    def sign_up(self, event: EventData) -> None:
        turn = turn_of(event)
        account_id = turn.conversation.account_id
        if account_id is None:  # pragma: no cover - signup is entered with an account
            raise RuntimeError("a signup needs an account")
        signup, order = sign_up_with_deposit(
            turn.uow,
            clock=turn.services.clock,
            account_id=account_id,
            period_id=int(turn.data["period"]),
            vins=list(turn.data["vins"]),
            minutes=turn.services.order_minutes,
        )
        turn.data["signup"], turn.data["order"] = signup.id, order.id

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

    def enter_room(self, event: EventData) -> None:
        auction_room.enter(turn_of(event), str(event.kwargs["text"]))

    # -- screens --------------------------------------------------------------------------------

    def prompt(self, turn: Turn) -> Reply:
        state = turn.state
        if state in ROOM_STATES:
            return auction_room.prompt(turn)
        screens = {
            S.HOME: _home,
            S.PERIOD: _period_screen,
            S.RESULTS: _results,
            S.RESULT: _result,
            S.SHARES: _shares,
            S.VINS: _vins,
            S.CONFIRM: _confirm,
            S.PAY: _pay,
            S.HISTORY: _history,
            S.BIDDER: _bidder,
            S.CODE: _code,
        }
        return screens[state](turn)  # type: ignore[index]


def _period(turn: Turn) -> AuctionPeriod | None:
    period_id = turn.data.get("period")
    return None if period_id is None else turn.uow.auctions.period(int(period_id))


def _home(turn: Turn) -> Reply:
    listing = list_periods(turn.uow, now=turn.now)
    lines = [Text("auction.title")]
    choices: list[Choice] = []
    for period in listing.current:
        lines.append(Text("auction.current", {"name": period.name}))
        choices.append(
            Choice(f"period:{period.id}", Text("auction.period_choice", {"name": period.name}))
        )
    for period in listing.upcoming:
        lines.append(
            Text(
                "auction.upcoming", {"name": period.name, "starts": format_local(period.starts_at)}
            )
        )
        choices.append(
            Choice(f"period:{period.id}", Text("auction.period_choice", {"name": period.name}))
        )
    if not listing.current and not listing.upcoming:
        lines.append(Text("auction.none"))
    if listing.current:
        choices.append(Choice("room", Text("auction.enter_room")))
    if listing.past:
        choices.append(Choice("results", Text("auction.results")))
    if turn.registered:
        choices.append(Choice("history", Text("auction.history")))
    choices.append(Choice("practice", Text("menu.practice_auction")))
    choices.append(MENU_CHOICE)
    lines.append(Text("auction.pick"))
    return Reply(lines=tuple(lines), choices=tuple(choices))


def _period_screen(turn: Turn) -> Reply:
    period = _period(turn)
    if period is None:
        return Reply(lines=(Text("auction.gone"),), choices=(HOME_CHOICE, MENU_CHOICE))
    closes = min(period.signup_closes, period.starts_at)
    lines = [
        Text(
            "auction.notice",
            {
                "name": period.name,
                "opens": format_local(period.signup_opens),
                "closes": format_local(closes),
                "starts": format_local(period.starts_at),
                "deposit": format_yuan(period.deposit_fen),
                "increments": " ".join(format_yuan(i) for i in period.increments_fen),
                "countdown": period.bid_countdown_s,
            },
        )
    ]
    lots = [lot for lot in turn.uow.auctions.lots(period.id or 0) if lot.state.value != "withdrawn"]
    offices = {office.id: office for office in turn.uow.offices.all()}
    for lot in lots:
        office = offices.get(lot.office_id)
        plate = office.code_in(turn.language) if office else ""
        lines.append(
            Text(
                "auction.lot_line",
                {
                    "n": lot.position,
                    "plate": _plate(plate, lot.serial, turn),
                    "price": format_yuan(lot.starting_price_fen),
                },
            )
        )
    choices = []
    if period.signup_open(turn.now):
        lines.append(Text("auction.signup_open"))
    else:
        lines.append(Text("auction.signup_not_open"))
    if not period.started(turn.now):  # before the window opens, the refusal says when it does
        choices.append(Choice("signup", Text("auction.sign_up")))
    return Reply(lines=tuple(lines), choices=(*choices, HOME_CHOICE, MENU_CHOICE))


def _plate(code: str, serial: str, turn: Turn) -> str:
    return f"{code} {serial}" if turn.language.value == "en" else f"{code}·{serial}"


def _page(turn: Turn, count: int) -> tuple[int, int, bool]:
    pages = max(1, -(-count // PAGE))
    page = int(turn.data.get("page", 0)) % pages
    return page * PAGE, (page + 1) * PAGE, pages > 1


def _results(turn: Turn) -> Reply:
    published = published_results(turn.uow)
    start, end, more = _page(turn, len(published))
    choices = [
        Choice(
            f"result:{r.period_id}",
            Text("auction.result_choice", {"name": r.name, "sold": r.sold, "lots": len(r.lots)}),
        )
        for r in published[start:end]
    ]
    if more:
        choices.append(Choice("more", Text("auction.more")))
    if not published:
        return Reply(lines=(Text("auction.no_results"),), choices=(HOME_CHOICE, MENU_CHOICE))
    return Reply(lines=(Text("auction.pick_result"),), choices=(*choices, HOME_CHOICE, MENU_CHOICE))


def _result(turn: Turn) -> Reply:
    try:
        results = period_results(turn.uow, int(turn.data.get("result", 0)))
    except PeriodUnknown:
        return Reply(lines=(Text("auction.gone"),), choices=(HOME_CHOICE, MENU_CHOICE))
    start, end, more = _page(turn, len(results.lots))
    lines = [
        Text(
            "auction.result_title",
            {"name": results.name, "sold": results.sold, "lots": len(results.lots)},
        )
    ]
    for lot in results.lots[start:end]:
        plate = lot.plate_en if turn.language.value == "en" else lot.plate
        if lot.sold:
            lines.append(
                Text(
                    "auction.result_sold",
                    {
                        "n": lot.position,
                        "plate": plate,
                        "price": format_yuan(lot.price_fen or 0),
                        "bidder": lot.winner or "-",
                    },
                )
            )
        else:
            lines.append(Text("auction.result_unsold", {"n": lot.position, "plate": plate}))
    choices = [Choice("more", Text("auction.more"))] if more else []
    return Reply(
        lines=tuple(lines),
        choices=(*choices, Choice("results", Text("auction.results")), MENU_CHOICE),
    )


def _shares(turn: Turn) -> Reply:
    period = _period(turn)
    deposit = format_yuan(period.deposit_fen) if period else "-"
    return Reply(
        lines=(Text("auction.ask_shares", {"deposit": deposit, "most": MAX_SHARES}),),
        choices=tuple(
            Choice(f"shares:{n}", Text("auction.shares_choice", {"n": n})) for n in (1, 2, 3)
        ),
    )


def _vins(turn: Turn) -> Reply:
    vins = list(turn.data.get("vins", []))
    return Reply(
        lines=(
            Text("auction.ask_vin", {"n": len(vins) + 1, "of": int(turn.data.get("shares", 1))}),
        )
    )


def _confirm(turn: Turn) -> Reply:
    period = _period(turn)
    vins = list(turn.data.get("vins", []))
    total = (period.deposit_fen if period else 0) * len(vins)
    return Reply(
        lines=(
            Text(
                "auction.summary",
                {
                    "name": period.name if period else "-",
                    "shares": len(vins),
                    "vins": " ".join(vins),
                    "deposit": format_yuan(total),
                },
            ),
        ),
        choices=(
            Choice("confirm", Text("auction.confirm")),
            Choice("again", Text("auction.again")),
            MENU_CHOICE,
        ),
        keep=True,
    )


def _pay(turn: Turn) -> Reply:
    signup = turn.uow.auctions.signup(int(turn.data.get("signup", 0)))
    order = turn.uow.orders.get(int(turn.data.get("order", 0)))
    if signup is not None and signup.state is SignupState.ACTIVE:
        code = room_code(turn.services.code_key, signup)
        return Reply(
            lines=(Text("auction.active", {"bidder": signup.bidder_number or "", "code": code}),),
            choices=(Choice("history", Text("auction.history")), HOME_CHOICE, MENU_CHOICE),
            keep=True,
        )
    if signup is None or order is None or order.state is not OrderState.PENDING:
        return Reply(lines=(Text("auction.deposit_unpaid"),), choices=(HOME_CHOICE, MENU_CHOICE))
    links: tuple[Link, ...] = ()
    if turn.services.payments is not None:
        links = (Link(Text("auction.pay_link"), turn.services.payments.pay_url(order)),)
    return Reply(
        lines=(
            Text(
                "auction.pay",
                {"amount": format_yuan(order.amount), "deadline": format_local(order.deadline)},
            ),
            Text("auction.pay_then"),
        ),
        choices=(Choice("check", Text("auction.paid_check")), HOME_CHOICE, MENU_CHOICE),
        links=links,
        keep=True,
    )


def _history(turn: Turn) -> Reply:
    account_id = turn.conversation.account_id
    mine = my_signups(turn.uow, account_id) if account_id is not None else []
    if not mine:
        return Reply(lines=(Text("auction.no_signups"),), choices=(HOME_CHOICE, MENU_CHOICE))
    lines = [Text("auction.history_title")]
    links: list[Link] = []
    for item in mine:
        signup = item.signup
        if signup.state is SignupState.ACTIVE:
            lines.append(
                Text(
                    "auction.history_active",
                    {
                        "name": item.period.name,
                        "shares": signup.shares,
                        "bidder": signup.bidder_number or "",
                        "code": room_code(turn.services.code_key, signup),
                    },
                )
            )
        else:
            lines.append(
                Text(
                    "auction.history_pending",
                    {
                        "name": item.period.name,
                        "shares": signup.shares,
                        "deposit": format_yuan(signup.deposit_fen),
                    },
                )
            )
            if item.order is not None and turn.services.payments is not None:
                links.append(
                    Link(Text("auction.pay_link"), turn.services.payments.pay_url(item.order))
                )
    return Reply(lines=tuple(lines), choices=(HOME_CHOICE, MENU_CHOICE), links=tuple(links))


def _bidder(turn: Turn) -> Reply:
    return Reply(lines=(Text("auction.ask_bidder"),))


def _code(turn: Turn) -> Reply:
    return Reply(lines=(Text("auction.ask_code", {"bidder": str(turn.data.get("bidder", ""))}),))
