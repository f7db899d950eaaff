"""A hot lot on PostgreSQL: many bidders on one lot in its last minutes.

    python -m bench.hot_lot                       # 2,000 bidders, 2 processes × 16 threads, 20 s
    python -m bench.hot_lot --seconds 60 --threads 8 --database-url postgresql://…

A scratch database (made on the server of ``--database-url``, dropped afterwards) gets an
office, a period with one lot and ``--bidders`` signups whose deposits are paid, all through
the use cases. Then ``--processes`` processes of ``--threads`` threads each bid on the lot
through their process's bid desk (``core.bid_desk``: the bids waiting for the lot decided
together, a batch a transaction; ``--no-desk``: one transaction a bid, through
``core.bidding.place_bid``'s batch of one) for ``--seconds`` seconds, with a
bid countdown of ``--countdown`` seconds: half the bids raise the current price by a random
allowed increment, half name an amount from the last price their thread saw (stale, as a
user's screen can be, so some are refused). Once the last deadline has passed the lot is
closed by the timer step, and the invariants are checked over the stored bids
(``bench.auction_load.check_invariants``). See bench/README.md for figures.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from bench.auction_load import (
    Load,
    LoadResult,
    SharedClock,
    check_invariants,
    ready,
    run_load,
)
from core import auctions, bidding, office_admin
from core.accounts import Account, Category, Language, PersonDetails
from core.auctions import YUAN, Lot
from core.clock import ManualClock
from core.plates import PlateKind
from core.registry import vin_check_digit
from store import migrate
from store.db import scratch_database
from store.uow import UnitOfWorkFactory

BASE = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
START_PRICE = 10_000 * YUAN


def vin(n: int) -> str:
    body = f"LGBH52E00NY{n:06d}"
    return body[:8] + vin_check_digit(body) + body[9:]


def build_world(
    factory: UnitOfWorkFactory, bidders: int, countdown: int, base: datetime = BASE
) -> tuple[int, datetime, list[tuple[int, int]], tuple[int, ...]]:
    """The lot, the period's start (an hour after ``base``), the bidders (signup, share) and the
    allowed increments."""
    clock = ManualClock(base)
    starts_at = base + timedelta(hours=1)
    with factory() as uow:
        office_admin.create_office(uow, code="粤D", name="汕头市车辆管理所", region_code="4405")
        period = auctions.publish_period(
            uow,
            clock=clock,
            name="热门号牌",
            signup_opens=base,
            signup_closes=starts_at,
            starts_at=starts_at,
            opening_countdown_s=600,
            bid_countdown_s=countdown,
        )
        assert period.id is not None
        lot = auctions.add_lot(
            uow,
            clock=clock,
            period_id=period.id,
            office_code="粤D",
            kind=PlateKind.SMALL,
            serial="88888",
            starting_price_fen=START_PRICE,
        )
        uow.commit()
    details = PersonDetails(
        real_name="张三",
        id_number="440304199001011233",
        region_code="4405",
        address="广东省汕头市龙湖区长平路1号",
        category=Category.NEW_CAR_OWNER,
    )
    found: list[tuple[int, int]] = []
    for first in range(0, bidders, 500):
        with factory() as uow:
            for n in range(first, min(first + 500, bidders)):
                account = Account.for_person(
                    phone=f"+86138{n:08d}", details=details, language=Language.ZH, now=base
                )
                uow.accounts.add(account)
                assert account.id is not None
                signup = auctions.sign_up(
                    uow, clock=clock, account_id=account.id, period_id=period.id, vins=[vin(n)]
                )
                assert signup.id is not None
                auctions.deposit_paid(uow, clock=clock, signup_id=signup.id)
                (share,) = uow.auctions.shares(signup.id)
                assert share.id is not None
                found.append((signup.id, share.id))
            uow.commit()
    assert lot.id is not None
    return lot.id, starts_at, found, tuple(period.increments_fen)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--bidders", type=int, default=2000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument(
        "--threads", type=int, default=16, help="per process (a server runs turns in 16)"
    )
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--countdown", type=int, default=2, help="bid countdown, seconds")
    parser.add_argument("--no-desk", action="store_true", help="one transaction a bid, no bid desk")
    args = parser.parse_args()

    with scratch_database(args.database_url, "platebot_bench_hot_lot") as engine:
        migrate.upgrade(engine)
        factory = UnitOfWorkFactory(engine)
        began = time.perf_counter()
        lot_id, starts_at, bidders, increments = build_world(factory, args.bidders, args.countdown)
        took = time.perf_counter() - began
        print(f"world: {len(bidders)} bidders signed up and paid in {took:.1f} s")

        pool = multiprocessing.get_context("spawn").Pool(args.processes)
        pool.map(ready, range(args.processes))
        wall0 = time.time() + 0.3
        loads = [
            Load(
                url=engine.url.render_as_string(hide_password=False),
                lot_ids=(lot_id,),
                bidders=tuple(bidders),
                increments=increments,
                seconds=args.seconds,
                threads=args.threads,
                base=starts_at,
                wall0=wall0,
                seed=seed,
                desk=not args.no_desk,
            )
            for seed in range(args.processes)
        ]
        with pool:
            results = pool.map(run_load, loads)
        clock = SharedClock(starts_at, wall0)
        time.sleep(args.countdown + 0.2)  # the last deadline passes
        with factory() as uow:
            closed = bidding.close_due_lots(uow, clock.now(), 10)
            uow.commit()
        violations = check_invariants(engine, [lot_id])
        with factory() as uow:
            lot = uow.auctions.lot(lot_id)
        assert lot is not None

    report(args, results, bidders=len(bidders), closed=closed, lot=lot, violations=violations)


def report(
    args: argparse.Namespace,
    results: list[LoadResult],
    *,
    bidders: int,
    closed: int,
    lot: Lot,
    violations: list[str],
) -> None:
    elapsed = args.seconds
    accepted = sum(r.accepted for r in results)
    refused: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    latencies: list[float] = []
    for result in results:
        refused.update(result.refused)
        errors.update(result.errors)
        latencies.extend(result.latencies)
    decisions = accepted + sum(refused.values())
    print(
        f"{args.processes} processes × {args.threads} threads, {args.seconds:.0f} s, "
        f"bid countdown {args.countdown} s, {bidders} bidders"
    )
    print(f"bid decisions: {decisions} ({decisions / elapsed:,.0f}/s)")
    print(f"accepted:      {accepted} ({accepted / elapsed:,.0f}/s)")
    refusals = sum(refused.values())
    each = ", ".join(f"{code} {n}" for code, n in refused.most_common())
    print(f"refused:       {refusals} ({refusals / elapsed:,.0f}/s): {each}")
    if latencies:
        ms = [value * 1000 for value in latencies]
        print(
            f"latency of a bid decision (ms): p50 {percentile(ms, 0.5):.2f}  "
            f"p90 {percentile(ms, 0.9):.2f}  p99 {percentile(ms, 0.99):.2f}  "
            f"max {max(ms):.1f}  mean {statistics.fmean(ms):.2f}"
        )
    batches = sum(r.batches for r in results)
    if batches:
        print(
            f"bid desk: {batches} batches, {sum(r.desk_bids for r in results) / batches:.1f} "
            "bids a batch on average"
        )
    if decisions:
        cpu = sum(r.cpu_s for r in results)
        print(f"CPU of the bidding processes: {cpu * 1000 / decisions:.2f} ms a decision")
    print(f"database errors: {dict(errors) or 'none'}")
    print(
        f"closed: {closed} lot, {lot.state.value} at ¥{(lot.price_fen or 0) / YUAN:,.0f} "
        f"after {lot.bids} accepted bids"
    )
    print(f"invariant violations: {len(violations)}")
    for violation in violations[:20]:
        print("  ", violation)


if __name__ == "__main__":
    main()
