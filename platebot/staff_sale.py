"""Staff work on the fixed-price sale (SPEC §6, §10): list plates (one, or a CSV file), change a
price, withdraw one, see the listings, and the sales report per office and day. Shared by the
CLI, the HTTP API and the web console; each call is one transaction, refused by the actor's role
(an office's supervisor, for their office's plates) and, when it changes something, recorded in
the audit in the same transaction (``platebot.staff_acting``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from core import sale
from core.clock import Clock, format_local
from core.plate_errors import OfficeUnknown
from core.plates import PlateKind
from core.ports import UnitOfWork
from core.sale import Listing, ListingState
from core.staff import Actor, Audit, Permission
from dialogs.money import format_yuan
from platebot.staff_acting import Acting


def listing_view(listing: Listing, office_code: str) -> dict[str, Any]:
    return {
        "id": listing.id,
        "office": office_code,
        "plate": listing.plate,
        "kind": listing.plate_kind.value,
        "serial": listing.serial,
        "price_fen": listing.price,
        "price": format_yuan(listing.price),
        "region": listing.region_code,
        "personalised": listing.personalised,
        "state": listing.state.value,
        "order_id": listing.order_id,
        "vin": listing.vin,
        "listed_at": format_local(listing.listed_at),
        "sold_at": format_local(listing.sold_at) if listing.sold_at else None,
    }


class StaffSale(Acting):
    def __init__(
        self, uow_factory: Callable[[], UnitOfWork], clock: Clock, actor: Actor | None = None
    ) -> None:
        super().__init__(uow_factory, clock, actor)

    def _office_of(self, uow: UnitOfWork, listing_id: int) -> str | None:
        """The office of a listing, to check the actor's (None: no such listing, refused by the
        use case)."""
        listing = uow.sales.get(listing_id)
        office = uow.offices.get(listing.office_id) if listing is not None else None
        return office.code if office is not None else None

    @staticmethod
    def _view(uow: UnitOfWork, listing: Listing) -> dict[str, Any]:
        office = uow.offices.get(listing.office_id)
        return listing_view(listing, office.code if office is not None else "")

    def add(
        self,
        *,
        office: str,
        kind: PlateKind,
        serial: str,
        price: int,
        region: str | None = None,
        personalised: bool = False,
    ) -> dict[str, Any]:
        """``price`` in fen; ``region``: the office's unless given."""
        self.require(Permission.OFFICE, office)

        def run(uow: UnitOfWork) -> dict[str, Any]:
            listing = sale.list_plate(
                uow,
                now=self.clock.now(),
                office_code=office,
                kind=kind,
                serial=serial,
                price=price,
                region_code=region,
                personalised=personalised,
            )
            return self._view(uow, listing)

        return self._do(
            run,
            lambda v: Audit("sale.list", v["plate"], v["office"], detail=f"{v['price_fen']} fen"),
        )

    def import_csv(self, text: str) -> dict[str, Any]:
        """Rows listed, and each bad row's line and refusal (``code``, ``params``). The file may
        name several offices: a supervisor's rows of another office are refused as a whole."""
        self.require(Permission.OFFICE)

        def run(uow: UnitOfWork) -> dict[str, Any]:
            report = sale.import_listings_csv(uow, text=text, now=self.clock.now())
            for listing in report.listed:
                office = uow.offices.get(listing.office_id)
                self.require(Permission.OFFICE, office.code if office is not None else "?")
            return {
                "listed": [self._view(uow, listing) for listing in report.listed],
                "errors": [
                    {"line": e.line, "code": e.code, "params": dict(e.params)}
                    for e in report.errors
                ],
            }

        return self._do(
            run,
            lambda v: Audit(
                "sale.import", detail=f"{len(v['listed'])} listed, {len(v['errors'])} refused"
            ),
        )

    def price(self, listing_id: int, price: int) -> dict[str, Any]:
        self.require(Permission.OFFICE)

        def run(uow: UnitOfWork) -> dict[str, Any]:
            self.require(Permission.OFFICE, self._office_of(uow, listing_id))
            return self._view(uow, sale.change_price(uow, listing_id=listing_id, price=price))

        return self._do(
            run, lambda v: Audit("sale.price", v["plate"], v["office"], f"{v['price_fen']} fen")
        )

    def withdraw(self, listing_id: int) -> dict[str, Any]:
        self.require(Permission.OFFICE)

        def run(uow: UnitOfWork) -> dict[str, Any]:
            self.require(Permission.OFFICE, self._office_of(uow, listing_id))
            listing = sale.withdraw(uow, listing_id=listing_id, now=self.clock.now())
            return self._view(uow, listing)

        return self._do(run, lambda v: Audit("sale.withdraw", v["plate"], v["office"]))

    def listings(
        self, *, state: ListingState | None = None, office: str | None = None, limit: int = 200
    ) -> list[dict[str, Any]]:
        with self.uow_factory() as uow:
            office_id = None
            if office is not None:
                found = uow.offices.by_code(office)
                if found is None or found.id is None:
                    raise OfficeUnknown(office=office[:8])
                office_id = found.id
            listed = uow.sales.listed(state=state, office_id=office_id, limit=limit)
            return [self._view(uow, listing) for listing in listed]

    def report(self, *, first: date, last: date) -> list[dict[str, Any]]:
        """Per office and day (China time): plates sold and their money."""
        with self.uow_factory() as uow:
            codes = {o.id: o.code for o in uow.offices.all()}
            return [
                {
                    "office": codes.get(day.office_id, ""),
                    "day": day.day.isoformat(),
                    "sold": day.count,
                    "amount_fen": day.amount,
                    "amount": format_yuan(day.amount),
                }
                for day in sale.sales_report(uow, first=first, last=last)
            ]
