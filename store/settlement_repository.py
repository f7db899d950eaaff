"""The settlement's repository (``core.settlement_ports.SettlementRepository``): plain SQL on the
unit of work's connection, rows read into ``core.settlement``'s dataclasses. It never commits.
Duplicates (a lot settled twice, a refund queued twice) are refused by the tables' unique keys:
the insert does nothing and says so."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from core.orders import OrderState, Purpose
from core.plates import PlateKind
from core.settlement import DepositRefund, RefundState, Settlement, SettlementState
from store.auction_tables import auction_shares, auction_signups
from store.order_tables import orders
from store.repositories import Scope
from store.settlement_tables import auction_refunds, auction_settlements

ST = auction_settlements.c
R = auction_refunds.c
O = orders.c  # noqa: E741 - the orders' columns
_SETTLEMENT_FIELDS = [c.name for c in auction_settlements.c if c.name != "id"]
# rows of one multi-row INSERT: within SQLite's limit of bound values (32,766) at 10 a row
_ROWS_PER_INSERT = 1000
_REFUND_FIELDS = [c.name for c in auction_refunds.c if c.name != "id"]


def _insert_new(connection: Connection, table: sa.Table, values: dict[str, Any]) -> int | None:
    """Insert unless a unique key has the row already (then None): ``ON CONFLICT DO NOTHING``."""
    dialect: Any = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(values).on_conflict_do_nothing().returning(table.c.id)
    return connection.execute(statement).scalar()


class SqlSettlementRepository:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    @property
    def _c(self) -> Connection:
        return self.scope.connection

    # -- settlements of sold lots ------------------------------------------------------------

    def add(self, settlement: Settlement) -> bool:
        values = {name: getattr(settlement, name) for name in _SETTLEMENT_FIELDS}
        settlement.id = _insert_new(self._c, auction_settlements, values)
        return settlement.id is not None

    def _one(self, *where: Any, lock: bool) -> Settlement | None:
        query = sa.select(auction_settlements).where(*where)
        row = self._c.execute(query.with_for_update() if lock else query).first()
        return None if row is None else Settlement(**row._mapping)

    def of_lot(self, lot_id: int, *, lock: bool = False) -> Settlement | None:
        return self._one(ST.lot_id == lot_id, lock=lock)

    def of_balance_order(self, order_id: int, *, lock: bool = False) -> Settlement | None:
        return self._one(ST.balance_order_id == order_id, lock=lock)

    def of_period(self, period_id: int) -> Sequence[Settlement]:
        query = sa.select(auction_settlements).where(ST.period_id == period_id).order_by(ST.id)
        return [Settlement(**row._mapping) for row in self._c.execute(query)]

    def save(self, settlement: Settlement) -> None:
        values = {name: getattr(settlement, name) for name in _SETTLEMENT_FIELDS}
        self._c.execute(sa.update(auction_settlements).where(ST.id == settlement.id).values(values))

    def awaiting(self, office_id: int, kind: PlateKind, serial: str) -> Settlement | None:
        return self._one(
            ST.office_id == office_id,
            ST.plate_kind == kind.value,
            ST.serial == serial,
            ST.state == SettlementState.AWAITING_BALANCE,
            lock=False,
        )

    def claim_untold(self, limit: int) -> Sequence[Settlement]:
        query = (
            sa.select(auction_settlements)
            .where(ST.state == SettlementState.AWAITING_BALANCE, ST.winner_told_at.is_(None))
            .order_by(ST.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [Settlement(**row._mapping) for row in self._c.execute(query)]

    def awaiting_serials(self, office_id: int, kind: PlateKind) -> set[str]:
        query = sa.select(ST.serial).where(
            ST.office_id == office_id,
            ST.plate_kind == kind.value,
            ST.state == SettlementState.AWAITING_BALANCE,
        )
        return set(self._c.execute(query).scalars())

    def release_share(self, share_id: int) -> None:
        SH = auction_shares.c  # noqa: N806 - a table's columns
        self._c.execute(sa.update(auction_shares).where(SH.id == share_id).values(live=False))

    # -- deposit orders and refunds ----------------------------------------------------------

    def _deposit_orders(self, signup_id: int, state: OrderState) -> list[int]:
        self.scope.session.flush()  # orders are ORM entities: their changes reach the rows first
        query = (
            sa.select(O.id)
            .where(
                O.purpose == Purpose.AUCTION_DEPOSIT,
                O.reference == f"signup:{signup_id}",
                O.state == state,
            )
            .order_by(O.id.desc())
        )
        return [int(value) for value in self._c.execute(query).scalars()]

    def deposit_order(self, signup_id: int) -> int | None:
        found = self._deposit_orders(signup_id, OrderState.PAID)
        return found[0] if found else None

    def paid_deposit_orders(self, signup_ids: Sequence[int]) -> dict[int, int]:
        if not signup_ids:
            return {}
        self.scope.session.flush()
        references = {f"signup:{signup_id}": signup_id for signup_id in signup_ids}
        query = (
            sa.select(O.reference, O.id)
            .where(
                O.purpose == Purpose.AUCTION_DEPOSIT,
                O.state == OrderState.PAID,
                O.reference.in_(list(references)),
            )
            .order_by(O.id)
        )
        return {
            references[reference]: int(order_id) for reference, order_id in self._c.execute(query)
        }

    def pending_deposit_orders(self, signup_id: int) -> Sequence[int]:
        return self._deposit_orders(signup_id, OrderState.PENDING)

    def add_refunds(self, refunds: Sequence[DepositRefund]) -> int:
        if not refunds:
            return 0
        dialect: Any = postgresql if self._c.dialect.name == "postgresql" else sqlite
        rows = [{name: getattr(refund, name) for name in _REFUND_FIELDS} for refund in refunds]
        added = 0
        for start in range(0, len(rows), _ROWS_PER_INSERT):
            chunk = rows[start : start + _ROWS_PER_INSERT]
            statement = dialect.insert(auction_refunds).values(chunk).on_conflict_do_nothing()
            added += int(self._c.execute(statement).rowcount)
        return added

    def held_deposit(self, order_id: int) -> int:
        query = sa.select(sa.func.coalesce(sa.func.sum(ST.deposit_fen), 0)).where(
            ST.deposit_order_id == order_id, ST.state == SettlementState.AWAITING_BALANCE
        )
        return int(self._c.execute(query).scalar_one())

    def refunds_of(self, signup_id: int) -> Sequence[DepositRefund]:
        query = sa.select(auction_refunds).where(R.signup_id == signup_id).order_by(R.id)
        return [DepositRefund(**row._mapping) for row in self._c.execute(query)]

    def refunds_of_period(self, period_id: int) -> Sequence[DepositRefund]:
        of_period = sa.select(auction_signups.c.id).where(auction_signups.c.period_id == period_id)
        query = sa.select(auction_refunds).where(R.signup_id.in_(of_period)).order_by(R.id)
        return [DepositRefund(**row._mapping) for row in self._c.execute(query)]

    def claim_due_refunds(self, limit: int) -> Sequence[DepositRefund]:
        query = (
            sa.select(auction_refunds)
            .where(R.state == RefundState.DUE)
            .order_by(R.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [DepositRefund(**row._mapping) for row in self._c.execute(query)]

    def save_refund(self, refund: DepositRefund, now: datetime) -> None:
        values = {
            "state": refund.state,
            "done_at": refund.done_at or now,
            "reference": refund.reference,
        }
        self._c.execute(sa.update(auction_refunds).where(R.id == refund.id).values(values))
