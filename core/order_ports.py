"""Repositories of orders, their ledger and the payment callbacks seen, as protocols.
``store/order_repositories.py`` implements them; the unit of work carries one of each."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from core.orders import Order, OrderMove, OrderState


class OrderRepository(Protocol):
    def add(self, order: Order) -> None:
        """Store a new order; it gets its id."""
        ...

    def get(self, order_id: int, *, lock: bool = False) -> Order | None:
        """``lock``: row-locked until the transaction ends, and read afresh."""
        ...

    def by_token(self, token: str, *, lock: bool = False) -> Order | None: ...
    def listed(
        self,
        *,
        account_id: int | None = None,
        states: Sequence[OrderState] | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> Sequence[Order]:
        """Newest first; ``offset``: skip that many (a later page)."""
        ...

    def claim_expired(self, now: datetime, limit: int) -> Sequence[Order]:
        """Pending orders past their deadline, locked; orders another transaction has locked
        are skipped (it is expiring, paying or cancelling them)."""
        ...

    def add_move(self, move: OrderMove) -> None: ...
    def moves(self, order_id: int) -> Sequence[OrderMove]:
        """The order's ledger, oldest first."""
        ...


class PaymentCallbackRepository(Protocol):
    def digest_of(self, event_id: str) -> str | None:
        """The body digest of the callback with this gateway event id, if one was taken."""
        ...

    def remember(self, event_id: str, order_id: int, digest: str, now: datetime) -> bool:
        """Note a callback as taken; False if its event id was taken already."""
        ...
