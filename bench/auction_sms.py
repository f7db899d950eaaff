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
signed-in bidder with one active signup. Nearly every bid is accepted: each raises the current
price, whatever it is by then, and only a leader's own raise is refused; every one is decided
by the use case under the lot's lock and answered. Prints bids answered per second, p50/p99
latency of an answered bid, the server's CPU per bid, the SMS the server sent meanwhile (the
outbid notices, written and sent by its background jobs: their CPU is in the server's; the
bidder numbers and codes of the set-up count as sent at signup, long before), the outbid
notices in the outbox when the server stopped, by status, the background jobs that failed in the
server (counted from its log), and the decisions stored on the lot (accepted, refused by
reason). Target: 1,000 bids answered per second on the 2-core VM.

Then, the server stopped, ``--sample`` more ``B 1000`` turns (default 300) run in this process,
one after the other, through the same SMS channel the server's turns run in (``SmsChannel.
receive``: the dialog turn and its transaction, without HTTP), on the same lot: what each
costs does not depend on how loaded the machine is. Prints the CPU of a turn (this thread's,
``time.thread_time``) and the SQL statements a turn sends to the database (counted at the
driver, ``BEGIN`` and ``COMMIT`` apart); then what those bids noted for the room is told as the
server's timer step does (``tell_room``: the outbid notices written to the outbox, not sent),
with its CPU and statements a change. ``--profile FILE`` runs those turns under cProfile
(FILE: pstats; FILE.txt: a summary); ``--sample-only`` skips the server run (bidding then
starts a few seconds after the world is set up). ``--server-profile FILE`` runs the server's
process under cProfile, every thread (``bench/sms_server.py``: on PostgreSQL the turns run in
its threads; on SQLite in a turn process of its own, which is not profiled).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from bench.hot_lot import build_world
from bench.sms_load import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    Result,
    ServerLog,
    free_port,
    signed_post,
    start_server,
    timed_round,
    wait_until_up,
)
from core.auction_room import tell_room
from core.clock import Clock
from core.outbox import OutboxStatus
from platebot.bootstrap import build_app
from platebot.server import _sms_channel
from platebot.settings import Settings
from sms.channel import INBOUND_PATH, IncomingSms
from store import migrate
from store.auction_tables import auction_bids
from store.db import create_engine, scratch_database
from store.tables import outbox
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
        with engine.begin() as conn:  # the bidder numbers and codes went out at signup
            conn.execute(
                outbox.update()
                .where(outbox.c.status == OutboxStatus.PENDING)
                .values(status=OutboxStatus.SENT, sent_at=base)
            )
        print(
            f"world: {len(found)} bidders signed up and paid in {time.perf_counter() - setup:.1f} s"
        )
        return lot_id, starts_at
    finally:
        engine.dispose()


