"""Staff work on orders (SPEC §5, §10): list them by state and by account, look one up, mark it
paid at the counter with the receipt number, refund it (whole or in part). Shared by the CLI and
the HTTP API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from core.clock import Clock, format_local
from core.orders import Cause, Order, OrderNotFound, OrderState
from core.payments import PaymentProvider, pay_at_counter, refund_order
from core.ports import UnitOfWork
from core.staff import Actor, Audit, Permission
from dialogs.money import format_yuan
from platebot.staff_acting import Acting

T = TypeVar("T")


def order_view(order: Order) -> dict[str, Any]:
    return {
        "id": order.id,
        "account_id": order.account_id,
        "purpose": order.purpose.value,
        "reference": order.reference,
        "subject": order.subject,
        "amount_fen": order.amount,
        "amount": format_yuan(order.amount),
        "state": order.state.value,
        "received_fen": order.received,
        "refunded_fen": order.refunded,
        "deadline": format_local(order.deadline),
        "paid_via": order.paid_via,
        "payment_ref": order.payment_ref,
    }


class StaffOrders(Acting):
    """Counter payments are counter work (clerks); refunds are a supervisor's. Both audited."""

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        clock: Clock,
        provider: PaymentProvider | None,
        actor: Actor | None = None,
    ) -> None:
        super().__init__(uow_factory, clock, actor)
        self.provider = provider

    def orders(
        self,
        *,
        state: OrderState | None = None,
        account_id: int | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> dict[str, Any]:
        """A page of orders, newest first, of one state and/or one account: ``orders``, and
        ``next_offset``, the offset of the next page (None on the last one)."""
        with self.uow_factory() as uow:
            found = uow.orders.listed(
                account_id=account_id,
                states=None if state is None else (state,),
                limit=limit + 1,
                offset=offset,
            )
            return {
                "orders": [order_view(order) for order in found[:limit]],
                "next_offset": offset + limit if len(found) > limit else None,
            }

    def order(self, order_id: int) -> dict[str, Any]:
        with self.uow_factory() as uow:
            order = uow.orders.get(order_id)
            if order is None:
                raise OrderNotFound(order=order_id)
            return order_view(order)

    def pay_at_counter(self, order_id: int, *, receipt: str, staff: str) -> dict[str, Any]:
        self.require(Permission.COUNTER)

        def run(uow: UnitOfWork) -> dict[str, Any]:
            order = pay_at_counter(
                uow, order_id=order_id, receipt=receipt, staff=staff, now=self.clock.now()
            )
            return order_view(order)

        return self._do(
            run, lambda v: Audit("order.counter_payment", f"#{order_id}", detail=receipt)
        )

    def refund(
        self, order_id: int, *, staff: str, amount: int | None = None, receipt: str | None = None
    ) -> dict[str, Any]:
        """``amount`` in fen (None: all the order holds); ``receipt`` for counter payments."""
        self.require(Permission.OFFICE)

        def run(uow: UnitOfWork) -> dict[str, Any]:
            order = refund_order(
                uow,
                self.provider,
                order_id=order_id,
                now=self.clock.now(),
                cause=Cause.STAFF,
                amount=amount,
                actor=staff,
                receipt=receipt,
            )
            return order_view(order)

        return self._do(
            run,
            lambda v: Audit(
                "order.refund", f"#{order_id}", detail=f"{v['refunded_fen']} fen refunded in all"
            ),
        )
