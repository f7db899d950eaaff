"""``platebot staff auction …``: auction periods and lots on the command line (SPEC §7, §10).

Times are China time (``2026-12-20 09:00``); money is yuan (``5000``), stored in fen."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from platebot.staff_cli_support import JsonOption, err, fen_of, refusals, run_staff, show

if TYPE_CHECKING:
    from core.clock import Clock
    from core.payments import PaymentProvider
    from platebot.staff_auctions import StaffAuctions
    from store.uow import UnitOfWorkFactory

T = TypeVar("T")

auction_app = typer.Typer(help="Auctions: periods, lots and signups.", no_args_is_help=True)
period_app = typer.Typer(help="Auction periods.", no_args_is_help=True)
lot_app = typer.Typer(help="Lots of a period (held-back numbers).", no_args_is_help=True)
signup_app = typer.Typer(help="Signups of a period (bidders).", no_args_is_help=True)
auction_app.add_typer(period_app, name="period")
auction_app.add_typer(lot_app, name="lot")
auction_app.add_typer(signup_app, name="signup")

PeriodArgument = Annotated[int, typer.Argument(help="The period number (see 'period list').")]
TimeOption = Annotated[str, typer.Option(help="China time, e.g. '2026-12-20 09:00'.")]


def _run(action: Callable[[StaffAuctions], T]) -> T:
    """Staff auction work with the configured payment provider (a cancelled period's deposits
    go back through it) and the configured time to pay a deposit order."""
    from platebot.settings import load_settings
    from platebot.staff_auctions import StaffAuctions

    def desk(uow: UnitOfWorkFactory, clock: Clock, provider: PaymentProvider) -> StaffAuctions:
        # made once the configured settings loaded (``run_staff``): they load again here
        minutes = load_settings().order_minutes
        return StaffAuctions(uow, clock, provider, deposit_minutes=minutes)

    return run_staff(desk, action)


def _time(text: str) -> datetime:
    """China time (or a time with its offset) as an aware datetime; anything else stops."""
    from core.clock import OFFICE_TZ

    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        err.print(f"[red]Not a time[/red] {text}: give China time, e.g. '2026-12-20 09:00'")
        raise typer.Exit(2) from exc
    return value if value.tzinfo is not None else value.replace(tzinfo=OFFICE_TZ)


NameEnOption = Annotated[
    str | None,
    typer.Option(
        help="What English users read, e.g. 'Auction 2026 No. 12': at most 30 letters, digits,"
        " spaces and . , ' ( ) / & : # + - (default: 'Auction of' the start's date)."
    ),
]
DepositOption = Annotated[str | None, typer.Option(help="Yuan per share (default 5000).")]
IncrementOption = Annotated[
    list[str] | None,
    typer.Option(help="An allowed increment in yuan; repeat (default 1000 … 5000)."),
]
OpeningOption = Annotated[
    int | None, typer.Option(help="Seconds a lot is open before its first bid (default 300).")
]
BidCountdownOption = Annotated[
    int | None, typer.Option(help="Seconds each bid gives the others (default 60).")
]
BalanceDaysOption = Annotated[
    int | None, typer.Option(help="Working days to pay the balance (default 5).")
]


def _settings(
    deposit: str | None,
    increment: list[str] | None,
    opening_countdown: int | None,
    bid_countdown: int | None,
    balance_days: int | None,
) -> dict[str, object]:
    """The options as the staff service takes them (None: not given)."""
    return {
        "deposit_fen": None if deposit is None else fen_of(deposit),
        "increments_fen": None if not increment else [fen_of(value) for value in increment],
        "opening_countdown_s": opening_countdown,
        "bid_countdown_s": bid_countdown,
        "balance_working_days": balance_days,
    }


@period_app.command("publish")
def period_publish(
    *,
    name: Annotated[str, typer.Option(help="e.g. 2026年第12期.")],
    name_en: NameEnOption = None,
    signup_opens: TimeOption,
    signup_closes: TimeOption,
    starts: TimeOption,
    deposit: DepositOption = None,
    increment: IncrementOption = None,
    opening_countdown: OpeningOption = None,
    bid_countdown: BidCountdownOption = None,
    balance_days: BalanceDaysOption = None,
    as_json: JsonOption = False,
) -> None:
    """Publish an auction period: signup window, start, deposit, increments, countdowns."""
    opens, closes, start = _time(signup_opens), _time(signup_closes), _time(starts)
    settings = _settings(deposit, increment, opening_countdown, bid_countdown, balance_days)
    show(
        _run(
            lambda s: s.publish_period(
                name=name,
                signup_opens=opens,
                signup_closes=closes,
                starts_at=start,
                name_en=name_en,
                **settings,
            )
        ),
        as_json,
    )


MaybeTimeOption = Annotated[str | None, typer.Option(help="China time, e.g. '2026-12-20 09:00'.")]


@period_app.command("amend")
def period_amend(
    period_id: PeriodArgument,
    *,
    name: Annotated[str | None, typer.Option(help="e.g. 2026年第12期.")] = None,
    name_en: Annotated[
        str | None,
        typer.Option(help="What English users read; '' removes it (see 'period publish')."),
    ] = None,
    signup_opens: MaybeTimeOption = None,
    signup_closes: MaybeTimeOption = None,
    starts: MaybeTimeOption = None,
    deposit: Annotated[str | None, typer.Option(help="Yuan per share.")] = None,
    increment: Annotated[
        list[str] | None, typer.Option(help="An allowed increment in yuan; repeat.")
    ] = None,
    opening_countdown: Annotated[int | None, typer.Option(help="Seconds.")] = None,
    bid_countdown: Annotated[int | None, typer.Option(help="Seconds.")] = None,
    balance_days: Annotated[int | None, typer.Option(help="Working days.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Change a period before it starts; only what is given changes. Anything may change until
    signup opens; then its opening stays, its close and the start only move later, and the
    terms (deposit, increments, countdowns, balance days) stay once anyone signed up. Bidders
    and reservers are told new times."""
    changes = {
        "name": name,
        "name_en": name_en,
        "signup_opens": None if signup_opens is None else _time(signup_opens),
        "signup_closes": None if signup_closes is None else _time(signup_closes),
        "starts_at": None if starts is None else _time(starts),
        **_settings(deposit, increment, opening_countdown, bid_countdown, balance_days),
    }
    show(_run(lambda s: s.amend_period(period_id, **changes)), as_json)


