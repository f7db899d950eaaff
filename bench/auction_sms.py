"""Bids by SMS, end to end: many bidders text ``B 1000`` to the real server (uvicorn on
127.0.0.1, as ``platebot serve`` runs it) through the signed Twilio webhook, on one hot lot.

    python -m bench.auction_sms                                   # fresh SQLite file
    python -m bench.auction_sms --database-url postgresql://postgres@127.0.0.1:5432/test
                                                  # (a scratch database on that server)

The bidders (``--bidders``, each signed up with one VIN and the deposit paid, through core) are
set up so that bidding starts a few seconds after the server is up. Each texts ``S`` once (not
timed: a new conversation's first message is answered with the menu), then ``B 1000``
``--bids`` times, ``--concurrency`` bidders at a time, every post a Twilio-format form signed
with the twilio library, from the bidder's own number: the command works from any screen for a
signed-in bidder with one active signup. Most bids are refused (the leader's own raise, or a
price moved on meanwhile is fine: each is a raise of the current price); every one is decided
by the use case under the lot's lock and answered. Prints bids answered per second, p50/p99
latency of an answered bid, the server's CPU per bid, and the decisions stored on the lot
(accepted, refused by reason). Target: 1,000 bids answered per second on the 2-core VM.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from bench.hot_lot import build_world
from bench.sms_load import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    Result,
    free_port,
    signed_post,
    start_server,
    timed_round,
    wait_until_up,
)
from sms.channel import INBOUND_PATH
from store import migrate
from store.auction_tables import auction_bids
from store.db import create_engine, scratch_database
from store.uow import UnitOfWorkFactory
from tests.standins.twilio_api import TwilioStandIn

TARGET = 1_000  # bids answered per second
SCRATCH = "platebot_bench_auction_sms"
LEAD = timedelta(seconds=2)  # from the end of the set-up to the start of bidding


def prepare(url: str, bidders: int) -> tuple[int, datetime]:
    """The hot lot and when its bidding starts (by the real clock, soon)."""
    engine = create_engine(url)
    try:
        migrate.upgrade(engine)
        factory = UnitOfWorkFactory(engine)
        setup = time.perf_counter()
        # set up with the clock an hour before the start, which is the set-up's end plus LEAD
        guess = timedelta(seconds=bidders / 300 + 5)
        base = datetime.now(UTC) + guess + LEAD - timedelta(hours=1)
        lot_id, starts_at, found, _ = build_world(factory, bidders, countdown=60, base=base)
        print(
            f"world: {len(found)} bidders signed up and paid in {time.perf_counter() - setup:.1f} s"
        )
        return lot_id, starts_at
    finally:
        engine.dispose()


def decisions(url: str, lot_id: int) -> Counter[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(auction_bids.c.accepted, auction_bids.c.refusal, sa.func.count())
                .where(auction_bids.c.lot_id == lot_id)
                .group_by(auction_bids.c.accepted, auction_bids.c.refusal)
            ).all()
    finally:
        engine.dispose()
    return Counter({("accepted" if ok else str(why)): int(n) for ok, why, n in rows})


async def run(args: argparse.Namespace, port: int, server: int, starts_at: datetime) -> Result:
    host = f"127.0.0.1:{port}"
    phones = [f"+86138{n:08d}" for n in range(args.bidders)]

    def walks(texts: list[str]) -> list[list[bytes]]:
        return [
            [signed_post(host, f"http://{host}", INBOUND_PATH, phone, text) for text in texts]
            for phone in phones
        ]

    await timed_round(port, walks(["S"]), args.concurrency)  # conversations begin: not timed
    wait = (starts_at - datetime.now(UTC)).total_seconds()
    if wait > 0:
        await asyncio.sleep(wait + 0.1)
    elif wait < -30:
        print(f"bidding started {-wait:.0f} s before the bids (set-up slower than guessed)")
    return Result(
        [await timed_round(port, walks(["B 1000"] * args.bids), args.concurrency, server)]
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bidders", type=int, default=1000)
    parser.add_argument("--bids", type=int, default=3, help="per bidder")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1, help="server processes (1)")
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--time-limit", type=float, default=600.0, help="seconds, in all")
    args = parser.parse_args(argv)
    args.profile = None
    with tempfile.TemporaryDirectory(prefix="platebot-bench-") as scratch, ExitStack() as stack:
        args.database_url = args.database_url or f"sqlite:///{scratch}/bench.db"
        if args.database_url.startswith("postgresql"):  # a scratch database on that server
            engine = stack.enter_context(scratch_database(args.database_url, SCRATCH))
            args.database_url = engine.url.render_as_string(hide_password=False)
        lot_id, starts_at = prepare(args.database_url, args.bidders)
        port = free_port()
        with TwilioStandIn(ACCOUNT_SID, AUTH_TOKEN) as standin:
            server = start_server(args, port, standin)
            try:
                wait_until_up(f"http://127.0.0.1:{port}", server, seconds=120.0)
                where = args.database_url.split("@")[-1]
                print(f"server: uvicorn, {args.workers} process(es); database {where}")
                result = asyncio.run(
                    asyncio.wait_for(run(args, port, server.pid, starts_at), args.time_limit)
                )
            finally:
                server.terminate()
                server.wait(timeout=30)
        found = decisions(args.database_url, lot_id)
    print(result.line("B 1000 by SMS"))
    verdict = "meets" if result.rate >= TARGET else "misses"
    print(f"{result.rate:.0f} bids answered/s: {verdict} the {TARGET:,} target")
    print("decisions stored on the lot: " + ", ".join(f"{k} {v}" for k, v in found.items()))


if __name__ == "__main__":
    main()
