"""Order expiry run by two server processes at once: each expired order is released once."""

from __future__ import annotations

import multiprocessing
from collections import Counter
from datetime import timedelta

import sqlalchemy as sa

from core.clock import ManualClock
from core.orders import OrderState
from platebot.bootstrap import App
from store.order_tables import orders
from store.preselection_tables import guides
from tests.order_world import account, expire_in_process, pending_order

ORDERS = 40


def test_two_processes_expiring_orders_release_each_exactly_once(
    app: App, clock: ManualClock
) -> None:
    owner = account(app)
    for n in range(ORDERS):
        pending_order(app, owner, reference=f"listing:{n}")
    clock.advance(timedelta(minutes=31))
    url = app.db.url.render_as_string(hide_password=False)
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(2)
    workers = [
        context.Process(target=expire_in_process, args=(url, clock.now(), start, 3))
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    with app.db.connect() as conn:
        states = Counter(conn.execute(sa.select(orders.c.state)).scalars())
        released = Counter(conn.execute(sa.select(guides.c.title)).scalars())
    assert states == {OrderState.EXPIRED: ORDERS}
    assert len(released) == ORDERS
    assert set(released.values()) == {1}, "an order was released twice"
