"""The reservations' repository, as a protocol; ``store/reservation_repository.py`` implements it
and the unit of work carries one (``uow.reservations``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from core.plates import PlateKind
    from core.reservations import Reservation, ReservationState


class ReservationRepository(Protocol):
    def add(self, reservation: Reservation) -> None:
        """Store a new reservation; it gets its id. A second live reservation of the same number
        is refused by the store (a unique index), whoever got there first."""
        ...

    def get(self, reservation_id: int, *, lock: bool = False) -> Reservation | None: ...
    def live_for(self, office_id: int, kind: PlateKind, serial: str) -> Reservation | None:
        """The number's reservation that is pending, approved, paid or placed, if any."""
        ...

    def live_serials(self, office_id: int, kind: PlateKind) -> set[str]:
        """The office's numbers of ``kind`` that a live reservation takes."""
        ...

    def of_account(self, account_id: int, limit: int = 20) -> Sequence[Reservation]:
        """Newest first."""
        ...

    def listed(
        self, *, states: Sequence[ReservationState] | None = None, limit: int = 200
    ) -> Sequence[Reservation]:
        """Oldest first (the order staff review them in)."""
        ...

    def in_state(
        self, state: ReservationState, *, period_id: int | None = None, lock: bool = True
    ) -> Sequence[Reservation]:
        """Oldest first, locked (of one period, for placed ones)."""
        ...

    def on_lot(self, lot_id: int) -> Reservation | None:
        """The reservation placed as ``lot_id``, locked."""
        ...

    def claim_refunds(self, limit: int) -> Sequence[Reservation]:
        """Reservations whose deposit is due back, locked; those another transaction holds are
        skipped."""
        ...
