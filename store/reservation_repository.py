"""The reservations' repository (protocol in ``core.reservation_ports``). It never commits.
Locked reads refresh what the session loaded earlier; the refund claim skips rows another
transaction holds."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.plates import PlateKind
from core.reservation_errors import NumberReserved
from core.reservations import LIVE_STATES, Reservation, ReservationState
from store.reservation_tables import reservations

RC = reservations.c


def _locked(query: sa.Select[Reservation], lock: bool) -> sa.Select[Reservation]:
    if not lock:
        return query
    return query.with_for_update().execution_options(populate_existing=True)


class SqlReservationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, reservation: Reservation) -> None:
        """A second live reservation of the number (another user's, committed while this one
        checked) is refused as such; the transaction goes on without it (a savepoint)."""
        try:
            with self.session.begin_nested():
                self.session.add(reservation)
        except IntegrityError as error:
            raise NumberReserved(plate=reservation.plate) from error

    def get(self, reservation_id: int, *, lock: bool = False) -> Reservation | None:
        if not lock:
            return self.session.get(Reservation, reservation_id)
        return self.session.get(
            Reservation, reservation_id, with_for_update=True, populate_existing=True
        )

    def live_for(self, office_id: int, kind: PlateKind, serial: str) -> Reservation | None:
        query = sa.select(Reservation).where(
            RC.office_id == office_id,
            RC.plate_kind == kind,
            RC.serial == serial,
            RC.state.in_(list(LIVE_STATES)),
        )
        return self.session.scalars(query).first()

    def live_serials(self, office_id: int, kind: PlateKind) -> set[str]:
        query = sa.select(RC.serial).where(
            RC.office_id == office_id, RC.plate_kind == kind, RC.state.in_(list(LIVE_STATES))
        )
        return set(self.session.scalars(query))

    def of_account(self, account_id: int, limit: int = 20) -> Sequence[Reservation]:
        query = (
            sa.select(Reservation)
            .where(RC.account_id == account_id)
            .order_by(RC.created_at.desc(), RC.id.desc())
            .limit(limit)
        )
        return list(self.session.scalars(query))

    def listed(
        self, *, states: Sequence[ReservationState] | None = None, limit: int = 200
    ) -> Sequence[Reservation]:
        query = sa.select(Reservation).order_by(RC.created_at, RC.id).limit(limit)
        if states is not None:
            query = query.where(RC.state.in_(list(states)))
        return list(self.session.scalars(query))

    def in_state(
        self, state: ReservationState, *, period_id: int | None = None, lock: bool = True
    ) -> Sequence[Reservation]:
        query = sa.select(Reservation).where(RC.state == state).order_by(RC.created_at, RC.id)
        if period_id is not None:
            query = query.where(RC.period_id == period_id)
        return list(self.session.scalars(_locked(query, lock)))

    def on_lot(self, lot_id: int) -> Reservation | None:
        query = sa.select(Reservation).where(RC.lot_id == lot_id)
        return self.session.scalars(_locked(query, True)).first()

    def claim_refunds(self, limit: int) -> Sequence[Reservation]:
        query = (
            sa.select(Reservation)
            .where(RC.refund_due.is_(True))
            .order_by(RC.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )
        return list(self.session.scalars(query))
