"""Staff review of plate reservations (SPEC §8, §10): list them, approve (the deposit order is
placed and the user told to pay it) or reject with a reason (the user is told it). Shared by
the CLI and the HTTP API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from core import reservations
from core.clock import Clock, format_local
from core.orders import DEFAULT_MINUTES
from core.payments import PaymentProvider
from core.ports import UnitOfWork
from core.reservations import Reservation, ReservationState
from dialogs.money import format_yuan

T = TypeVar("T")


def reservation_view(reservation: Reservation) -> dict[str, Any]:
    deposit, price = reservation.deposit_fen, reservation.starting_price_fen
    return {
        "id": reservation.id,
        "account_id": reservation.account_id,
        "plate": reservation.plate,
        "vin": reservation.vin,
        "state": reservation.state.value,
        "created_at": format_local(reservation.created_at),
        "reviewed_by": reservation.reviewed_by,
        "reason": reservation.reason,
        "deposit_fen": deposit,
        "deposit": None if deposit is None else format_yuan(deposit),
        "starting_price_fen": price,
        "starting_price": None if price is None else format_yuan(price),
        "order_id": reservation.order_id,
        "period_id": reservation.period_id,
        "lot_id": reservation.lot_id,
    }


class StaffReservations:
    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        clock: Clock,
        provider: PaymentProvider,
        order_minutes: int = DEFAULT_MINUTES,
    ) -> None:
        self.uow_factory = uow_factory
        self.clock = clock
        self.provider = provider
        self.order_minutes = order_minutes

    def _do(self, action: Callable[[UnitOfWork], T]) -> T:
        with self.uow_factory() as uow:
            result = action(uow)
            uow.commit()
            return result

    def list(self, state: ReservationState | None = None) -> list[dict[str, Any]]:
        with self.uow_factory() as uow:
            return [reservation_view(r) for r in reservations.listed(uow, state=state)]

    def approve(
        self,
        reservation_id: int,
        *,
        staff: str,
        deposit_fen: int = reservations.DEFAULT_DEPOSIT_FEN,
        starting_price_fen: int = reservations.DEFAULT_STARTING_PRICE_FEN,
    ) -> dict[str, Any]:
        return self._do(
            lambda uow: reservation_view(
                reservations.approve(
                    uow,
                    self.provider,
                    now=self.clock.now(),
                    reservation_id=reservation_id,
                    staff=staff,
                    deposit_fen=deposit_fen,
                    starting_price_fen=starting_price_fen,
                    minutes=self.order_minutes,
                )
            )
        )

    def reject(self, reservation_id: int, *, staff: str, reason: str) -> dict[str, Any]:
        return self._do(
            lambda uow: reservation_view(
                reservations.reject(
                    uow,
                    now=self.clock.now(),
                    reservation_id=reservation_id,
                    staff=staff,
                    reason=reason,
                )
            )
        )
