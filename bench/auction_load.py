"""Many bidders at once, and the invariants their stored bids must keep: shared by the hot-lot
benchmark (``bench/hot_lot.py``) and the concurrency test of bidding
(``tests/integration/test_auction_concurrency.py``).

The bidders run in threads of several processes, as server processes would run them: each
process has its bid desk (``core.bid_desk.BidDesk``), through which its threads' bids on a lot
are decided together, a batch a transaction (``core.bidding.decide_bids``); without the desk
(``Load.desk`` false) each bid is a transaction of its own (``core.bidding.place_bid``).
Every process reads the same clock: a fixed instant (the world's, set up with a manual clock)
moved on by the system's real-time clock, which all processes of the machine share, so that
the stored times of bids from different processes can be compared.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core import bidding
from core.auctions import LotState
from core.bid_desk import BidDesk
from core.bidding import BidRequest, BidResult
from core.errors import DomainError
from store.auction_tables import auction_bids, auction_lots, auction_periods
from store.db import create_engine
from store.uow import UnitOfWorkFactory


class SharedClock:
    """``base`` plus the real time passed since ``wall0`` (``time.time()``, the same in every
    process of the machine): times move on as they really do, from the world's fixed date."""

    def __init__(self, base: datetime, wall0: float) -> None:
        self.base = base
        self.wall0 = wall0

    def now(self) -> datetime:
        return self.base + timedelta(seconds=time.time() - self.wall0)


@dataclass(frozen=True)
class Load:
    """What one process does: ``threads`` threads bid for ``seconds`` on random lots of
    ``lot_ids`` as random bidders of ``bidders`` (signup id, share id), by a random allowed
    increment, or half the time at the amount of the last price the thread saw plus one (a
    screen that may be out of date, as a user's is)."""

    url: str
    lot_ids: tuple[int, ...]
    bidders: tuple[tuple[int, int], ...]
    increments: tuple[int, ...]
    seconds: float
    threads: int
    base: datetime
    wall0: float  # when the bidding starts (``time.time()``), at ``base`` by the shared clock
    seed: int
    maxima: float = 0.0  # the share of actions that set a maximum instead of bidding
    desk: bool = True  # bids through the process's bid desk (else a transaction a bid)


def ready(_: object = None) -> bool:
    """A first task for a pool's processes: they have imported everything once it returns."""
    return True


@dataclass
class LoadResult:
    accepted: int = 0
    maxima: int = 0  # maxima set
    refused: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)  # seconds, one per bid decision
    errors: Counter[str] = field(default_factory=Counter)
    batches: int = 0  # transactions the desk ran (bids / batches: the mean batch)
    desk_bids: int = 0
    cpu_s: float = 0.0  # CPU time of the process while it bid (``time.process_time``)


def run_load(load: Load) -> LoadResult:
    """Run in a process of its own (``multiprocessing``'s spawn): returns what happened."""
    engine = create_engine(load.url, pool_size=load.threads, max_overflow=0)
    factory = UnitOfWorkFactory(engine)
    clock = SharedClock(load.base, load.wall0)
    desk = BidDesk(factory, clock) if load.desk else None
    results = [LoadResult() for _ in range(load.threads)]
    time.sleep(max(0.0, load.wall0 - time.time()))  # every process starts bidding together
    stop_at = load.wall0 + load.seconds
    threads = [
        threading.Thread(
            target=_bid_until,
            args=(load, results[n]),
            kwargs={
                "factory": factory,
                "desk": desk,
                "clock": clock,
                "stop_at": stop_at,
                "rng": random.Random(load.seed * 100 + n),
            },
        )
        for n in range(load.threads)
    ]
    cpu0 = time.process_time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cpu = time.process_time() - cpu0
    engine.dispose()
    total = LoadResult(cpu_s=cpu)
    if desk is not None:
        total.batches, total.desk_bids = desk.stats.batches, desk.stats.bids
    for result in results:
        total.accepted += result.accepted
        total.maxima += result.maxima
        total.refused.update(result.refused)
        total.latencies.extend(result.latencies)
        total.errors.update(result.errors)
    return total


def _bid_until(
    load: Load,
    result: LoadResult,
    *,
    factory: UnitOfWorkFactory,
    desk: BidDesk | None,
    clock: SharedClock,
    stop_at: float,
    rng: random.Random,
) -> None:
    seen: dict[int, int] = {}  # lot -> the last price this thread saw
    while time.time() < stop_at:
        lot_id = rng.choice(load.lot_ids)
        signup_id, share_id = rng.choice(load.bidders)
        increment = rng.choice(load.increments)
        if rng.random() < load.maxima:
            ceiling = seen.get(lot_id, 0) + rng.randint(1, 6) * min(load.increments)
            _set_maximum(factory, clock, result, (signup_id, share_id, lot_id, ceiling))
            continue
        amount = seen[lot_id] + increment if lot_id in seen and rng.random() < 0.5 else None
        request = BidRequest(
            signup_id=signup_id,
            share_id=share_id,
            amount_fen=amount,
            increment_fen=None if amount is not None else increment,
        )
        began = time.perf_counter()
        try:
            outcome = _decide(factory, desk, clock, lot_id, request)
        except sa.exc.DBAPIError as error:  # counted: the invariants say whether it mattered
            result.errors[type(error.orig).__name__] += 1
            continue
        result.latencies.append(time.perf_counter() - began)
        if isinstance(outcome, DomainError):
            result.refused[outcome.code] += 1
            minimum = outcome.params.get("minimum")
            if isinstance(minimum, int):
                seen[lot_id] = minimum - min(load.increments)
        else:
            result.accepted += 1
            seen[lot_id] = outcome.price_fen


