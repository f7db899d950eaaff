"""The screens of the auction flow outside the room (``dialogs/flows/auction.py``): periods,
auction notices, results, signup, the deposit's pay screen and signup history."""

from __future__ import annotations

from core.auction_errors import PeriodUnknown
from core.auction_results import period_results, published_results
from core.auction_signup import my_signups
from core.auctions import MAX_SHARES, AuctionPeriod, SignupState, list_periods, room_code
from core.clock import format_local
from core.orders import OrderState
from dialogs.flow import Turn
from dialogs.money import format_yuan
from dialogs.replies import Choice, Link, Reply, Text

PAGE = 5
MENU_CHOICE = Choice("menu", Text("menu.back"))
HOME_CHOICE = Choice("home", Text("auction.home"))


def period_of(turn: Turn) -> AuctionPeriod | None:
    period_id = turn.data.get("period")
    return None if period_id is None else turn.uow.auctions.period(int(period_id))


def home(turn: Turn) -> Reply:
    listing = list_periods(turn.uow, now=turn.now)
    lines = [Text("auction.title")]
    choices: list[Choice] = []
    for period in listing.current:
        name = period.name_in(turn.language)
        lines.append(Text("auction.current", {"name": name}))
        choices.append(Choice(f"period:{period.id}", Text("auction.period_choice", {"name": name})))
    for period in listing.upcoming:
        name = period.name_in(turn.language)
        lines.append(
            Text("auction.upcoming", {"name": name, "starts": format_local(period.starts_at)})
        )
        choices.append(Choice(f"period:{period.id}", Text("auction.period_choice", {"name": name})))
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


def period_notice(turn: Turn) -> Reply:
    period = period_of(turn)
    if period is None:
        return Reply(lines=(Text("auction.gone"),), choices=(HOME_CHOICE, MENU_CHOICE))
    closes = min(period.signup_closes, period.starts_at)
    lines = [
        Text(
            "auction.notice",
            {
                "name": period.name_in(turn.language),
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
        office_code = office.code_in(turn.language) if office else ""
        lines.append(
            Text(
                "auction.lot_line",
                {
                    "n": lot.position,
                    "plate": _plate(office_code, lot.serial, turn),
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


def results(turn: Turn) -> Reply:
    published = published_results(turn.uow)
    start, end, more = _page(turn, len(published))
    choices = [
        Choice(
            f"result:{r.period_id}",
            Text(
                "auction.result_choice",
                {"name": r.name_in(turn.language), "sold": r.sold, "lots": len(r.lots)},
            ),
        )
        for r in published[start:end]
    ]
    if more:
        choices.append(Choice("more", Text("auction.more")))
    if not published:
        return Reply(lines=(Text("auction.no_results"),), choices=(HOME_CHOICE, MENU_CHOICE))
    return Reply(lines=(Text("auction.pick_result"),), choices=(*choices, HOME_CHOICE, MENU_CHOICE))


def result(turn: Turn) -> Reply:
    try:
        results = period_results(turn.uow, int(turn.data.get("result", 0)))
    except PeriodUnknown:
        return Reply(lines=(Text("auction.gone"),), choices=(HOME_CHOICE, MENU_CHOICE))
    start, end, more = _page(turn, len(results.lots))
    lines = [
        Text(
            "auction.result_title",
            {
                "name": results.name_in(turn.language),
                "sold": results.sold,
                "lots": len(results.lots),
            },
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


def shares(turn: Turn) -> Reply:
    period = period_of(turn)
    deposit = format_yuan(period.deposit_fen) if period else "-"
    return Reply(
        lines=(Text("auction.ask_shares", {"deposit": deposit, "most": MAX_SHARES}),),
        choices=tuple(
            Choice(f"shares:{n}", Text("auction.shares_choice", {"n": n})) for n in (1, 2, 3)
        ),
    )


def vins(turn: Turn) -> Reply:
    vins = list(turn.data.get("vins", []))
    return Reply(
        lines=(
            Text("auction.ask_vin", {"n": len(vins) + 1, "of": int(turn.data.get("shares", 1))}),
        )
    )


def confirm(turn: Turn) -> Reply:
    period = period_of(turn)
    vins = list(turn.data.get("vins", []))
    per_share = int(turn.data.get("deposit", period.deposit_fen if period else 0))
    total = per_share * len(vins)
    return Reply(
        lines=(
            Text(
                "auction.summary",
                {
                    "name": period.name_in(turn.language) if period else "-",
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


def pay(turn: Turn) -> Reply:
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


def history(turn: Turn) -> Reply:
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
                        "name": item.period.name_in(turn.language),
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
                        "name": item.period.name_in(turn.language),
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


def bidder(turn: Turn) -> Reply:
    return Reply(lines=(Text("auction.ask_bidder"),))


def code(turn: Turn) -> Reply:
    return Reply(lines=(Text("auction.ask_code", {"bidder": str(turn.data.get("bidder", ""))}),))
