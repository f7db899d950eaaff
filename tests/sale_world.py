"""A small world for fixed-price sale tests: the pre-selection world (粤D of 汕头, a person and a
unit of 汕头 with their vehicles) plus plates for sale, and a buyer of 深圳 with a vehicle."""

from __future__ import annotations

from core import sale
from core.plates import PlateKind
from platebot.bootstrap import App
from tests.preselect_world import (
    OTHER_PHONE,
    PERSON_ID,
    add_accounts,
    add_vehicles,
    cert,
    person,
    standard_world,
    vin,
)

YUAN = 100
# serial, price (fen), region, personalised
LISTINGS = (
    ("16666", 12_000 * YUAN, "4405", False),
    ("18888", 60_000 * YUAN, "4405", False),
    ("AB888", 8_800 * YUAN, "4403", True),  # personalised, of 深圳: anyone may buy it
    ("99999", 150_000 * YUAN, "4403", False),  # of 深圳: not for a 汕头 buyer
)
OTHER_REGION_ID = "440304199203033334"  # a 深圳 resident (the ID names 440304)


def list_plate(
    app: App,
    serial: str,
    price: int,
    *,
    region: str = "4405",
    personalised: bool = False,
    kind: PlateKind = PlateKind.SMALL,
) -> int:
    with app.uow() as uow:
        listing = sale.list_plate(
            uow,
            now=app.clock.now(),
            office_code="粤D",
            kind=kind,
            serial=serial,
            price=price,
            region_code=region,
            personalised=personalised,
        )
        uow.commit()
    assert listing.id is not None
    return listing.id


def sale_world(app: App) -> dict[str, int]:
    """The pre-selection world and ``LISTINGS``; the listings' ids by serial."""
    standard_world(app)
    return {
        serial: list_plate(app, serial, price, region=region, personalised=p)
        for serial, price, region, p in LISTINGS
    }


def shenzhen_buyer(app: App) -> int:
    """A person of 深圳 (certificate location 4403) with vehicle ``vin(21)``."""
    account_id = add_accounts(
        app, person(phone=OTHER_PHONE, id_number=OTHER_REGION_ID, region_code="4403")
    )[0]
    add_vehicles(app, [(vin(21), cert(21), OTHER_REGION_ID, PlateKind.SMALL)])
    return account_id


__all__ = ["PERSON_ID", "list_plate", "sale_world", "shenzhen_buyer"]
