"""Staff review of plate reservations (SPEC §8, §10): list them, approve (the deposit order is
placed and the user told to pay it) or reject with a reason (the user is told it). Shared by
the CLI, the HTTP API and the web console: a supervisor's work, refused for other roles, and each
review recorded in the audit in the same transaction (``platebot.staff_acting``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core import reservations
from core.clock import Clock, format_local
from core.orders import DEFAULT_MINUTES
from core.payments import PaymentProvider
from core.ports import UnitOfWork
from core.reservations import Reservation, ReservationState
from core.staff import Actor, Audit, Permission
from dialogs.money import format_yuan
from platebot.staff_acting import Acting


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


class StaffReservations(Acting):
    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        clock: Clock,
        provider: PaymentProvider,
        order_minutes: int = DEFAULT_MINUTES,
        actor: Actor | None = None,
    ) -> None:
        super().__init__(uow_factory, clock, actor)
        self.provider = provider
        self.order_minutes = order_minutes

    def _of_my_office(self, uow: UnitOfWork, reservation_id: int) -> None:
        """Refused unless the reservation is of the actor's office (an unknown one is the use
        case's to refuse)."""
        found = uow.reservations.get(reservation_id)
        office = uow.offices.get(found.office_id) if found is not None else None
        if office is not None:
            self.require(Permission.OFFICE, office.code)

    def list(
        self, state: ReservationState | None = None, *, office: str | None = None
    ) -> list[dict[str, Any]]:
        """``office``: only that office's (a code; None: every office's)."""
        with self.uow_factory() as uow:
            found = uow.offices.by_code(office) if office is not None else None
            if office is not None and found is None:
                return []
            return [
                reservation_view(r)
                for r in reservations.listed(uow, state=state)
                if found is None or r.office_id == found.id
            ]

    def approve(
        self,
        reservation_id: int,
        *,
        staff: str,
        deposit_fen: int = reservations.DEFAULT_DEPOSIT_FEN,
        starting_price_fen: int = reservations.DEFAULT_STARTING_PRICE_FEN,
    ) -> dict[str, Any]:
        self.require(Permission.OFFICE)

        def run(uow: UnitOfWork) -> dict[str, Any]:
            self._of_my_office(uow, reservation_id)
            approved = reservations.approve(
                uow,
                self.provider,
                now=self.clock.now(),
                reservation_id=reservation_id,
                staff=staff,
                deposit_fen=deposit_fen,
                starting_price_fen=starting_price_fen,
                minutes=self.order_minutes,
            )
            return reservation_view(approved)

        return self._do(
            run,
            lambda v: Audit(
                "reservation.approve",
                f"#{reservation_id} {v['plate']}",
                detail=f"deposit {deposit_fen} fen, from {starting_price_fen} fen",
            ),
        )

    def reject(self, reservation_id: int, *, staff: str, reason: str) -> dict[str, Any]:
        self.require(Permission.OFFICE)

        def run(uow: UnitOfWork) -> dict[str, Any]:
            self._of_my_office(uow, reservation_id)
            rejected = reservations.reject(
                uow, now=self.clock.now(), reservation_id=reservation_id, staff=staff, reason=reason
            )
            return reservation_view(rejected)

        return self._do(
            run,
            lambda v: Audit("reservation.reject", f"#{reservation_id} {v['plate']}", detail=reason),
        )
