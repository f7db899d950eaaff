"""Bidding decided by the database: bidders in threads of two processes on PostgreSQL, each
process bidding through its bid desk (``core.bid_desk``) as a server process does, keep every
invariant of the lots' trails, and two runners of the timers close each lot once."""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bench.auction_load import Load, check_invariants, ready, run_load
from core import auction_errors as errors
from core import bidding
from core.auctions import YUAN, LotState
from core.bidding import LotClosed
from core.clock import ManualClock
from core.events import EventBus
from store.auction_tables import auction_bids, auction_lots
from store.db import create_engine
from store.uow import UnitOfWorkFactory
from tests.auction_world import START_PRICE, AuctionWorld

INCREMENTS = (1_000 * YUAN, 2_000 * YUAN, 3_000 * YUAN)


@contextmanager
def engine_of_its_own(db: Engine) -> Iterator[Engine]:
    """An engine on the same database: the extra connections do not stay in the pool of the
    engine the other tests share."""
    engine = create_engine(db.url.render_as_string(hide_password=False))
    try:
        yield engine
    finally:
        engine.dispose()


def test_concurrent_bidders_in_two_processes_keep_every_invariant(db: Engine) -> None:
    if db.dialect.name != "postgresql":
        pytest.skip("several processes bidding at once need PostgreSQL")
    world = AuctionWorld(db)
    period = world.period(bid_countdown_s=1, opening_countdown_s=3, increments_fen=INCREMENTS)
    lots = tuple(world.lot(period, serial) for serial in ("88888", "66666", "99999"))
    bidders = []
    for n in range(24):
        bidder = world.bidder(period, shares=2 if n % 4 == 0 else 1)
        bidders += [(bidder.signup_id, share) for share in bidder.share_ids]
    world.start()
    pool = multiprocessing.get_context("spawn").Pool(2)
    assert pool.map(ready, range(2)) == [True, True]
    wall0 = time.time() + 0.2
    loads = [
        Load(
            url=db.url.render_as_string(hide_password=False),
            lot_ids=lots,
            bidders=tuple(bidders),
            increments=INCREMENTS,
            seconds=1.5,
            threads=3,
            base=world.starts_at,
            wall0=wall0,
            seed=seed,
            maxima=0.1,
        )
        for seed in (1, 2)
    ]
    with pool:
        results = pool.map(run_load, loads)
    accepted = sum(r.accepted for r in results)
    assert accepted > 10, "the bidders got bids in"
    assert sum(r.maxima for r in results) > 0, "and set maxima"
    assert sum(sum(r.refused.values()) for r in results) > 0
    assert sum(sum(r.errors.values()) for r in results) == 0
    assert sum(r.desk_bids for r in results) == accepted + sum(
        sum(n for code, n in r.refused.items() if not code.startswith("maximum")) for r in results
    ), "every bid went through the processes' desks"
    # every bid is in (the pool has returned): past the last deadline, by the shared clock
    world.clock.set(world.starts_at + timedelta(seconds=time.time() - wall0 + 3))
    assert world.close_due() == len(lots)
    assert check_invariants(db, list(lots)) == []
    with db.connect() as conn:
        automatic = conn.execute(
            sa.select(sa.func.count()).where(auction_bids.c.automatic.is_(True))
        ).scalar_one()
    assert automatic > 0, "maxima answered bids meanwhile"
    assert {world.lot_now(lot).state for lot in lots} <= {LotState.SOLD, LotState.UNSOLD}


def test_two_runners_of_the_timers_close_each_lot_once(db: Engine) -> None:
    world = AuctionWorld(db)
    period = world.period()
    lots = [world.lot(period, f"{88800 + n}") for n in range(12)]
    bidder = world.bidder(period)
    world.start()
    assert world.bid(bidder, lots[0], amount=START_PRICE)
    clock = ManualClock(world.starts_at + timedelta(minutes=6))
    closed: list[int] = []
    ready = threading.Barrier(2)

    def runner() -> None:
        bus = EventBus()
        bus.subscribe(LotClosed, lambda _uow, event: closed.append(event.lot_id))
        with engine_of_its_own(db) as engine:  # as another server process's
            factory = UnitOfWorkFactory(engine, bus=bus)
            ready.wait()
            while True:
                with factory() as uow:  # a small batch: the two runners interleave
                    done = bidding.close_due_lots(uow, clock.now(), 2)
                    uow.commit()
                if done == 0:
                    return

    threads = [threading.Thread(target=runner) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(closed) == sorted(lots)
    assert world.lot_now(lots[0]).state is LotState.SOLD


def test_a_bid_below_what_the_lot_asks_is_refused_without_waiting_for_the_lot(
    db: Engine,
) -> None:
    if db.dialect.name != "postgresql":
        pytest.skip("SQLite runs one transaction at a time")
    world = AuctionWorld(db)
    period = world.period()
    lot = world.lot(period, "88888")
    alice, bob = world.bidder(period), world.bidder(period)
    world.start()
    world.bid(alice, lot, amount=START_PRICE)
    outcomes: list[object] = []
    # another transaction holds the lot, as a bid in flight does
    with engine_of_its_own(db) as other, other.connect() as holder:
        holder.execute(
            sa.select(auction_lots.c.id)
            .where(auction_lots.c.id == lot)
            .with_for_update(key_share=True)
        )
        stale = threading.Thread(
            target=lambda: outcomes.append(world.bid(bob, lot, amount=START_PRICE))
        )
        stale.start()
        stale.join(timeout=10)
        waited = stale.is_alive()
        holder.rollback()
    stale.join()
    assert not waited
    assert isinstance(outcomes[0], errors.BidTooLow)
    assert [r.refusal for r in world.trail(lot)] == [None, "auction.bid_too_low"]
