"""Staff work on the fixed-price sale (SPEC §6, §10): list plates (one, or a CSV file), change a
price, withdraw one, see the listings, and the sales report per office and day. Shared by the
CLI and the HTTP API; each call is one transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from core import sale
from core.clock import Clock, format_local
from core.plate_errors import OfficeUnknown
from core.plates import PlateKind
from core.ports import UnitOfWork
from core.sale import Listing, ListingState
from dialogs.money import format_yuan

T = TypeVar("T")


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


class StaffSale:
    def __init__(self, uow_factory: Callable[[], UnitOfWork], clock: Clock) -> None:
        self.uow_factory = uow_factory
        self.clock = clock

    def _do(self, action: Callable[[UnitOfWork], T]) -> T:
        with self.uow_factory() as uow:
            result = action(uow)
            uow.commit()
            return result

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

        return self._do(run)

    def import_csv(self, text: str) -> dict[str, Any]:
        """Rows listed, and each bad row's line and refusal (``code``, ``params``)."""

        def run(uow: UnitOfWork) -> dict[str, Any]:
            report = sale.import_listings_csv(uow, text=text, now=self.clock.now())
            return {
                "listed": [self._view(uow, listing) for listing in report.listed],
                "errors": [
                    {"line": e.line, "code": e.code, "params": dict(e.params)}
                    for e in report.errors
                ],
            }

        return self._do(run)

    def price(self, listing_id: int, price: int) -> dict[str, Any]:
        return self._do(
            lambda uow: self._view(uow, sale.change_price(uow, listing_id=listing_id, price=price))
        )

    def withdraw(self, listing_id: int) -> dict[str, Any]:
        def run(uow: UnitOfWork) -> dict[str, Any]:
            listing = sale.withdraw(uow, listing_id=listing_id, now=self.clock.now())
            return self._view(uow, listing)

        return self._do(run)

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
