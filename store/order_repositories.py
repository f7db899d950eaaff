"""Repositories of orders and payment callbacks (protocols in ``core.order_ports``). They never
commit. Locked reads refresh what the session loaded earlier (see
``store.preselection_repositories``); the expiry claim skips rows another transaction holds."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from core.orders import Order, OrderMove, OrderState
from store.order_tables import order_moves, orders, payment_callbacks
from store.repositories import _insert

OC = orders.c


def _locked(query: sa.Select[Order], lock: bool) -> sa.Select[Order]:
    if not lock:
        return query
    return query.with_for_update().execution_options(populate_existing=True)


class SqlOrderRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, order: Order) -> None:
        self.session.add(order)
        self.session.flush()

    def get(self, order_id: int, *, lock: bool = False) -> Order | None:
        if not lock:
            return self.session.get(Order, order_id)
        return self.session.get(Order, order_id, with_for_update=True, populate_existing=True)

    def by_token(self, token: str, *, lock: bool = False) -> Order | None:
        query = _locked(sa.select(Order).where(OC.pay_token == token), lock)
        return self.session.scalars(query).one_or_none()

    def listed(
        self,
        *,
        account_id: int | None = None,
        states: Sequence[OrderState] | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> Sequence[Order]:
        query = (
            sa.select(Order)
            .order_by(OC.created_at.desc(), OC.id.desc())
            .limit(limit)
            .offset(offset)
        )
        if account_id is not None:
            query = query.where(OC.account_id == account_id)
        if states is not None:
            query = query.where(OC.state.in_(list(states)))
        return list(self.session.scalars(query))

    def claim_expired(self, now: datetime, limit: int) -> Sequence[Order]:
        query = (
            sa.select(Order)
            .where(OC.state == OrderState.PENDING, OC.deadline < now)
            .order_by(OC.deadline, OC.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )
        return list(self.session.scalars(query))

    def add_move(self, move: OrderMove) -> None:
        self.session.add(move)
        self.session.flush()

    def moves(self, order_id: int) -> Sequence[OrderMove]:
        c = order_moves.c
        query = sa.select(OrderMove).where(c.order_id == order_id).order_by(c.id)
        return list(self.session.scalars(query))


class SqlPaymentCallbackRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def digest_of(self, event_id: str) -> str | None:
        c = payment_callbacks.c
        digest = self.session.scalar(sa.select(c.digest).where(c.event_id == event_id))
        return None if digest is None else str(digest)

    def remember(self, event_id: str, order_id: int, digest: str, now: datetime) -> bool:
        inserted = self.session.execute(
            _insert(self.session, payment_callbacks)
            .values(event_id=event_id, order_id=order_id, digest=digest, received_at=now)
            .on_conflict_do_nothing(index_elements=["event_id"])
        )
        return bool(cast("CursorResult[Any]", inserted).rowcount)
