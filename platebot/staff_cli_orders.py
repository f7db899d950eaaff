"""``platebot staff order …``: orders by state and account, one order, counter payment and refunds
on the command line."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from core.orders import OrderState
from platebot.staff_cli_support import JsonOption, err, fen_of, run_staff, show

if TYPE_CHECKING:
    from platebot.staff_orders import StaffOrders

T = TypeVar("T")

order_app = typer.Typer(help="Orders: listings, counter payment and refunds.", no_args_is_help=True)

OrderArgument = Annotated[int, typer.Argument(help="The order number.")]
StaffOption = Annotated[str, typer.Option(help="Your name (recorded with the move).")]


def _run(action: Callable[[StaffOrders], T]) -> T:
    """Staff order work with the configured payment provider (a refund of a gateway payment
    goes back through it)."""
    from platebot.staff_orders import StaffOrders

    return run_staff(StaffOrders, action)


@order_app.command("list")
def order_list(
    *,
    state: Annotated[OrderState | None, typer.Option(help="Only orders in this state.")] = None,
    account: Annotated[
        int | None, typer.Option(min=1, help="Only this account's orders (its number).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="Orders a page.")] = 50,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many (a later page).")] = 0,
    as_json: JsonOption = False,
) -> None:
    """Orders newest first, by state and by account, a page at a time."""
    page = _run(lambda o: o.orders(state=state, account_id=account, limit=limit, offset=offset))
    if as_json:
        show(page, as_json)
        return
    show([_row(order) for order in page["orders"]])
    if page["next_offset"] is not None:
        err.print(f"More: --offset {page['next_offset']}")


def _row(order: dict[str, Any]) -> dict[str, Any]:
    """An order in a table row: what staff look for first."""
    keys = ("id", "account_id", "purpose", "subject", "amount", "state", "deadline")
    return {key: order[key] for key in keys}


@order_app.command("show")
def order_show(order_id: OrderArgument, as_json: JsonOption = False) -> None:
    """One order: what for, amount, state, money received and refunded."""
    show(_run(lambda o: o.order(order_id)), as_json)


@order_app.command("pay")
def order_pay(
    order_id: OrderArgument,
    *,
    receipt: Annotated[str, typer.Option(help="The counter receipt number.")],
    staff: StaffOption,
) -> None:
    """Mark a pending order paid at the counter (by its deadline)."""
    show(_run(lambda o: o.pay_at_counter(order_id, receipt=receipt, staff=staff)))


@order_app.command("refund")
def order_refund(
    order_id: OrderArgument,
    *,
    staff: StaffOption,
    amount: Annotated[
        str | None, typer.Option(help="Yuan to refund, e.g. 5000; unset: all it holds.")
    ] = None,
    receipt: Annotated[
        str | None, typer.Option(help="Refund receipt number (orders paid at the counter).")
    ] = None,
) -> None:
    """Refund a paid order, whole or in part (gateway payments go back through the gateway)."""
    fen = None if amount is None else fen_of(amount)
    show(_run(lambda o: o.refund(order_id, staff=staff, amount=fen, receipt=receipt)))
