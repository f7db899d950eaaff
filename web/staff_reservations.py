"""Staff API of plate reservations (``/staff/api/reservations/…``): list them, approve one (the
deposit order is placed and the user told to pay it) or reject it with a reason. Included in the
staff API's router (``web.staff.mount``): the same bearer token and the same refusals
(``web/staff_errors.py``: 404 unknown reservation, 409 not pending, 422 a bad value)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from core.reservations import DEFAULT_DEPOSIT_FEN, DEFAULT_STARTING_PRICE_FEN, MAX_FEN
from core.reservations import ReservationState as State
from platebot.staff_reservations import StaffReservations
from web.staff import StaffRouter
from web.staff_errors import JSON_BODY, refusals
from web.staff_models import INT_MAX, NO_NUL

ReservationId = Annotated[
    int, Path(ge=1, le=INT_MAX, description="The reservation number.", examples=[1])
]
Staff = Field(min_length=1, max_length=80, pattern=NO_NUL, description="Your name (recorded).")


class ReservationOut(BaseModel):
    id: int
    account_id: int
    plate: str = Field(description="As shown, e.g. 粤D·A8888.")
    vin: str
    state: str
    created_at: str = Field(description="Asia/Shanghai.")
    reviewed_by: str | None
    reason: str | None = Field(description="Why it was rejected.")
    deposit_fen: int | None
    deposit: str | None = Field(description="As users read it, e.g. ¥5,000.")
    starting_price_fen: int | None
    starting_price: str | None
    order_id: int | None = Field(description="The deposit order.")
    period_id: int | None = Field(description="The auction period the plate is a lot of.")
    lot_id: int | None


class Approval(BaseModel):
    model_config = ConfigDict(extra="forbid")

    staff: str = Staff
    deposit_fen: int = Field(
        default=DEFAULT_DEPOSIT_FEN, ge=1, le=MAX_FEN, description="The reservation deposit."
    )
    starting_price_fen: int = Field(
        default=DEFAULT_STARTING_PRICE_FEN,
        ge=1,
        le=MAX_FEN,
        description="The lot's starting price in the auction.",
    )


class Rejection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    staff: str = Staff
    reason: str = Field(
        min_length=1,
        max_length=200,
        pattern=r"^[^\x00]*\S[^\x00]*$",
        description="Why: the user is told it.",
    )


def router(desk: StaffReservations, new_router: StaffRouter) -> APIRouter:
    api = new_router("/reservations", tags=["staff: reservations"])

    @api.get("", summary="Reservations, oldest first", responses=refusals(422))
    def listed(
        state: Annotated[State | None, Query(description="Only those in this state.")] = None,
    ) -> list[ReservationOut]:
        return [ReservationOut(**row) for row in desk.list(state)]

    @api.post(
        "/{reservation_id}/approval",
        summary="Approve a pending reservation: the user is told to pay the deposit",
        responses=refusals(*JSON_BODY, 404, 409),
    )
    def approve(reservation_id: ReservationId, body: Approval) -> ReservationOut:
        return ReservationOut(
            **desk.approve(
                reservation_id,
                staff=body.staff,
                deposit_fen=body.deposit_fen,
                starting_price_fen=body.starting_price_fen,
            )
        )

    @api.post(
        "/{reservation_id}/rejection",
        summary="Reject a pending reservation, saying why (the user is told)",
        responses=refusals(*JSON_BODY, 404, 409),
    )
    def reject(reservation_id: ReservationId, body: Rejection) -> ReservationOut:
        return ReservationOut(**desk.reject(reservation_id, staff=body.staff, reason=body.reason))

    return api
