"""Rules of reservations beyond the dialog (SPEC §8): where a paid reservation goes when its lot
is withdrawn or its period cancelled, a deposit paid at the counter, and one live reservation per
number, held by the store."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core import auctions, reservations
from core.auction_errors import PlateReserved
from core.clock import ManualClock
from core.orders import Cause, OrderState
from core.payments import cancel_order, pay_at_counter
from core.plates import PlateKind
from core.reservation_errors import NumberReserved
from core.reservations import Reservation, ReservationState
from platebot.bootstrap import App
from platebot.staff_auctions import StaffAuctions
from tests.reservation_world import (
    order,
    pay_by_gateway,
    pending_reservation,
    publish_period,
    reservation,
    reservation_world,
    run_jobs,
    sms_to,
    staff,
)
from tests.support import CapturingSender


@pytest.fixture
def me(app: App) -> int:
    return reservation_world(app)["me"]


def placed(app: App, me: int) -> tuple[int, int]:
    """A reservation approved, paid and placed in a new period: (reservation id, period id)."""
    period_id = publish_period(app)
    reservation_id = pending_reservation(app, me)
    pay_by_gateway(app, staff(app).approve(reservation_id, staff="王芳")["order_id"])
    assert reservation(app, reservation_id).period_id == period_id
    return reservation_id, period_id


def test_a_withdrawn_lot_goes_to_the_next_open_period_or_waits(
    app: App, me: int, sms: CapturingSender
) -> None:
    reservation_id, first = placed(app, me)
    later = publish_period(app, name="2026年第13期", hours=48)
    with app.uow() as uow:
        lot_id = reservation(app, reservation_id).lot_id or 0
        auctions.withdraw_lot(uow, clock=app.clock, lot_id=lot_id)
        uow.commit()
    app.dispatcher.run_once()
    moved = reservation(app, reservation_id)
    assert (moved.state, moved.period_id) == (ReservationState.PLACED, later)
    assert any("2026年第13期" in text for text in sms_to(sms))
    for period_id in (first, later):
        with app.uow() as uow:
            auctions.cancel_period(uow, clock=app.clock, period_id=period_id)
            uow.commit()
    app.dispatcher.run_once()
    waiting = reservation(app, reservation_id)
    assert (waiting.state, waiting.period_id, waiting.lot_id) == (ReservationState.PAID, None, None)
    assert any("将进入下一期竞买" in text for text in sms_to(sms))
    latest = publish_period(app, name="2026年第14期")
    assert reservation(app, reservation_id).period_id == latest


def test_a_deposit_paid_at_the_counter_is_handed_back_there(
    app: App, me: int, sms: CapturingSender
) -> None:
    period_id = publish_period(app)
    reservation_id = pending_reservation(app, me)
    order_id = staff(app).approve(reservation_id, staff="王芳")["order_id"]
    with app.uow() as uow:
        pay_at_counter(uow, order_id=order_id, receipt="R-1", staff="王芳", now=app.clock.now())
        uow.commit()
    assert reservation(app, reservation_id).period_id == period_id
    assert isinstance(app.clock, ManualClock)
    app.clock.advance(timedelta(hours=26))  # nobody bids: the lot closes unsold
    run_jobs(app)
    assert reservation(app, reservation_id).state is ReservationState.UNSOLD
    assert order(app, order_id).state is OrderState.PAID  # the clerk refunds it with a receipt
    assert any("请到窗口领取退款" in text for text in sms_to(sms))
    run_jobs(app)
    assert order(app, order_id).refunded == 0


def test_the_store_keeps_one_live_reservation_per_number(app: App, me: int) -> None:
    """Two users who both found the number free (PostgreSQL runs their turns at once): the one
    who stores second is refused as if the number had been reserved when they typed it."""
    first = pending_reservation(app, me)
    twin = reservation(app, first)
    with app.uow() as uow:
        with pytest.raises(NumberReserved):
            uow.reservations.add(
                Reservation(
                    account_id=me,
                    office_id=twin.office_id,
                    plate_kind=twin.plate_kind,
                    serial=twin.serial,
                    plate=twin.plate,
                    vin=twin.vin,
                    created_at=app.clock.now(),
                )
            )
        reservations.reject(
            uow, now=app.clock.now(), reservation_id=first, staff="王芳", reason="no"
        )
        uow.commit()  # the transaction went on: the rejection is kept
    assert reservation(app, first).state is ReservationState.REJECTED
    assert pending_reservation(app, me, n=2) != first  # rejected: the number is free again


def test_a_cancelled_deposit_order_lapses_the_reservation(
    app: App, me: int, sms: CapturingSender
) -> None:
    reservation_id = pending_reservation(app, me)
    order_id = staff(app).approve(reservation_id, staff="王芳")["order_id"]
    with app.uow() as uow:
        cancel_order(uow, order_id=order_id, now=app.clock.now(), cause=Cause.USER, account_id=me)
        uow.commit()
    app.dispatcher.run_once()
    assert reservation(app, reservation_id).state is ReservationState.LAPSED
    # they cancelled it themselves (told first what it gives up): no SMS says it again
    assert not any("预约已失效" in text for text in sms_to(sms))
    assert pending_reservation(app, me, n=2) != reservation_id  # the number is free again


def test_staff_cannot_put_a_reserved_number_in_an_auction_beside_its_reservation(
    app: App, me: int
) -> None:
    """A reserved number goes to auction through its reservation only: added by hand it would be
    auctioned to someone else while the reserver waits."""
    period_id = publish_period(app)
    reservation_id = pending_reservation(app, me)
    with app.uow() as uow, pytest.raises(PlateReserved):
        auctions.add_lot(
            uow,
            clock=app.clock,
            period_id=period_id,
            office_code="粤D",
            kind=PlateKind.SMALL,
            serial="A8888",
            starting_price_fen=1_000_000,
        )
    pay_by_gateway(app, staff(app).approve(reservation_id, staff="王芳")["order_id"])
    placed_in = reservation(app, reservation_id)
    assert (placed_in.state, placed_in.period_id) == (ReservationState.PLACED, period_id)


def test_a_reserved_number_whose_lot_closes_unsold_goes_back_to_the_office(
    app: App, me: int
) -> None:
    """Nobody bid: the reservation is over (its deposit refunded), and the number is the
    office's again, held back: staff see it so in the period's lot list, and it is free to
    reserve, put in a lot, on sale or in the pool."""
    reservation_id, period_id = placed(app, me)
    lots = StaffAuctions(app.uow, app.clock, app.payments)
    assert [lot["number"] for lot in lots.lots(period_id)] == ["reserved"]
    assert isinstance(app.clock, ManualClock)
    app.clock.advance(timedelta(hours=26))
    run_jobs(app)
    assert reservation(app, reservation_id).state is ReservationState.UNSOLD
    assert [(lot["state"], lot["number"]) for lot in lots.lots(period_id)] == [
        ("unsold", "held_back")
    ]
    again = pending_reservation(app, me, n=2)
    assert reservation(app, again).state is ReservationState.PENDING
