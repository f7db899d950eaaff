"""Staff API of the fixed-price sale (``/staff/api/sale/…``) and the sales report
(``/staff/api/reports/sales``). Included in the staff API's router (``web.staff.mount``), so the
same bearer token and the same refusals (``web/staff_errors.py``: a ``Problem``; 404 an unknown
listing or office, 409 a plate not in a state that allows it, 422 a bad value)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, TypeVar

from annotated_types import Interval
from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool
from starlette.concurrency import run_in_threadpool

from core.errors import DomainError
from core.plates import PlateKind
from core.sale import PRICE_MAX, ListingState
from platebot.staff_sale import StaffSale
from platebot.staff_service import message_of
from web.staff import StaffRouter
from web.staff_csv import CSV_BODY, csv_text, read_csv
from web.staff_errors import JSON_BODY, Refused, refusals
from web.staff_models import INT_MAX, JSON_INTEGER, NO_NUL, RowProblem, text

T = TypeVar("T")

_NOT_FOUND = {"sale.unknown", "office.unknown"}
_CONFLICT = {
    "sale.already_listed",
    "sale.number_taken",
    "sale.not_listed",
    "plate.reserved",
    "plate.in_auction",
    "plate.awaiting_balance",
}

ListingId = Annotated[int, Path(ge=1, le=INT_MAX, description="The listing number.", examples=[1])]
Price = Annotated[int, Interval(ge=1, le=PRICE_MAX), JSON_INTEGER]


def _iso_day(value: Any) -> Any:
    """Only ``YYYY-MM-DD`` (pydantic alone would also take a Unix time)."""
    if isinstance(value, str) and (len(value) != 10 or value[4] != "-" or value[7] != "-"):
        raise ValueError("a date is written YYYY-MM-DD, e.g. 2026-10-01")
    return value


class _Body(BaseModel):
    """A request body: fields it does not name are refused, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class NewListing(_Body):
    office: Annotated[str, text(1, 8)] = Field(examples=["粤D"])
    kind: PlateKind = PlateKind.SMALL
    serial: Annotated[str, text(1, 12)] = Field(examples=["88888"])
    price_fen: Price = Field(examples=[1_200_000], description="The price in fen.")
    region_code: str | None = Field(
        default=None, pattern="^[0-9]{4}$", examples=["4405"], description="Unset: the office's."
    )
    personalised: StrictBool = Field(default=False, description="Open to buyers of every region.")


class PriceChange(_Body):
    price_fen: Price = Field(examples=[1_500_000], description="The new price in fen.")


class ListingOut(BaseModel):
    id: int
    office: str
    plate: str
    kind: str
    serial: str
    price_fen: int
    price: str = Field(description="As users read it, e.g. ¥12,000.")
    region: str
    personalised: bool
    state: str
    order_id: int | None
    vin: str | None
    listed_at: str = Field(description="Asia/Shanghai.")
    sold_at: str | None = Field(description="Asia/Shanghai.")


class ListingsImported(BaseModel):
    listed: list[ListingOut]
    errors: list[RowProblem]


class SalesDay(BaseModel):
    office: str
    day: str = Field(description="YYYY-MM-DD, China time.")
    sold: int
    amount_fen: int
    amount: str


def _call(action: Callable[[], T]) -> T:
    try:
        return action()
    except DomainError as error:
        status = 404 if error.code in _NOT_FOUND else 409 if error.code in _CONFLICT else 422
        message = message_of(error.code, error.params)
        raise Refused(status, error.code, message, error.params) from error


def router(sale: StaffSale, new_router: StaffRouter) -> APIRouter:
    api = new_router(tags=["staff: sale"])

    @api.get(
        "/sale/listings", summary="Plates for sale (newest first)", responses=refusals(404, 422)
    )
    def listings(
        state: ListingState | None = None,
        office: Annotated[str | None, Query(pattern=NO_NUL, max_length=8, examples=["粤D"])] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> list[ListingOut]:
        found = _call(lambda: sale.listings(state=state, office=office, limit=limit))
        return [ListingOut(**row) for row in found]

    @api.post(
        "/sale/listings",
        status_code=201,
        summary="Put a plate on sale",
        responses=refusals(*JSON_BODY, 404, 409),
    )
    def add(body: NewListing) -> ListingOut:
        return ListingOut(
            **_call(
                lambda: sale.add(
                    office=body.office,
                    kind=body.kind,
                    serial=body.serial,
                    price=body.price_fen,
                    region=body.region_code,
                    personalised=body.personalised,
                )
            )
        )

    @api.post(
        "/sale/import",
        summary="Put plates on sale from CSV",
        description="Columns: office, kind, serial, price (yuan)[, region, personalised]. Bad rows "
        "are reported with their line numbers; good rows are listed. A file without those columns "
        "is refused whole (422 `sale.csv_columns`).",
        openapi_extra=CSV_BODY,
        responses=refusals(422),
    )
    async def import_csv(request: Request) -> ListingsImported:
        csv_body = await csv_text(request)
        report = await run_in_threadpool(read_csv, lambda: sale.import_csv(csv_body))
        errors = report["errors"]
        if [e["code"] for e in errors] == ["sale.csv_columns"] and not report["listed"]:
            error = errors[0]
            raise Refused(
                422, error["code"], message_of(error["code"], error["params"]), error["params"]
            )
        problems = [
            RowProblem(line=e["line"], code=e["code"], message=message_of(e["code"], e["params"]))
            for e in errors
        ]
        return ListingsImported(
            listed=[ListingOut(**row) for row in report["listed"]], errors=problems
        )

    @api.patch(
        "/sale/listings/{listing_id}",
        summary="Change the price of a plate on sale",
        responses=refusals(*JSON_BODY, 404, 409),
    )
    def change_price(listing_id: ListingId, body: PriceChange) -> ListingOut:
        return ListingOut(**_call(lambda: sale.price(listing_id, body.price_fen)))

    @api.post(
        "/sale/listings/{listing_id}/withdraw",
        summary="Take a plate off sale",
        responses=refusals(404, 409, 422),
    )
    def withdraw(listing_id: ListingId) -> ListingOut:
        return ListingOut(**_call(lambda: sale.withdraw(listing_id)))

    @api.get(
        "/reports/sales",
        summary="Plates sold per office and day (China time): count and money",
        responses=refusals(422),
    )
    def report(
        first: Annotated[
            date,
            BeforeValidator(_iso_day),
            Query(alias="from", description="First day, YYYY-MM-DD.", examples=["2026-11-23"]),
        ],
        last: Annotated[
            date,
            BeforeValidator(_iso_day),
            Query(alias="to", description="Last day, YYYY-MM-DD.", examples=["2026-11-30"]),
        ],
    ) -> list[SalesDay]:
        return [SalesDay(**row) for row in sale.report(first=first, last=last)]

    return api
