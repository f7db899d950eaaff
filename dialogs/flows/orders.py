"""My orders (SPEC §5): the signed-in user's unfinished orders, each with what it is for, the
amount, the deadline (China time), a link to pay it and a way to cancel it; and the finished ones
as history, a page at a time. Every purpose of an order (a plate purchase, an auction deposit or
balance, a reservation deposit) is shown the same way: this flow knows orders, not what they hold.

Someone not signed in is told how to sign in, and comes back here once they have.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any

from transitions import EventData

from core.clock import format_local
from core.errors import DomainError
from core.orders import Cause, Order, OrderNotFound, OrderNotPending, OrderState, Purpose
from core.payments import cancel_order
from dialogs.flow import BaseFlow, Turn, turn_of
from dialogs.money import format_yuan
from dialogs.replies import Choice, Link, Params, Reply, Text

# Unfinished orders a screen shows (each with its pay link), and finished ones a history page
# shows: an SMS page holds about two of either in Chinese.
PENDING_PAGE = 3
HISTORY_PAGE = 4
FINISHED = tuple(state for state in OrderState if state.finished)


class State(enum.Enum):
    LIST = enum.auto()
    CANCEL = enum.auto()
    HISTORY = enum.auto()
    SIGN_IN = enum.auto()


S = State


def shown_state(order: Order, turn: Turn) -> OrderState:
    """A pending order past its deadline is shown as expired (the timer expires it soon)."""
    if order.state is OrderState.PENDING and order.past_deadline(turn.now):
        return OrderState.EXPIRED
    return order.state


# What cancelling an order gives up besides the order, said before it is confirmed.
_CANCELLING = {
    Purpose.AUCTION_BALANCE: "orders.cancel_gives_up_plate",
    Purpose.AUCTION_DEPOSIT: "orders.cancel_gives_up_signup",
    Purpose.RESERVATION_DEPOSIT: "orders.cancel_gives_up_reservation",
}


def _about(order: Order) -> Params:
    return {
        "id": order.id or 0,
        "subject": order.subject,
        "purpose_key": f"order.purpose.{order.purpose.value}",
        "amount": format_yuan(order.amount),
    }


class OrdersFlow(BaseFlow):
    """My orders: pay or cancel what is unfinished; read the history."""

    name = "orders"
    State = State
    help_key = "help.orders"

    def transitions(self) -> list[dict[str, Any]]:
        return [
            {"trigger": "cancel", "source": S.LIST, "dest": S.CANCEL, "before": self.take_order},
            {"trigger": "confirm", "source": S.CANCEL, "dest": S.LIST, "before": self.cancel},
            {"trigger": "keep", "source": S.CANCEL, "dest": S.LIST, "before": self.first_page},
            {"trigger": "history", "source": S.LIST, "dest": S.HISTORY, "before": self.first_page},
            {"trigger": "pending", "source": S.HISTORY, "dest": S.LIST, "before": self.first_page},
            {"trigger": "more", "source": [S.LIST, S.HISTORY], "dest": None, "before": self.next},
            {"trigger": "register", "source": S.SIGN_IN, "dest": None, "before": self.sign_in},
            {"trigger": "menu", "source": list(S), "dest": None, "before": self.to_menu},
        ]

    def entry(self, turn: Turn) -> enum.Enum:
        return S.LIST if turn.registered else S.SIGN_IN

    # -- what the user does ------------------------------------------------------------------

    def first_page(self, event: EventData) -> None:
        turn_of(event).data["page"] = 0

    def next(self, event: EventData) -> None:
        """The next page (after the last one, the first again)."""
        data = turn_of(event).data
        data["page"] = int(data.get("page", 0)) + 1

    def take_order(self, event: EventData) -> None:
        """Cancel which order: the user's own, still waiting for payment."""
        turn = turn_of(event)
        order = self._own(turn, int(str(event.kwargs.get("arg", "0"))))
        if shown_state(order, turn) is not OrderState.PENDING:
            raise OrderNotPending(state_key=f"order.state.{shown_state(order, turn).value}")
        turn.data["order"] = order.id

    def cancel(self, event: EventData) -> None:
        """Give the order up; what it held is released by its holder (``OrderCancelled``)."""
        turn = turn_of(event)
        order_id = int(turn.data.get("order", 0))
        turn.data["page"] = 0
        try:
            cancel_order(
                turn.uow,
                order_id=order_id,
                now=turn.now,
                cause=Cause.USER,
                account_id=turn.conversation.account_id,
            )
        except OrderNotPending as error:  # paid or expired meanwhile: say so, show the list
            state = str(error.params.get("state", ""))
            turn.note("error.order.not_pending", state_key=f"order.state.{state}")
            return
        except DomainError as error:
            turn.note(f"error.{error.code}", **error.params)
            return
        turn.note("orders.cancelled", id=order_id)

    def sign_in(self, event: EventData) -> None:
        """Register or sign in, then back to My orders."""
        turn = turn_of(event)
        turn.conversation.returns.append(self.name)
        turn.go("register")

    def to_menu(self, event: EventData) -> None:
        turn_of(event).go("menu")

    def _own(self, turn: Turn, order_id: int) -> Order:
        order = turn.uow.orders.get(order_id)
        if order is None or order.account_id != turn.conversation.account_id:
            raise OrderNotFound(order=order_id)
        return order

    # -- screens -------------------------------------------------------------------------------

    def prompt(self, turn: Turn) -> Reply:
        if turn.state is S.SIGN_IN or not turn.registered:
            return Reply(
                lines=(Text("orders.sign_in"),),
                choices=(
                    Choice("register", Text("menu.register")),
                    Choice("menu", Text("menu.back")),
                ),
            )
        if turn.state is S.CANCEL:
            return self._confirm(turn)
        if turn.state is S.HISTORY:
            return self._history(turn)
        return self._pending(turn)

    def _page(
        self, turn: Turn, size: int, states: Sequence[OrderState], other: Choice
    ) -> tuple[list[Order], tuple[Choice, ...]]:
        """A page of the account's orders in ``states`` (newest first; past the last page, the
        first again) and the choices under it: the next page when there is more, ``other`` (the
        other list) and the main menu."""
        account_id = turn.conversation.account_id
        page = int(turn.data.get("page", 0))
        found = turn.uow.orders.listed(
            account_id=account_id, states=states, limit=size + 1, offset=page * size
        )
        if not found and page > 0:
            turn.data["page"] = 0
            found = turn.uow.orders.listed(account_id=account_id, states=states, limit=size + 1)
        more = (Choice("more", Text("orders.more")),) if len(found) > size or page > 0 else ()
        return list(found[:size]), (*more, other, Choice("menu", Text("menu.back")))

    def _pending(self, turn: Turn) -> Reply:
        history = Choice("history", Text("orders.history"))
        orders, footer = self._page(turn, PENDING_PAGE, (OrderState.PENDING,), history)
        orders = [order for order in orders if shown_state(order, turn) is OrderState.PENDING]
        if not orders:
            return _empty("orders.none_pending", footer)
        lines = [Text("orders.pending_title")]
        links: list[Link] = []
        payments = turn.services.payments
        for order in orders:
            lines.append(
                Text(
                    "orders.pending_line",
                    {**_about(order), "deadline": format_local(order.deadline)},
                )
            )
            if payments is not None:
                links.append(
                    Link(Text("orders.pay", {"id": order.id or 0}), payments.pay_url(order))
                )
        cancels = tuple(
            Choice(f"cancel:{order.id}", Text("orders.cancel", {"id": order.id or 0}))
            for order in orders
        )
        return Reply(
            lines=(*lines, Text("orders.pick")),
            choices=(*cancels, *footer),
            links=tuple(links),
        )

    def _confirm(self, turn: Turn) -> Reply:
        order = turn.uow.orders.get(int(turn.data.get("order", 0)))
        if order is None:  # pragma: no cover - taken from the user's own list
            return Reply(
                lines=(Text("error.order.not_found"),),
                choices=(Choice("keep", Text("orders.keep")),),
            )
        lines = [Text("orders.confirm_cancel", _about(order))]
        consequence = _CANCELLING.get(order.purpose)
        if consequence is not None:  # what else is given up with it
            lines.append(Text(consequence))
        return Reply(
            lines=tuple(lines),
            choices=(
                Choice("confirm", Text("orders.confirm")),
                Choice("keep", Text("orders.keep")),
            ),
        )

    def _history(self, turn: Turn) -> Reply:
        to_pay = Choice("pending", Text("orders.to_pay"))
        orders, footer = self._page(turn, HISTORY_PAGE, FINISHED, to_pay)
        if not orders:
            return _empty("orders.no_history", footer)
        lines = [Text("orders.history_title")]
        for order in orders:
            params: Params = {
                **_about(order),
                "state_key": f"order.state.{order.state.value}",
                "when": format_local(order.ended_at or order.created_at),
            }
            if order.state is OrderState.PAID and order.refunded:
                params["refunded"] = format_yuan(order.refunded)
                lines.append(Text("orders.history_line_refunded", params))
            else:
                lines.append(Text("orders.history_line", params))
        return Reply(lines=(*lines, Text("orders.pick")), choices=footer)


def _empty(key: str, footer: tuple[Choice, ...]) -> Reply:
    return Reply(lines=(Text(key), Text("orders.pick")), choices=footer)
