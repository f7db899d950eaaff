"""The fixed-price sale's rules (SPEC §6): what staff may list, change and withdraw, the number's
pool state agreeing at every step, CSV imports, two buyers at once, and the sales report."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from core import basic_information, sale
from core.accounts import Account
from core.clock import ManualClock
from core.errors import DomainError
from core.orders import Cause, Order, Purpose
from core.payments import cancel_order, pay_at_counter
from core.plates import PlateKind
from core.pools import NumberState
from core.ports import UnitOfWork
from core.sale import ListingState
from platebot.bootstrap import App
from store.sale_tables import sale_listings
from tests.order_world import pending_order
from tests.preselect_world import (
    PERSON_PHONE,
    UNIT_PHONE,
    add_numbers,
    cert,
    number_state,
    snapshot,
    standard_world,
    vin,
)
from tests.sale_world import list_plate

YUAN = 100


@pytest.fixture
def world(app: App) -> App:
    standard_world(app)  # pools 10000–10029 of 粤D
    return app


def refused(app: App, action: Callable[[UnitOfWork], object]) -> str:
    """The code of the refusal ``action(uow)`` raises; nothing of it is kept."""
    with app.uow() as uow, pytest.raises(DomainError) as caught:
        action(uow)
    return caught.value.code


def account_of(app: App, phone: str) -> Account:
    with app.uow() as uow:
        found = uow.accounts.by_phone(phone)
    assert found is not None
    return found


def buy(app: App, phone: str, listing_id: int, of_vin: str) -> Order:
    with app.uow() as uow:
        order = sale.buy(
            uow,
            account=account_of(app, phone),
            listing_id=listing_id,
            vin=of_vin,
            now=app.clock.now(),
            minutes=30,
        )
        uow.commit()
    return order


def state_of(app: App, listing_id: int) -> ListingState:
    with app.uow() as uow:
        found = uow.sales.get(listing_id)
        assert found is not None
        return found.state


def test_a_held_back_number_goes_on_sale_and_the_pool_keeps_it_for_sale(world: App) -> None:
    listing_id = list_plate(world, "88888", 50_000 * YUAN)
    assert number_state(world, "88888") == NumberState.FOR_SALE
    # A later pool load leaves it alone.
    add_numbers(world, ["88888", "88887"])
    assert number_state(world, "88888") == NumberState.FOR_SALE
    assert number_state(world, "88887") == NumberState.POOLED

    with world.uow() as uow:
        sale.withdraw(uow, listing_id=listing_id, now=world.clock.now())
        uow.commit()

    assert state_of(world, listing_id) is ListingState.WITHDRAWN
    assert number_state(world, "88888") is None  # as before: never pooled
    relisted = list_plate(world, "88888", 40_000 * YUAN)
    assert state_of(world, relisted) is ListingState.LISTED


def test_a_pooled_number_leaves_the_pool_for_sale_and_comes_back_when_withdrawn(
    world: App,
) -> None:
    listing_id = list_plate(world, "10005", 20_000 * YUAN)
    assert number_state(world, "10005") == NumberState.FOR_SALE
    with world.uow() as uow:
        assert uow.pool.counts(1)[PlateKind.SMALL] == 29
        sale.withdraw(uow, listing_id=listing_id, now=world.clock.now())
        uow.commit()
    assert number_state(world, "10005") == NumberState.POOLED


def test_staff_cannot_list_a_number_that_is_someones_or_listed_already(world: App) -> None:
    list_plate(world, "88888", 50_000 * YUAN)
    with world.uow() as uow:
        uow.pool.set_state(1, PlateKind.SMALL, "10001", NumberState.PRESELECTED)
        uow.commit()

    def listing(
        serial: str, price: int = 10_000 * YUAN, office: str = "粤D", region: str | None = None
    ) -> Callable[[UnitOfWork], object]:
        return lambda uow: sale.list_plate(
            uow,
            now=world.clock.now(),
            office_code=office,
            kind=PlateKind.SMALL,
            serial=serial,
            price=price,
            region_code=region,
        )

    assert refused(world, listing("88888")) == "sale.already_listed"
    assert refused(world, listing("10001")) == "sale.number_taken"
    assert refused(world, listing("12345", price=0)) == "sale.price_invalid"
    assert refused(world, listing("1234")) == "plate.invalid"
    assert refused(world, listing("12345", office="粤Z")) == "office.unknown"
    assert refused(world, listing("12345", region="9999")) == "region.unknown"
    assert number_state(world, "12345") is None


def test_a_price_changes_only_while_the_plate_is_on_sale(world: App) -> None:
    listing_id = list_plate(world, "88888", 50_000 * YUAN)
    with world.uow() as uow:
        changed = sale.change_price(uow, listing_id=listing_id, price=45_000 * YUAN)
        uow.commit()
    assert changed.price == 45_000 * YUAN
    order = buy(world, PERSON_PHONE, listing_id, vin(1))
    assert order.amount == 45_000 * YUAN

    def change(uow: UnitOfWork) -> object:
        return sale.change_price(uow, listing_id=listing_id, price=1)

    def take_off(uow: UnitOfWork) -> object:
        return sale.withdraw(uow, listing_id=listing_id, now=world.clock.now())

    assert refused(world, change) == "sale.not_listed"
    assert refused(world, take_off) == "sale.not_listed"
    assert refused(world, lambda uow: sale.withdraw(uow, listing_id=99, now=world.clock.now())) == (
        "sale.unknown"
    )


def test_listings_are_imported_from_csv_and_bad_lines_are_reported_by_number(
    world: App,
) -> None:
    text = "\n".join(
        [
            "office,kind,serial,price,region,personalised",
            "粤D,small,88888,50000,,",
            "粤D,small,8888,1000,,",  # line 3: not a serial
            "粤D,small,66666,12000.50,4403,是",
            "粤D,small,77777,free,,",  # line 5: not a price
            "粤D,small,88888,60000,,",  # line 6: listed already (line 2)
            "粤X,small,55555,1000,,",  # line 7: no such office
            "粤D,small,10001,1000,,yes",
        ]
    )
    with world.uow() as uow:
        report = sale.import_listings_csv(uow, text=text, now=world.clock.now())
        uow.commit()

    assert [(e.line, e.code) for e in report.errors] == [
        (3, "plate.invalid"),
        (5, "sale.price_invalid"),
        (6, "sale.already_listed"),
        (7, "office.unknown"),
    ]
    listed = [(x.serial, x.price, x.region_code, x.personalised) for x in report.listed]
    assert listed == [
        ("88888", 5_000_000, "4405", False),
        ("66666", 1_200_050, "4403", True),
        ("10001", 100_000, "4405", True),
    ]
    assert number_state(world, "10001") == NumberState.FOR_SALE

    with world.uow() as uow:
        columns = sale.import_listings_csv(uow, text="serial,price\n88888,1", now=world.clock.now())
    assert [(e.line, e.code, e.params) for e in columns.errors] == [
        (1, "sale.csv_columns", {"columns": "office, kind"})
    ]


def test_paying_completes_the_sale_and_the_number_is_issued(world: App) -> None:
    listing_id = list_plate(world, "88888", 50_000 * YUAN)
    order = buy(world, PERSON_PHONE, listing_id, vin(1))
    assert state_of(world, listing_id) is ListingState.HELD
    assert number_state(world, "88888") == NumberState.FOR_SALE
    with world.uow() as uow:
        pay_at_counter(
            uow, order_id=order.id or 0, receipt="R-1", staff="王芳", now=world.clock.now()
        )
        uow.commit()
    assert state_of(world, listing_id) is ListingState.SOLD
    assert number_state(world, "88888") == NumberState.ISSUED
    # the sold number can never be listed again, nor the vehicle buy again
    assert refused(
        world,
        lambda uow: sale.list_plate(
            uow,
            now=world.clock.now(),
            office_code="粤D",
            kind=PlateKind.SMALL,
            serial="88888",
            price=1,
        ),
    ) == ("sale.number_taken")
    other = list_plate(world, "66666", 1_000 * YUAN)
    assert refused(
        world,
        lambda uow: sale.buy(
            uow,
            account=account_of(world, PERSON_PHONE),
            listing_id=other,
            vin=vin(1),
            now=world.clock.now(),
            minutes=30,
        ),
    ) == ("sale.vin_has_plate")


def test_an_order_that_is_not_a_purchase_releases_no_plate(world: App) -> None:
    listing_id = list_plate(world, "88888", 50_000 * YUAN)
    buy(world, PERSON_PHONE, listing_id, vin(1))
    deposit = pending_order(
        world,
        account_of(world, PERSON_PHONE).id or 0,
        purpose=Purpose.AUCTION_DEPOSIT,
        reference=f"listing:{listing_id}",
    )
    with world.uow() as uow:
        cancel_order(uow, order_id=deposit.id or 0, now=world.clock.now(), cause=Cause.USER)
        uow.commit()
    assert state_of(world, listing_id) is ListingState.HELD


def test_two_buyers_of_one_plate_at_the_same_moment_one_order_holds_it(world: App) -> None:
    listing_id = list_plate(world, "88888", 50_000 * YUAN)
    buyers = [(PERSON_PHONE, vin(1)), (UNIT_PHONE, vin(11))]
    start = threading.Barrier(len(buyers))
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(phone: str, of_vin: str) -> None:
        account = account_of(world, phone)
        start.wait(timeout=30)
        try:
            with world.uow() as uow:
                sale.buy(
                    uow,
                    account=account,
                    listing_id=listing_id,
                    vin=of_vin,
                    now=world.clock.now(),
                    minutes=30,
                )
                uow.commit()
            result = "ordered"
        except DomainError as error:
            result = error.code
        with lock:
            outcomes.append(result)

    for _ in range(5):
        threads = [threading.Thread(target=attempt, args=b) for b in buyers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(outcomes) == ["ordered", "sale.taken"]
        with world.uow() as uow:
            orders = uow.orders.listed()
            listing = uow.sales.get(listing_id)
        pending = [o for o in orders if o.state.value == "pending"]
        assert len(pending) == 1 and listing is not None
        assert (listing.state, listing.order_id) == (ListingState.HELD, pending[0].id)
        with world.uow() as uow:  # free it for the next round
            cancel_order(uow, order_id=pending[0].id or 0, now=world.clock.now(), cause=Cause.USER)
            uow.commit()
        outcomes.clear()


def test_the_database_keeps_one_live_listing_per_number(world: App) -> None:
    list_plate(world, "88888", 50_000 * YUAN)
    row = {
        "office_id": 1,
        "plate_kind": "small",
        "serial": "88888",
        "plate": "粤D·88888",
        "price": 1,
        "region_code": "4405",
        "personalised": False,
        "from_pool": False,
        "state": "listed",
        "listed_at": world.clock.now(),
    }
    with pytest.raises(sa.exc.IntegrityError), world.db.begin() as conn:
        conn.execute(sa.insert(sale_listings).values(**row))


def test_the_sales_report_counts_plates_and_money_per_office_and_china_day(
    world: App, clock: ManualClock
) -> None:
    first = list_plate(world, "88888", 50_000 * YUAN)
    second = list_plate(world, "66666", 12_000 * YUAN)
    third = list_plate(world, "77777", 8_000 * YUAN)
    for listing_id, phone, of_vin in (
        (first, PERSON_PHONE, vin(1)),
        (second, UNIT_PHONE, vin(11)),
        (third, UNIT_PHONE, vin(12)),
    ):
        order = buy(world, phone, listing_id, of_vin)
        with world.uow() as uow:
            pay_at_counter(uow, order_id=order.id or 0, receipt="R", staff="王芳", now=clock.now())
            uow.commit()
        clock.advance(timedelta(hours=7))  # 10:00, 17:00, then 00:00 of the next China day

    with world.uow() as uow:
        days = sale.sales_report(uow, first=date(2026, 11, 23), last=date(2026, 11, 24))
        only_first = sale.sales_report(uow, first=date(2026, 11, 23), last=date(2026, 11, 23))

    assert [(d.office_id, d.day, d.count, d.amount) for d in days] == [
        (1, date(2026, 11, 23), 2, 6_200_000),
        (1, date(2026, 11, 24), 1, 800_000),
    ]
    assert [(d.day, d.count) for d in only_first] == [(date(2026, 11, 23), 2)]


def test_a_refused_listing_writes_nothing(world: App) -> None:
    before = snapshot(world)
    with world.uow() as uow, pytest.raises(DomainError):
        sale.list_plate(
            uow,
            now=world.clock.now(),
            office_code="粤D",
            kind=PlateKind.SMALL,
            serial="10001",
            price=-5,
        )
    assert snapshot(world) == before


def test_a_vehicle_that_bought_a_plate_or_holds_one_cannot_pre_select(world: App) -> None:
    listing_id = list_plate(world, "88888", 50_000 * YUAN)
    buy(world, PERSON_PHONE, listing_id, vin(1))  # held by an order
    person = account_of(world, PERSON_PHONE)

    def begin(of_vin: str, certificate: str) -> Callable[[UnitOfWork], object]:
        return lambda uow: basic_information.begin(
            uow,
            now=world.clock.now(),
            account=person,
            office_code="粤D",
            vin=of_vin,
            certificate_no=certificate,
        )

    assert refused(world, begin(vin(1), cert(1))) == "sale.vin_has_plate"
    with world.uow() as uow:  # another vehicle of the same owner may
        begin(vin(2), cert(2))(uow)
        uow.commit()