@period_app.command("list")
def period_list(as_json: JsonOption = False) -> None:
    """Every period with its state: upcoming, signup, signup_closed, bidding, closed or
    cancelled."""
    show(_run(lambda s: s.periods()), as_json)


@period_app.command("cancel")
def period_cancel(period_id: PeriodArgument, as_json: JsonOption = False) -> None:
    """Cancel a period before it starts: lots withdrawn, deposits refunded, bidders told."""
    show(_run(lambda s: s.cancel_period(period_id)), as_json)


@lot_app.command("add")
def lot_add(
    period_id: PeriodArgument,
    *,
    office: Annotated[str, typer.Option(help="The office, e.g. 粤D.")],
    serial: Annotated[str, typer.Option(help="A held-back number, e.g. 88888.")],
    price: Annotated[str, typer.Option(help="Starting price in yuan, e.g. 10000.")],
    kind: Annotated[str, typer.Option(help="small, large, small_nev or large_nev.")] = "small",
    as_json: JsonOption = False,
) -> None:
    """Add a held-back number of an office to a period, with its starting price."""
    from core.plates import parse_kind

    with refusals():
        plate_kind = parse_kind(kind)
    fen = fen_of(price)
    show(
        _run(
            lambda s: s.add_lot(
                period_id, office=office, kind=plate_kind, serial=serial, starting_price_fen=fen
            )
        ),
        as_json,
    )


@lot_app.command("withdraw")
def lot_withdraw(
    lot_id: Annotated[int, typer.Argument(help="The lot number (see 'lot list').")],
    as_json: JsonOption = False,
) -> None:
    """Withdraw a lot before its period starts (the number stays held back)."""
    show(_run(lambda s: s.withdraw_lot(lot_id)), as_json)


@lot_app.command("list")
def lot_list(period_id: PeriodArgument, as_json: JsonOption = False) -> None:
    """A period's lots: plate, starting price, state, final price, settlement."""
    show(_run(lambda s: s.lots(period_id)), as_json)


@period_app.command("refunds")
def period_refunds(period_id: PeriodArgument, as_json: JsonOption = False) -> None:
    """A period's deposit refunds: done, due, at_counter (hand back with a receipt) or failed."""
    show(_run(lambda s: s.refunds(period_id)), as_json)


@signup_app.command("reissue-code")
def signup_reissue_code(
    period_id: PeriodArgument,
    bidder: Annotated[str, typer.Argument(help="The bidder number (8 digits).")],
    as_json: JsonOption = False,
) -> None:
    """A new room code for a bidder: the old one stops working, the new one goes to the bidder
    by SMS (and their Telegram chat), never here."""
    show(_run(lambda s: s.reissue_code(period_id, bidder)), as_json)
