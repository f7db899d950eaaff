"""Staff API of orders (``/staff/api/orders/…``): list them by state and account a page at a time,
look one up, counter payment, refund. Included
in the staff API's router (``web.staff.mount``), so the same bearer token and the same refusals
(``web/staff_errors.py``: a ``Problem``; 404 unknown order, 409 not in a state that allows it,
422 a bad value)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from core.orders import OrderState
from platebot.staff_orders import StaffOrders
from web.staff import StaffRouter
from web.staff_errors import JSON_BODY, call_refusing, refusals
from web.staff_models import INT_MAX, NO_NUL

T = TypeVar("T")

_NOT_FOUND = {"order.not_found"}
_CONFLICT = {
    "order.not_pending",
    "order.not_paid",
    "order.past_deadline",
    "order.refund_provider",
    "order.deposit_held",
}
PAGE_MAX = 500
FEN_MAX = 10**12  # ¥10,000,000,000: more than any order holds

OrderId = Annotated[int, Path(ge=1, le=INT_MAX, description="The order number.", examples=[1])]


class OrderOut(BaseModel):
    id: int
    account_id: int
    purpose: str
    reference: str
    subject: str
    amount_fen: int
    amount: str = Field(description="As users read it, e.g. ¥12,000.")
    state: str
    received_fen: int
    refunded_fen: int
    deadline: str = Field(description="Asia/Shanghai.")
    paid_via: str | None
    payment_ref: str | None


class OrderPage(BaseModel):
    orders: list[OrderOut] = Field(description="Newest first.")
    next_offset: int | None = Field(
        description="`offset` of the next page; null on the last page.", examples=[100]
    )


class CounterPayment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    receipt: str = Field(
        min_length=1, max_length=64, pattern=NO_NUL, description="The counter receipt number."
    )
    staff: str = Field(
        min_length=1, max_length=80, pattern=NO_NUL, description="The clerk who took the money."
    )


class Refund(BaseModel):
    model_config = ConfigDict(extra="forbid")

    staff: str = Field(
        min_length=1, max_length=80, pattern=NO_NUL, description="The staff member refunding."
    )
    amount_fen: int | None = Field(
        default=None,
        ge=1,
        le=FEN_MAX,
        description="How much, in fen; unset: all the order still holds.",
    )
    receipt: str | None = Field(
        default=None,
        max_length=64,
        pattern=NO_NUL,
        description="Refund receipt: needed for counter payments.",
    )


def _call(action: Callable[[], T]) -> T:
    return call_refusing(action, not_found=_NOT_FOUND, conflict=_CONFLICT)


def router(orders: StaffOrders, new_router: StaffRouter) -> APIRouter:
    api = new_router("/orders", tags=["staff: orders"])

    @api.get(
        "", summary="List orders by state and account, a page at a time", responses=refusals(422)
    )
    def listed(
        state: Annotated[OrderState | None, Query(description="Only orders in this state.")] = None,
        account: Annotated[
            int | None, Query(ge=1, le=INT_MAX, description="Only this account's orders.")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=PAGE_MAX, description="Orders a page.")] = 100,
        offset: Annotated[
            int, Query(ge=0, le=INT_MAX, description="Skip this many (`next_offset`).")
        ] = 0,
    ) -> OrderPage:
        page = orders.orders(state=state, account_id=account, limit=limit, offset=offset)
        return OrderPage(
            orders=[OrderOut(**order) for order in page["orders"]],
            next_offset=page["next_offset"],
        )

    @api.get("/{order_id}", summary="One order", responses=refusals(404, 422))
    def show(order_id: OrderId) -> OrderOut:
        return OrderOut(**_call(lambda: orders.order(order_id)))

    @api.post(
        "/{order_id}/counter-payment",
        summary="Mark an order paid at the counter",
        responses=refusals(*JSON_BODY, 404, 409),
    )
    def counter_payment(order_id: OrderId, body: CounterPayment) -> OrderOut:
        return OrderOut(
            **_call(lambda: orders.pay_at_counter(order_id, receipt=body.receipt, staff=body.staff))
        )

    @api.post(
        "/{order_id}/refunds",
        summary="Refund an order, whole or in part",
        responses=refusals(*JSON_BODY, 404, 409),
    )
    def refund(order_id: OrderId, body: Refund) -> OrderOut:
        return OrderOut(
            **_call(
                lambda: orders.refund(
                    order_id, staff=body.staff, amount=body.amount_fen, receipt=body.receipt
                )
            )
        )

    return api