def _decide(
    factory: UnitOfWorkFactory,
    desk: BidDesk | None,
    clock: SharedClock,
    lot_id: int,
    request: BidRequest,
) -> BidResult | DomainError:
    """A bid's outcome, committed: through the desk, or in a transaction of its own."""
    if desk is not None:
        return desk.submit(lot_id, request)
    with factory() as uow:
        (outcome,) = bidding.decide_bids(uow, clock=clock, lot_id=lot_id, requests=[request])
        uow.commit()
    return outcome


def _set_maximum(
    factory: UnitOfWorkFactory,
    clock: SharedClock,
    result: LoadResult,
    what: tuple[int, int, int, int],
) -> None:
    signup_id, share_id, lot_id, ceiling = what
    try:
        with factory() as uow:
            try:
                bidding.set_maximum(
                    uow,
                    clock=clock,
                    signup_id=signup_id,
                    lot_id=lot_id,
                    share_id=share_id,
                    max_fen=ceiling,
                )
            except DomainError as refusal:
                result.refused[f"maximum: {refusal.code}"] += 1
            else:
                uow.commit()
                result.maxima += 1
    except sa.exc.DBAPIError as error:
        result.errors[type(error.orig).__name__] += 1


def check_invariants(engine: Engine, lot_ids: list[int]) -> list[str]:
    """What the stored bids and lots must show; each violation in words (none: an empty list).

    - the price rises strictly, by an allowed increment each time (the first bid at least the
      starting price), and each accepted bid's ``price_before`` is the price it raised;
    - exactly one leader at any time: accepted bids are numbered 1, 2, … without a gap or a
      repeat (a unique key), and nobody follows their own bid;
    - no accepted bid at or after the deadline in force, which is the opening countdown from
      the start, then each accepted bid's time plus the bid countdown;
    - no VIN leads two lots at once (from its bid until the next accepted bid on that lot, or
      the close);
    - a closed lot is sold to the last bidder at the last price at the deadline, or unsold
      without bids.
    """
    found: list[str] = []
    leading: dict[int, list[tuple[datetime, datetime | None, int]]] = {}  # share -> spans
    with engine.connect() as conn:
        for lot_id in lot_ids:
            lot = conn.execute(
                sa.select(auction_lots, auction_periods.c.increments_fen)
                .add_columns(
                    auction_periods.c.opening_countdown_s, auction_periods.c.bid_countdown_s
                )
                .join(auction_periods, auction_periods.c.id == auction_lots.c.period_id)
                .where(auction_lots.c.id == lot_id)
            ).one()
            bids = conn.execute(
                sa.select(auction_bids)
                .where(auction_bids.c.lot_id == lot_id, auction_bids.c.accepted.is_(True))
                .order_by(auction_bids.c.seq)
            ).all()
            found += _check_lot(lot._mapping, [b._mapping for b in bids], leading)
    for share_id, spans in leading.items():
        spans.sort(key=lambda span: span[0])
        for (_s1, end, lot_a), (start, _e2, lot_b) in itertools.pairwise(spans):
            if end is None or end > start:
                found.append(f"VIN of share {share_id} led lots {lot_a} and {lot_b} at once")
    return found


def _check_lot(
    lot: Any, bids: list[Any], leading: dict[int, list[tuple[datetime, datetime | None, int]]]
) -> list[str]:
    found: list[str] = []
    lot_id = lot["id"]
    increments = set(lot["increments_fen"])
    countdown = timedelta(seconds=lot["bid_countdown_s"])
    deadline = lot["opens_at"] + timedelta(seconds=lot["opening_countdown_s"])
    price: int | None = None
    leader: int | None = None
    last_at = lot["opens_at"]
    for number, bid in enumerate(bids, start=1):
        where = f"lot {lot_id} bid {bid['seq']}"
        if bid["seq"] != number:
            found.append(f"{where}: numbered {bid['seq']}, expected {number}")
        amount = bid["amount_fen"]
        if price is None and amount < lot["starting_price_fen"]:
            found.append(f"{where}: first bid {amount} below the starting price")
        if price is not None and amount - price not in increments:
            found.append(f"{where}: {amount} after {price} is not an allowed increment")
        if bid["price_before"] != price:
            found.append(f"{where}: raised {bid['price_before']}, the price was {price}")
        if bid["signup_id"] == leader:
            found.append(f"{where}: the leader raised their own bid")
        if not last_at <= bid["placed_at"] < deadline:
            found.append(f"{where}: at {bid['placed_at']}, deadline in force {deadline}")
        if bid["deadline_before"] != deadline:
            found.append(f"{where}: decided against deadline {bid['deadline_before']}")
        if leader is not None:
            _end_span(leading, bids[number - 2]["share_id"], bid["placed_at"])
        leading.setdefault(bid["share_id"], []).append((bid["placed_at"], None, lot_id))
        price, leader, last_at = amount, bid["signup_id"], bid["placed_at"]
        deadline = bid["placed_at"] + countdown
    state = LotState(lot["state"])
    if state is LotState.OPEN:
        return found
    if bids:
        _end_span(leading, bids[-1]["share_id"], None)  # a won VIN leads for good
    expected = (LotState.SOLD, price, leader, deadline) if bids else (LotState.UNSOLD, None, None)
    stored = (state, lot["price_fen"], lot["leader_signup_id"], lot["closed_at"])
    if stored[: len(expected)] != expected:
        found.append(f"lot {lot_id}: closed as {stored}, expected {expected}")
    return found


def _end_span(
    leading: dict[int, list[tuple[datetime, datetime | None, int]]],
    share_id: int,
    end: datetime | None,
) -> None:
    start, _end, lot_id = leading[share_id][-1]
    if end is not None:
        leading[share_id][-1] = (start, end, lot_id)
