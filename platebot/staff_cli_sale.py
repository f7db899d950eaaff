"""``platebot staff sale …`` (plates for sale: add, import, price, withdraw, list) and
``platebot staff report sales`` (plates sold per office and day)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from platebot.staff_cli_support import JsonOption, err, out, read_csv, refusals, service, show

if TYPE_CHECKING:
    from platebot.staff_sale import StaffSale

T = TypeVar("T")

sale_app = typer.Typer(help="Plates for sale at a fixed price.", no_args_is_help=True)
report_app = typer.Typer(help="Reports.", no_args_is_help=True)

ListingArgument = Annotated[int, typer.Argument(help="The listing number (staff sale list).")]
PriceOption = Annotated[str, typer.Option(help="Yuan, e.g. 12000 or 12000.50.")]


def _run(action: Callable[[StaffSale], T]) -> T:
    from platebot.staff_sale import StaffSale

    with refusals(), service() as staff:
        return action(StaffSale(staff.uow_factory, staff.clock))


def _fen(yuan: str) -> int:
    from core.sale import price_from_yuan

    with refusals():
        return price_from_yuan(yuan)


@sale_app.command("add")
def sale_add(
    *,
    office: Annotated[str, typer.Argument(help="The office, e.g. 粤D.")],
    serial: Annotated[str, typer.Argument(help="The number, e.g. 88888.")],
    price: PriceOption,
    kind: Annotated[str, typer.Option(help="small, large, small_nev or large_nev.")] = "small",
    region: Annotated[
        str | None, typer.Option(help="Region code (4 digits); unset: the office's.")
    ] = None,
    personalised: Annotated[bool, typer.Option(help="Open to buyers of every region.")] = False,
) -> None:
    """Put a held-back (or pooled) number on sale at a price."""
    from core.plates import parse_kind

    with refusals():
        plate_kind = parse_kind(kind)
    fen = _fen(price)
    show(
        _run(
            lambda s: s.add(
                office=office,
                kind=plate_kind,
                serial=serial,
                price=fen,
                region=region,
                personalised=personalised,
            )
        )
    )


@sale_app.command("import")
def sale_import(
    csv_file: Annotated[
        Path, typer.Argument(help="office,kind,serial,price[,region,personalised]; price in yuan")
    ],
) -> None:
    """List plates from CSV: bad rows are reported by line, good rows listed."""
    from platebot.staff_service import message_of

    report = _run(lambda s: s.import_csv(read_csv(csv_file)))
    out.print(f"{len(report['listed'])} listed, {len(report['errors'])} bad row(s)")
    for problem in report["errors"]:
        err.print(
            f"line {problem['line']}: {message_of(problem['code'], problem['params'])}",
            markup=False,
        )
    if report["errors"]:
        raise typer.Exit(1)


@sale_app.command("price")
def sale_price(listing_id: ListingArgument, *, price: PriceOption) -> None:
    """Change the price of a plate on sale (not while an order holds it)."""
    fen = _fen(price)
    show(_run(lambda s: s.price(listing_id, fen)))


@sale_app.command("withdraw")
def sale_withdraw(listing_id: ListingArgument) -> None:
    """Take a plate off sale; the number goes back where it was (the pool, or held back)."""
    show(_run(lambda s: s.withdraw(listing_id)))


@sale_app.command("list")
def sale_list(
    state: Annotated[
        str | None, typer.Option(help="listed, held, sold or withdrawn; unset: all.")
    ] = None,
    office: Annotated[str | None, typer.Option(help="Only this office, e.g. 粤D.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Listings, newest first."""
    from core.sale import ListingState

    try:
        wanted = ListingState(state) if state else None
    except ValueError as exc:
        err.print(f"[red]No state[/red] {state}: use listed, held, sold or withdrawn")
        raise typer.Exit(2) from exc
    rows = _run(lambda s: s.listings(state=wanted, office=office))
    if not as_json:
        keep = ("id", "plate", "price", "region", "personalised", "state", "order_id")
        rows = [{key: row[key] for key in keep} for row in rows]
    show(rows, as_json)


@report_app.command("sales")
def report_sales(
    first: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD (China time).")],
    last: Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD (China time).")],
    as_json: JsonOption = False,
) -> None:
    """Plates sold per office and day: how many, and the money."""
    try:
        days = date.fromisoformat(first), date.fromisoformat(last)
    except ValueError as exc:
        err.print("[red]Not a day[/red]: give --from and --to as YYYY-MM-DD")
        raise typer.Exit(2) from exc
    show(_run(lambda s: s.report(first=days[0], last=days[1])), as_json)