def outbid_notices(url: str) -> Counter[str]:
    """The outbid notices in the outbox, by status (skipped: withdrawn, the bidder leading
    again)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(outbox.c.status, sa.func.count())
                .where(outbox.c.key == "room.outbid")
                .group_by(outbox.c.status)
            ).all()
    finally:
        engine.dispose()
    return Counter({str(status): int(n) for status, n in rows})


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
    bids = await timed_round(
        port,
        walks(["B 1000"] * args.bids),
        args.concurrency,
        server,
        postgres=args.database_url.startswith("postgresql"),
    )
    if args.workers != 1:  # the process measured is uvicorn's supervisor, not an event loop
        bids.loop_cpu = bids.child_cpu = None
    return Result([bids])


@dataclass
class Statements:
    """SQL statements sent to the database, counted at the driver (SQLite's trace callback,
    psycopg's cursor); ``BEGIN``, ``COMMIT`` and ``ROLLBACK`` apart."""

    sent: list[str] = field(default_factory=list)
    transactions: int = 0

    def seen(self, sql: str) -> None:
        word = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
        if word in ("BEGIN", "COMMIT", "ROLLBACK"):
            self.transactions += word == "COMMIT"
        else:
            self.sent.append(sql)

    def watch(self, engine: sa.Engine) -> None:
        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            if engine.dialect.name == "sqlite":
                dbapi_connection.set_trace_callback(self.seen)
                return
            counter = self

            class Counted(dbapi_connection.cursor_factory):  # type: ignore[misc]
                def execute(self, query: Any, *args: Any, **kwargs: Any) -> Any:
                    counter.seen(query if isinstance(query, str) else str(query))
                    return super().execute(query, *args, **kwargs)

            dbapi_connection.cursor_factory = Counted

        if engine.dialect.name != "sqlite":  # psycopg commits without a statement of its own

            @event.listens_for(engine, "commit")
            def _on_commit(_connection: Any) -> None:
                self.transactions += 1


@dataclass
class Sample:
    cpu: list[float] = field(default_factory=list)  # seconds, a turn
    statements: list[int] = field(default_factory=list)  # a turn
    transactions: list[int] = field(default_factory=list)  # a turn
    last_sql: list[str] = field(default_factory=list)
    told: int = 0  # room changes told afterwards (``tell_room``: outbid notices)
    told_cpu: float = 0.0  # seconds
    told_statements: int = 0

    def line(self) -> str:
        cpu = statistics.mean(self.cpu) * 1000
        p50 = statistics.median(self.cpu) * 1000
        return (
            f"B 1000 turns in this process: {len(self.cpu)}, CPU {cpu:.2f} ms a turn "
            f"(median {p50:.2f}), SQL statements a turn {statistics.mean(self.statements):.1f} "
            f"(min {min(self.statements)}, max {max(self.statements)}), "
            f"commits a turn {statistics.mean(self.transactions):.1f}"
        )

    def told_line(self) -> str:
        told = max(1, self.told)
        return (
            f"then told (tell_room: outbid notices written, not sent): {self.told} changes, "
            f"CPU {self.told_cpu / told * 1000:.2f} ms and "
            f"{self.told_statements / told:.1f} SQL statements a change"
        )


def tell(uow: UnitOfWorkFactory, clock: Clock, counted: Statements, found: Sample) -> None:
    """What the bids noted for the room, told as the server's timer step does (the notices are
    written to the outbox; sending them is the dispatcher's)."""
    before = len(counted.sent)
    started = time.thread_time()
    while True:
        with uow() as work:
            told = tell_room(work, clock.now(), 100)
            work.commit()
        if not told:
            break
        found.told += told
    found.told_cpu = time.thread_time() - started
    found.told_statements = len(counted.sent) - before


def sample_turns(url: str, turns: int, bids: int, profile: Path | None) -> Sample:
    """``turns`` bid turns, one after the other, through the SMS channel of an app built as the
    server builds its turn side (see the module's docstring)."""
    counted = Statements()
    engine = create_engine(url)
    counted.watch(engine)
    settings = Settings(database_url=url, secret_key="bench-secret")  # noqa: S106 - a scratch key
    app = build_app(
        settings,
        db=engine,
        upgrade=False,
        senders={},
        keep_turn_connection=engine.dialect.name == "sqlite",  # as in the turn process
    )
    channel = _sms_channel(app)
    phones = [f"+86138{n:08d}" for n in range(max(1, turns // bids))]
    sids = (f"SM{n:032x}" for n in range(10**9, 10**10))
    found = Sample()
    profiler = cProfile.Profile(time.thread_time) if profile else None
    try:
        for phone in phones:  # from the main menu, as the server run's first bid (not timed)
            channel.receive(IncomingSms(next(sids), phone, "MENU"))
        for _ in range(bids):
            for phone in phones:
                sms = IncomingSms(next(sids), phone, "B 1000")
                before, transactions = len(counted.sent), counted.transactions
                if profiler:
                    profiler.enable()
                started = time.thread_time()
                channel.receive(sms)
                found.cpu.append(time.thread_time() - started)
                if profiler:
                    profiler.disable()
                found.statements.append(len(counted.sent) - before)
                found.transactions.append(counted.transactions - transactions)
                found.last_sql = counted.sent[before:]
        tell(app.uow, app.clock, counted, found)
    finally:
        engine.dispose()
    if profiler and profile:
        profiler.dump_stats(str(profile))
        with open(f"{profile}.txt", "w", encoding="utf-8") as summary:
            stats = pstats.Stats(profiler, stream=summary)
            stats.sort_stats("cumulative").print_stats(60)
            stats.sort_stats("tottime").print_stats(40)
        print(f"profile: {profile} (pstats), summary {profile}.txt")
    return found


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bidders", type=int, default=1000)
    parser.add_argument("--bids", type=int, default=3, help="per bidder")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1, help="server processes (1)")
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--time-limit", type=float, default=600.0, help="seconds, in all")
    parser.add_argument(
        "--sms-rate",
        type=float,
        default=1000,
        help="SMS segments a second the server may send (the outbid notices; default 1000)",
    )
    parser.add_argument("--sample", type=int, default=300, help="turns timed in this process")
    parser.add_argument("--sample-only", action="store_true", help="no server run")
    parser.add_argument("--profile", type=Path, help="cProfile of the sampled turns")
    parser.add_argument("--show-sql", action="store_true", help="the last sampled turn's SQL")
    parser.add_argument(
        "--server-profile", type=Path, help="cProfile of the server process (its threads)"
    )
    args = parser.parse_args(argv)
    profile, args.profile = args.profile, args.server_profile
    with tempfile.TemporaryDirectory(prefix="platebot-bench-") as scratch, ExitStack() as stack:
        args.database_url = args.database_url or f"sqlite:///{scratch}/bench.db"
        if args.database_url.startswith("postgresql"):  # a scratch database on that server
            engine = stack.enter_context(scratch_database(args.database_url, SCRATCH))
            args.database_url = engine.url.render_as_string(hide_password=False)
        lot_id, starts_at = prepare(args.database_url, args.bidders)
        served = None if args.sample_only else serve(args, starts_at)
        notices = outbid_notices(args.database_url)
        wait = (starts_at - datetime.now(UTC)).total_seconds()
        if wait > 0:
            time.sleep(wait + 0.1)
        sample = sample_turns(args.database_url, args.sample, args.bids, profile)
        found = decisions(args.database_url, lot_id)
    if served is not None:
        result, sent, log = served
        print(result.line("B 1000 by SMS"))
        verdict = "meets" if result.rate >= TARGET else "misses"
        print(f"{result.rate:.0f} bids answered/s: {verdict} the {TARGET:,} target")
        print(f"SMS the server sent meanwhile (outbid notices, in its CPU too): {sent:,}")
        print(
            "outbid notices in the outbox when the server stopped: "
            + ", ".join(f"{status} {n:,}" for status, n in sorted(notices.items()))
        )
        print(log.line())
    print(sample.line())
    print(sample.told_line())
    if args.show_sql:
        print("the last sampled turn's statements:")
        for sql in sample.last_sql:
            print("  " + " ".join(sql.split())[:160])
    print("decisions stored on the lot: " + ", ".join(f"{k} {v}" for k, v in found.items()))


def serve(args: argparse.Namespace, starts_at: datetime) -> tuple[Result, int, ServerLog]:
    """The server run, how many SMS (outbid notices) the server sent meanwhile, and its log."""
    port = free_port()
    with TwilioStandIn(ACCOUNT_SID, AUTH_TOKEN) as standin:
        server, log = start_server(args, port, standin)
        try:
            wait_until_up(f"http://127.0.0.1:{port}", server, seconds=120.0)
            where = args.database_url.split("@")[-1]
            print(f"server: uvicorn, {args.workers} process(es); database {where}")
            before = len(standin.delivered)
            result = asyncio.run(
                asyncio.wait_for(run(args, port, server.pid, starts_at), args.time_limit)
            )
            return result, len(standin.delivered) - before, log
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
