"""Staff API of auctions (``/staff/api/auctions/…``): publish, list and cancel periods; add,
list and withdraw lots; issue a bidder a new room code. Included in the staff API's router
(``web.staff.mount``), so the same bearer token and the same refusals (``web/staff_errors.py``:
a ``Problem``; 404 unknown period, lot, office or bidder, 409 a period that started, a number
that cannot be a lot or a signup not active, 422 a bad value). Times are ISO 8601 with their
offset (``2026-12-20T09:00:00+08:00``); money is fen."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Path
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from core.auction_errors import InvalidAuctionSetting
from core.auctions import NAME_EN_MAX
from core.plates import PlateKind
from platebot.staff_auctions import StaffAuctions
from web.staff import StaffRouter
from web.staff_errors import JSON_BODY, call_refusing, refusals
from web.staff_models import INT_MAX, NO_NUL
from web.staff_orders import FEN_MAX

T = TypeVar("T")

_NOT_FOUND = {
    "auction.period_unknown",
    "auction.lot_unknown",
    "auction.signup_unknown",
    "office.unknown",
}
_CONFLICT = {
    "auction.period_started",
    "auction.signup_opened",
    "auction.terms_fixed",
    "auction.signup_not_active",
    "auction.plate_in_auction",
    "auction.plate_not_held_back",
    "auction.plate_reserved",
}
_YEARS = (2000, 2200)  # times outside these are mistakes (and beyond what dates can convert)

PeriodId = Annotated[int, Path(ge=1, le=INT_MAX, description="The period number.", examples=[1])]
LotId = Annotated[int, Path(ge=1, le=INT_MAX, description="The lot number.", examples=[1])]
Fen = Annotated[int, Field(ge=1, le=FEN_MAX)]
BidderNumber = Annotated[
    str, Path(pattern=r"^[0-9]{8}$", description="The bidder number.", examples=["35716290"])
]


class NewPeriod(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=80, pattern=NO_NUL, examples=["2026年第12期"])
    name_en: str | None = Field(
        default=None,
        min_length=1,
        max_length=NAME_EN_MAX,
        pattern=NO_NUL,
        examples=["Auction 2026 No. 12"],
        description="What English users read (English SMS stay GSM-7): letters, digits, spaces "
        "and . , ' ( ) / & : # + -; default: 'Auction of' the start's date, e.g. 'Auction of "
        "2026-12-20'.",
    )
    signup_opens: AwareDatetime = Field(description="ISO 8601 with its offset.")
    signup_closes: AwareDatetime = Field(description="At the latest when the auction starts.")
    starts_at: AwareDatetime = Field(description="When every lot opens; in the future.")
    deposit_fen: Fen | None = Field(default=None, description="Per share; default 500000.")
    increments_fen: list[Fen] | None = Field(
        default=None,
        min_length=1,
        max_length=10,
        description="The allowed increments; default 100000 … 500000.",
    )
    opening_countdown_s: int | None = Field(
        default=None, ge=1, le=24 * 3600, description="A lot's first deadline; default 300."
    )
    bid_countdown_s: int | None = Field(
        default=None, ge=1, le=3600, description="Each bid's countdown; default 60."
    )
    balance_working_days: int | None = Field(
        default=None, ge=1, le=30, description="To pay the balance; default 5."
    )


class PeriodChanges(BaseModel):
    """Only what is given changes; see the route for what may change when."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=80, pattern=NO_NUL)
    name_en: str | None = Field(
        default=None,
        max_length=NAME_EN_MAX,
        pattern=NO_NUL,
        description="As when publishing; \"\" removes it (English users then read 'Auction of' "
        "the start's date).",
    )
    signup_opens: AwareDatetime | None = Field(default=None, description="ISO 8601, offset.")
    signup_closes: AwareDatetime | None = None
    starts_at: AwareDatetime | None = None
    deposit_fen: Fen | None = Field(default=None, description="Per share.")
    increments_fen: list[Fen] | None = Field(default=None, min_length=1, max_length=10)
    opening_countdown_s: int | None = Field(default=None, ge=1, le=24 * 3600)
    bid_countdown_s: int | None = Field(default=None, ge=1, le=3600)
    balance_working_days: int | None = Field(default=None, ge=1, le=30)


class PeriodOut(BaseModel):
    id: int
    name: str
    name_en: str | None = Field(
        description="What English users read; null: 'Auction of' the start's date."
    )
    state: str = Field(
        description="upcoming, signup, signup_closed (before the start), bidding, closed or "
        "cancelled."
    )
    signup_opens: str = Field(description="Asia/Shanghai.")
    signup_closes: str
    starts_at: str
    deposit_fen: int
    deposit: str = Field(description="As users read it, e.g. ¥5,000.")
    increments_fen: list[int]
    opening_countdown_s: int
    bid_countdown_s: int
    balance_working_days: int
    lots: int


class AmendedPeriodOut(PeriodOut):
    changed: list[str] = Field(description='The settings that changed, e.g. ["starts_at"].')


class NewLot(BaseModel):
    model_config = ConfigDict(extra="forbid")

    office: str = Field(min_length=1, max_length=8, pattern=NO_NUL, examples=["粤D"])
    kind: PlateKind = PlateKind.SMALL
    serial: str = Field(min_length=1, max_length=12, pattern=NO_NUL, examples=["88888"])
    starting_price_fen: Fen


