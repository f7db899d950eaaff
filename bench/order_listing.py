"""Staff order listings on a large table: a page of orders by state, newest first, as
``platebot staff order list --state …`` and ``GET /staff/api/orders?state=…`` ask for it.

    python -m bench.order_listing [--database-url postgresql://…] [--orders 200000] [--runs 30]
        [--without-index]

Fills a scratch database (PostgreSQL: a database made on that server and dropped afterwards;
default: a temporary SQLite file) with ``--orders`` orders of one account in the states a busy
office has (most finished, one in eight pending), then times ``StaffOrders.orders`` (one
transaction, the rows mapped and shown as the API shows them) for a first page of 100 by each
of ``pending`` and ``paid``, and for the 50th page of ``paid``. ``--without-index`` drops
``ix_orders_state_created`` first, to see what it is for.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.accounts import Account, AccountKind, Category, Language
from core.clock import SystemClock
from core.orders import OrderState
from platebot.staff_orders import StaffOrders
from store import migrate
from store.db import create_engine, scratch_database
from store.order_tables import orders
from store.uow import UnitOfWorkFactory

STATES = ["paid", "expired", "cancelled", "refunded", "paid", "expired", "paid", "pending"]


@contextmanager
def database(url: str | None) -> Iterator[Engine]:
    if url is not None:
        with scratch_database(url, "bench_orders") as engine:
            yield engine
        return
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(f"sqlite:///{Path(folder) / 'orders.db'}")
        try:
            yield engine
        finally:
            engine.dispose()


def fill(engine: Engine, count: int) -> None:
    uow = UnitOfWorkFactory(engine)
    now = SystemClock().now()
    with uow() as work:
        owner = Account(
            kind=AccountKind.PERSON,
            phone="+8613800138000",
            name="张三",
            id_number="110101199003077777",
            region_code="4405",
            address="汕头市",
            category=Category.NEW_CAR_OWNER,
            language=Language.ZH,
            created_at=now,
        )
        work.accounts.add(owner)
        work.commit()
    rows = [
        {
            "account_id": owner.id,
            "purpose": "plate_purchase",
            "reference": f"listing:{n}",
            "subject": "粤D·A1234",
            "amount": 100,
            "currency": "CNY",
            "state": STATES[n % len(STATES)],
            "received": 0,
            "refunded": 0,
            "created_at": now - timedelta(seconds=count - n),  # one a second, the last now
            "deadline": now - timedelta(seconds=count - n - 1800),
            "pay_token": f"t{n}",
        }
        for n in range(count)
    ]
    with engine.begin() as conn:
        for start in range(0, count, 10_000):
            conn.execute(sa.insert(orders), rows[start : start + 10_000])
    with engine.begin() as conn:
        conn.execute(
            sa.text("ANALYZE orders" if engine.dialect.name == "postgresql" else "ANALYZE")
        )


def timed(staff: StaffOrders, runs: int, state: OrderState, offset: int) -> tuple[float, float]:
    took = []
    for _ in range(runs):
        start = time.perf_counter()
        staff.orders(state=state, limit=100, offset=offset)
        took.append((time.perf_counter() - start) * 1000)
    took.sort()
    return took[len(took) // 2], took[int(len(took) * 0.9)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--without-index", action="store_true")
    args = parser.parse_args()
    with database(args.database_url) as engine:
        migrate.upgrade(engine)
        if args.without_index:
            with engine.begin() as conn:
                conn.execute(sa.text("DROP INDEX ix_orders_state_created"))
        fill(engine, args.orders)
        staff = StaffOrders(UnitOfWorkFactory(engine), SystemClock(), None)
        print(f"{engine.dialect.name}, {args.orders:,} orders, index: {not args.without_index}")
        for state, offset in (
            (OrderState.PENDING, 0),
            (OrderState.PAID, 0),
            (OrderState.PAID, 4900),
        ):
            p50, p90 = timed(staff, args.runs, state, offset)
            print(f"{state.value:8} page at {offset:5}: p50 {p50:6.2f} ms  p90 {p90:6.2f} ms")


if __name__ == "__main__":
    main()
