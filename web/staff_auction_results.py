"""Staff API of auction results (``/staff/api/auction-results…``, SPEC §7 "results publicity"):
per closed period, each lot sold or unsold, its final price and the winner's masked bidder
number, as users read them. Included in the staff API's router (``web.staff.mount``): the same
bearer token and refusals (404 an unknown period, 409 one that has not closed)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from core.auction_results import PeriodResults, period_results, published_results
from core.clock import format_local
from core.errors import DomainError
from core.ports import UnitOfWork
from platebot.staff_service import message_of
from web.staff import StaffRouter
from web.staff_errors import Refused, refusals
from web.staff_models import INT_MAX

PeriodId = Annotated[
    int, Path(ge=1, le=INT_MAX, description="The auction period's id.", examples=[1])
]


class LotResultOut(BaseModel):
    position: int
    plate: str = Field(description="As the office writes it, e.g. 粤D·88888.")
    sold: bool
    price_fen: int | None = Field(description="The final price of a sold lot, in fen.")
    winner: str | None = Field(description="The winner's bidder number, masked (12****78).")


class PeriodResultsOut(BaseModel):
    period_id: int
    name: str
    starts_at: str = Field(description="Asia/Shanghai.")
    closed_at: str | None = Field(description="Asia/Shanghai.")
    sold: int
    lots: list[LotResultOut]


def _out(results: PeriodResults) -> PeriodResultsOut:
    return PeriodResultsOut(
        period_id=results.period_id,
        name=results.name,
        starts_at=format_local(results.starts_at),
        closed_at=format_local(results.closed_at) if results.closed_at else None,
        sold=results.sold,
        lots=[
            LotResultOut(
                position=lot.position,
                plate=lot.plate,
                sold=lot.sold,
                price_fen=lot.price_fen,
                winner=lot.winner,
            )
            for lot in results.lots
        ],
    )


def router(uow: Callable[[], UnitOfWork], new_router: StaffRouter) -> APIRouter:
    api = new_router("/auction-results", tags=["staff: auction results"])

    @api.get("", summary="Results of every closed auction period, the latest first")
    def every() -> list[PeriodResultsOut]:
        with uow() as work:
            return [_out(results) for results in published_results(work)]

    @api.get(
        "/{period_id}",
        summary="Results of one closed auction period",
        responses=refusals(404, 409, 422),
    )
    def one(period_id: PeriodId) -> PeriodResultsOut:
        with uow() as work:
            try:
                return _out(period_results(work, period_id))
            except DomainError as error:
                status = 404 if error.code == "auction.period_unknown" else 409
                message = message_of(error.code, error.params)
                raise Refused(status, error.code, message, error.params) from error

    return api
