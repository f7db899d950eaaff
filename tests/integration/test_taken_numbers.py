"""A number taken outside the pool (SPEC §3, §8; issue 15 item 7) is not the office's to release
or sell: a number a user has reserved, a lot of an open auction, a number sold at auction whose
winner may still pay. The pool load (staff CLI and console service, HTTP API, CSV) leaves each out
with its reason, line by line; the sale listing refuses it; and reserving a number sold at
auction, balance due, is refused too."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from core import reservations
from core.auctions import LotState
from core.clock import ManualClock
from core.plate_errors import PlateAwaitingBalance, PlateInOpenLot, PlateReservedByUser
from core.plates import PlateKind
from core.reservation_errors import NumberTaken
from core.timers import Timers
from platebot.bootstrap import App
from platebot.server import create_web_app
from platebot.staff_auctions import StaffAuctions
from platebot.staff_sale import StaffSale
from platebot.staff_service import StaffService
from tests.preselect_world import OFFICE, PERSON_PHONE, vin
from tests.reservation_world import (
    START_PRICE,
    add_lot,
    bid,
    bidder,
    pending_reservation,
    publish_period,
    reservation_world,
)
from tests.support import STAFF_AUTH, CapturingSender, build_staff_app

RESERVED, IN_LOT, SOLD, FREE = "A8888", "B6666", "C1111", "D2222"
MESSAGES = {
    RESERVED: "粤D·A8888 is reserved by a user: it goes to auction through the reservation, "
    "not into the pool or on sale.",
    IN_LOT: "粤D·B6666 is a lot of an open auction: it cannot go into the pool or on sale.",
    SOLD: "粤D·C1111 was sold at auction and the winner may still pay the balance: it cannot go "
    "into the pool or on sale.",
}
CODES = {RESERVED: "plate.reserved", IN_LOT: "plate.in_auction", SOLD: "plate.awaiting_balance"}


@pytest.fixture
def staff_app(db: Engine, clock: ManualClock, sms: CapturingSender) -> App:
    return build_staff_app(db, clock, sms)


@pytest.fixture
def world(staff_app: App) -> App:
    """粤D: A8888 reserved (pending review), B6666 a lot of a period still to start, C1111 sold
    at auction an hour ago (the winner's balance due), D2222 nobody's."""
    app = staff_app
    ids = reservation_world(app)
    pending_reservation(app, ids["me"], serial=RESERVED)
    first = publish_period(app, hours=1)
    sold_lot = add_lot(app, first, SOLD)
    add_lot(app, publish_period(app, name="2026年第13期", hours=48), IN_LOT)
    signup, share = bidder(app, first, ids["rival"], vin(5))
    assert isinstance(app.clock, ManualClock)
    app.clock.advance(timedelta(hours=1))
    bid(app, signup, share, sold_lot, START_PRICE)
    app.clock.advance(timedelta(hours=1))
    Timers(app.uow, app.clock).run_once()
    with app.uow() as uow:
        lot = uow.auctions.lot(sold_lot)
        assert lot is not None and lot.state is LotState.SOLD
        assert uow.settlements.awaiting(lot.office_id, PlateKind.SMALL, SOLD) is not None
    return app


def pool_states(app: App, serials: list[str]) -> dict[str, str]:
    with app.uow() as uow:
        office = uow.offices.by_code(OFFICE)
        assert office is not None and office.id is not None
        found = uow.pool.states(office.id, PlateKind.SMALL, serials, lock=False)
    return {serial: state.value for serial, (state, _) in found.items()}


def test_a_pool_load_leaves_out_each_taken_number_saying_why(world: App) -> None:
    staff = StaffService(world.uow, world.clock)
    report = staff.load_pool(OFFICE, PlateKind.SMALL, serials=[RESERVED, IN_LOT, SOLD, FREE])
    assert (report.added, report.already) == (1, 0)
    assert [(r.serial, r.code) for r in report.refused] == [
        (serial, CODES[serial]) for serial in (RESERVED, IN_LOT, SOLD)
    ]
    assert pool_states(world, [RESERVED, IN_LOT, SOLD, FREE]) == {FREE: "pooled"}


def test_a_pool_csv_names_the_line_of_each_taken_number(world: App) -> None:
    staff = StaffService(world.uow, world.clock)
    text = f"serial\n{FREE}\n{SOLD}\nnot-a-plate\n{RESERVED}\n{IN_LOT}\n"
    report = staff.load_pool_csv(OFFICE, PlateKind.SMALL, text)
    assert (report.added, report.already) == (1, 0)
    assert [(row["line"], row["code"]) for row in report.errors] == [
        (3, CODES[SOLD]),
        (4, "plate.invalid"),
        (5, CODES[RESERVED]),
        (6, CODES[IN_LOT]),
    ]


def test_the_staff_api_reports_each_refused_number_in_words(world: App) -> None:
    with TestClient(create_web_app(world, run_workers=False)) as client:
        response = client.post(
            "/staff/api/offices/粤D/pool",
            json={"kind": "small", "serials": [RESERVED, FREE], "ranges": ["B6665-B6667"]},
            headers=STAFF_AUTH,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["added"], body["already"]) == (3, 0)  # D2222, B6665, B6667
        assert body["refused"] == [
            {"serial": s, "code": CODES[s], "message": MESSAGES[s]} for s in (IN_LOT, RESERVED)
        ]
        listed = client.post(
            "/staff/api/sale/listings",
            json={"office": "粤D", "serial": RESERVED, "price_fen": 1_200_000},
            headers=STAFF_AUTH,
        )
        assert listed.status_code == 409, listed.text
        assert (listed.json()["code"], listed.json()["message"]) == (
            CODES[RESERVED],
            MESSAGES[RESERVED],
        )


def test_a_taken_number_cannot_be_put_on_sale(world: App) -> None:
    sale = StaffSale(world.uow, world.clock)
    for serial, refusal in (
        (RESERVED, PlateReservedByUser),
        (IN_LOT, PlateInOpenLot),
        (SOLD, PlateAwaitingBalance),
    ):
        with pytest.raises(refusal):
            sale.add(office=OFFICE, kind=PlateKind.SMALL, serial=serial, price=1_200_000)
    sale.add(office=OFFICE, kind=PlateKind.SMALL, serial=FREE, price=1_200_000)
    assert pool_states(world, [RESERVED, IN_LOT, SOLD, FREE]) == {FREE: "for_sale"}


def test_a_number_sold_at_auction_cannot_be_reserved_while_its_balance_is_due(
    world: App,
) -> None:
    with world.uow() as uow:
        account = uow.accounts.by_phone(PERSON_PHONE)
        assert account is not None
        with pytest.raises(NumberTaken):
            reservations.reserve(
                uow,
                now=world.clock.now(),
                account=account,
                office_code=OFFICE,
                serial=SOLD,
                vin=vin(7),
            )


@pytest.mark.parametrize("staff_does", ["pool load", "sale listing"])
def test_a_number_reserved_while_staff_release_it_is_taken_by_one_of_them_only(
    world: App, staff_does: str
) -> None:
    """A user reserves a free number while staff load it into the pool (or list it for sale):
    whichever looks second waits for the first to commit and then sees the number taken, so
    the number is never both reserved and pooled."""
    outcome: list[object] = []

    def release() -> None:
        try:
            if staff_does == "pool load":
                staff = StaffService(world.uow, world.clock)
                report = staff.load_pool(OFFICE, PlateKind.SMALL, serials=[FREE])
                outcome.append([r.code for r in report.refused])
            else:
                sale = StaffSale(world.uow, world.clock)
                sale.add(office=OFFICE, kind=PlateKind.SMALL, serial=FREE, price=1_200_000)
                outcome.append("listed")
        except Exception as error:  # the refusal is the outcome looked at
            outcome.append(error)

    with world.uow() as uow:
        account = uow.accounts.by_phone(PERSON_PHONE)
        assert account is not None
        reservations.reserve(
            uow, now=world.clock.now(), account=account, office_code=OFFICE, serial=FREE, vin=vin(7)
        )
        staff = threading.Thread(target=release)
        staff.start()
        staff.join(0.5)
        assert staff.is_alive(), "staff released the number while its reservation was being made"
        uow.commit()
    staff.join(30)
    assert not staff.is_alive()
    if staff_does == "pool load":
        assert outcome == [["plate.reserved"]]
    else:
        assert len(outcome) == 1 and isinstance(outcome[0], PlateReservedByUser)
    assert pool_states(world, [FREE]) == {}


def test_the_lot_list_says_where_each_lots_number_is_now(world: App) -> None:
    """Read together for the lots of a period: each lot's own number, not its neighbour's."""
    period = publish_period(world, name="2026年第14期", hours=72)
    kept, withdrawn = add_lot(world, period, FREE), add_lot(world, period, "E3333")
    staff = StaffAuctions(world.uow, world.clock, world.payments)
    staff.withdraw_lot(withdrawn)
    listed = {lot["id"]: lot["number"] for lot in staff.lots(period)}
    assert listed == {kept: "in_auction", withdrawn: "held_back"}