class LotOut(BaseModel):
    id: int
    period_id: int
    position: int
    plate: str
    plate_kind: str
    starting_price_fen: int
    starting_price: str
    state: str = Field(description="open, sold, unsold or withdrawn.")
    price_fen: int | None = Field(description="The final price of a sold lot.")
    deadline: str | None = Field(description="An open lot's deadline, Asia/Shanghai.")
    settlement: str | None = Field(description="A sold lot's: awaiting_balance, issued, forfeited.")
    balance_due: str | None = Field(description="The balance deadline, Asia/Shanghai.")
    number: str | None = Field(
        default=None,
        description="Where the number is now: held_back (the office's again: a lot of another "
        "period, on sale or pooled), in_auction, awaiting_balance, issued, reserved, for_sale, "
        "pooled, held or preselected.",
    )


class RefundOut(BaseModel):
    id: int
    signup_id: int
    order_id: int
    amount_fen: int
    amount: str
    reason: str = Field(description="lost (won nothing) or cancelled (the period).")
    state: str = Field(description="due, done, at_counter (hand back with a receipt) or failed.")
    done_at: str | None = Field(description="Asia/Shanghai.")


class CodeReissuedOut(BaseModel):
    signup_id: int
    period_id: int
    period: str
    bidder_number: str
    sent_to: str | None = Field(description="The bidder's number, masked: the new code went there.")
    reissued_at: str = Field(description="Asia/Shanghai.")


def _plausible(values: dict[str, Any]) -> dict[str, Any]:
    """Times far from now are a mistake (and beyond what dates convert): an invalid setting."""
    for name in ("signup_opens", "signup_closes", "starts_at"):
        if name in values and not _YEARS[0] <= values[name].year <= _YEARS[1]:
            raise InvalidAuctionSetting(setting=name, value=values[name].isoformat())
    return values


def _call(action: Callable[[], T]) -> T:
    return call_refusing(action, not_found=_NOT_FOUND, conflict=_CONFLICT)


def router(staff: StaffAuctions, new_router: StaffRouter) -> APIRouter:
    api = new_router("/auctions", tags=["staff: auctions"])

    @api.get("/periods", summary="List auction periods with their state")
    def periods() -> list[PeriodOut]:
        return [PeriodOut(**p) for p in staff.periods()]

    @api.post(
        "/periods",
        status_code=201,
        summary="Publish an auction period",
        responses=refusals(*JSON_BODY),
    )
    def publish(body: NewPeriod) -> PeriodOut:
        values = body.model_dump(exclude_none=True)
        return PeriodOut(**_call(lambda: staff.publish_period(**_plausible(values))))

    @api.get("/periods/{period_id}", summary="One auction period", responses=refusals(404, 422))
    def period(period_id: PeriodId) -> PeriodOut:
        return PeriodOut(**_call(lambda: staff.period(period_id)))

    @api.patch(
        "/periods/{period_id}",
        summary="Change a period's settings before it starts (bidders told of new times)",
        description="Any setting may change until signup opens. After that the opening of "
        "signup stays, its close and the start only move later, and the terms (deposit, "
        "increments, countdowns, balance days) stay once anyone signed up. Open lots follow a "
        "new start or opening countdown; the period's bidders and the reservers of its lots are "
        "told new times.",
        responses=refusals(404, 409, *JSON_BODY),
    )
    def amend(period_id: PeriodId, body: PeriodChanges) -> AmendedPeriodOut:
        values = _plausible(body.model_dump(exclude_none=True))
        return AmendedPeriodOut(**_call(lambda: staff.amend_period(period_id, **values)))

    @api.post(
        "/periods/{period_id}/cancel",
        summary="Cancel a period before it starts (deposits refunded, bidders told)",
        responses=refusals(404, 409, 422),
    )
    def cancel(period_id: PeriodId) -> PeriodOut:
        return PeriodOut(**_call(lambda: staff.cancel_period(period_id)))

    @api.get(
        "/periods/{period_id}/refunds",
        summary="A period's deposit refunds",
        responses=refusals(404, 422),
    )
    def refunds(period_id: PeriodId) -> list[RefundOut]:
        return [RefundOut(**r) for r in _call(lambda: staff.refunds(period_id))]

    @api.get(
        "/periods/{period_id}/lots",
        summary="A period's lots with their state",
        responses=refusals(404, 422),
    )
    def lots(period_id: PeriodId) -> list[LotOut]:
        return [LotOut(**lot) for lot in _call(lambda: staff.lots(period_id))]

    @api.post(
        "/periods/{period_id}/lots",
        status_code=201,
        summary="Add a held-back number as a lot",
        responses=refusals(*JSON_BODY, 404, 409),
    )
    def add_lot(period_id: PeriodId, body: NewLot) -> LotOut:
        return LotOut(
            **_call(
                lambda: staff.add_lot(
                    period_id,
                    office=body.office,
                    kind=body.kind,
                    serial=body.serial,
                    starting_price_fen=body.starting_price_fen,
                )
            )
        )

    @api.post(
        "/periods/{period_id}/bidders/{bidder_number}/reissue-code",
        summary="Issue a bidder a new room code (sent to the bidder, not answered here)",
        responses=refusals(404, 409, 422),
    )
    def reissue_code(period_id: PeriodId, bidder_number: BidderNumber) -> CodeReissuedOut:
        return CodeReissuedOut(**_call(lambda: staff.reissue_code(period_id, bidder_number)))

    @api.post(
        "/lots/{lot_id}/withdraw",
        summary="Withdraw a lot before its period starts",
        responses=refusals(404, 409, 422),
    )
    def withdraw(lot_id: LotId) -> LotOut:
        return LotOut(**_call(lambda: staff.withdraw_lot(lot_id)))

    return api
