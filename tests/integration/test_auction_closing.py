"""Closing lots (issue 14 item 7): in a timer lane of their own, so a lot never waits behind
other timers, and once, with its settlement once, when two server processes run the timers."""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections import Counter
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.auctions import YUAN, LotState
from core.bidding import AUCTION_LANE
from core.orders import OrderState, Purpose
from core.settlement import REFUND_LANE, RefundState
from platebot.bootstrap import App
from store.order_tables import orders
from store.preselection_tables import guides
from store.settlement_tables import auction_settlements
from tests.auction_world import START_PRICE, AuctionWorld
from tests.settlement_world import SettlementWorld, close_in_process
from web.workers import JobThread

K = 1_000 * YUAN


def test_lots_close_in_a_timer_lane_of_their_own(app: App, db: Engine) -> None:
    lanes = dict(app.jobs)
    assert {"timers", AUCTION_LANE, REFUND_LANE} <= lanes.keys()
    world = AuctionWorld(db)
    period = world.period()
    lot = world.lot(period, "88888")
    app.clock.set(world.starts_at + timedelta(minutes=6))  # type: ignore[attr-defined]
    stuck, may_finish = threading.Event(), threading.Event()

    def busy_timers() -> int:  # a long batch of expiries, lapses, …
        stuck.set()
        may_finish.wait(10)
        return 0

    jobs = JobThread([("timers", busy_timers), (AUCTION_LANE, lanes[AUCTION_LANE])], interval=0.05)
    jobs.start()
    try:
        assert stuck.wait(5)
        deadline = time.monotonic() + 5
        while world.lot_now(lot).state is LotState.OPEN and time.monotonic() < deadline:
            time.sleep(0.02)
        assert world.lot_now(lot).state is LotState.UNSOLD, "closed while the other timers ran"
    finally:
        may_finish.set()
        jobs.stop()


def test_two_server_processes_close_each_lot_once_and_settle_it_once(db: Engine) -> None:
    world = SettlementWorld(db)
    period = world.period()
    lots = [world.lot(period, f"{88800 + n}") for n in range(10)]
    winners = [world.paid_bidder(period) for _ in range(4)]
    loser = world.paid_bidder(period)
    world.start()
    world.bid(loser, lots[0], amount=START_PRICE)
    for winner, lot in zip(winners, lots, strict=False):
        world.bid(winner, lot, amount=START_PRICE + (K if lot == lots[0] else 0))
    now = world.starts_at + timedelta(minutes=6)
    url = db.url.render_as_string(hide_password=False)
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(2)
    workers = [
        context.Process(target=close_in_process, args=(url, now, start, 3)) for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    with db.connect() as conn:
        closes = Counter(conn.execute(sa.select(guides.c.title)).scalars())
        settled = conn.execute(sa.select(auction_settlements.c.lot_id)).scalars().all()
        balances = conn.execute(
            sa.select(orders.c.reference).where(orders.c.purpose == Purpose.AUCTION_BALANCE)
        ).scalars()
        balance_refs = sorted(balances)
    assert closes == {f"closed {lot}": 1 for lot in lots}, "a lot closed twice, or not at all"
    assert sorted(settled) == sorted(lots[:4])
    assert balance_refs == sorted(f"lot:{lot}" for lot in lots[:4])
    assert [r.state for r in world.refunds(loser.signup_id)] == [RefundState.DONE]
    refunded = world.order(loser.deposit_order_id)
    assert (refunded.state, refunded.refunded) == (OrderState.REFUNDED, refunded.amount)
