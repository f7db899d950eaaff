"""``platebot staff reservation …``: review plate reservations on the command line."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from platebot.staff_cli_support import (
    JsonOption,
    configured,
    err,
    fen_of,
    payment_provider_of,
    refusals,
    show,
)

if TYPE_CHECKING:
    from platebot.staff_reservations import StaffReservations

T = TypeVar("T")

reservation_app = typer.Typer(
    help="Plate reservations: review (approve or reject).", no_args_is_help=True
)

ReservationArgument = Annotated[int, typer.Argument(help="The reservation number.")]
StaffOption = Annotated[str, typer.Option(help="Your name (recorded with the review).")]


@contextmanager
def _desk() -> Iterator[StaffReservations]:
    """Reservation review on the configured database, with the configured payment provider (the
    deposit's pay link is the provider's) and order minutes."""
    from core.clock import SystemClock
    from platebot.staff_reservations import StaffReservations
    from store.uow import UnitOfWorkFactory

    with configured() as (settings, engine):
        yield StaffReservations(
            UnitOfWorkFactory(engine, channels=settings.channels),
            SystemClock(),
            payment_provider_of(settings, engine),
            settings.order_minutes,
        )


def _run(action: Callable[[StaffReservations], T]) -> T:
    with refusals(), _desk() as desk:
        return action(desk)


@reservation_app.command("list")
def reservation_list(
    state: Annotated[
        str | None, typer.Option(help="Only this state: pending, approved, paid, placed …")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Reservations, oldest first (``--state pending``: those waiting for review)."""
    from core.reservations import ReservationState

    try:
        wanted = None if state is None else ReservationState(state)
    except ValueError as exc:
        states = ", ".join(s.value for s in ReservationState)
        err.print(f"[red]No state[/red] {state}: give one of {states}")
        raise typer.Exit(2) from exc
    show(_run(lambda d: d.list(wanted)), as_json)


@reservation_app.command("approve")
def reservation_approve(
    reservation_id: ReservationArgument,
    *,
    staff: StaffOption,
    deposit: Annotated[
        str | None, typer.Option(help="Reservation deposit in yuan (default 5000).")
    ] = None,
    starting_price: Annotated[
        str | None, typer.Option(help="The lot's starting price in yuan (default 10000).")
    ] = None,
) -> None:
    """Approve a pending reservation: the user is told to pay the deposit (with the pay link)."""
    from core import reservations

    deposit_fen = reservations.DEFAULT_DEPOSIT_FEN if deposit is None else fen_of(deposit)
    price_fen = (
        reservations.DEFAULT_STARTING_PRICE_FEN
        if starting_price is None
        else fen_of(starting_price)
    )
    show(
        _run(
            lambda d: d.approve(
                reservation_id, staff=staff, deposit_fen=deposit_fen, starting_price_fen=price_fen
            )
        )
    )


@reservation_app.command("reject")
def reservation_reject(
    reservation_id: ReservationArgument,
    *,
    staff: StaffOption,
    reason: Annotated[str, typer.Option(help="Why: the user is told it.")],
) -> None:
    """Reject a pending reservation; the user is told the reason."""
    show(_run(lambda d: d.reject(reservation_id, staff=staff, reason=reason)))
