"""A staff broadcast to 100,000 people (mixed SMS and Telegram, 5% opted out of SMS) against the
local Twilio and Bot API stand-ins, with a server process killed with -9 half-way and another
started after it.

    python -m bench.broadcast                                   # PostgreSQL at 127.0.0.1
    python -m bench.broadcast --recipients 10000 --sms-rate 200 --telegram-rate 200
    python -m bench.broadcast --servers 2    # two server processes: each sends one channel

With ``--servers 2`` both processes are killed with -9 half-way, and two are started after them.

Prints the time to enqueue the broadcast (``core.broadcasts.send``: read the audience, write
every recipient's outbox row), the dispatch rate of each channel against its configured limit
(from the stand-ins' own clocks: first to last message received by each server process; for
Telegram also while that process still sent SMS and after its last SMS), the servers' CPU time
a message sent (which the machine's load moves less than the rates) and this process's own CPU
(the stand-ins answering, on the same cores as the servers), what the stand-ins got:
duplicates, missed, and messages to someone who opted out, and how many database transactions
the sending took (a figure the machine's load does not change). A scratch database on the
PostgreSQL server is made and dropped.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bench.broadcast_load import (
    Received,
    cpu_seconds,
    kill_hard,
    left,
    populate,
    server_env,
    start_server,
    stop,
    wait_until,
)
from core.broadcast_ports import Audience, AudienceKind, Channels
from core.clock import SystemClock
from core.outbox import LEASE
from platebot.staff_broadcasts import StaffBroadcasts
from sms.render import broadcast_segments
from store import migrate
from store.db import scratch_database
from store.uow import UnitOfWorkFactory
from tests.standins.telegram_api import SECRET, TOKEN, running_bot_api
from tests.standins.twilio_api import TwilioStandIn

ACCOUNT_SID = "AC" + "b" * 32
AUTH_TOKEN = "bench-auth-token"  # noqa: S105 - the stand-in's, not a secret
OUR_NUMBER = "+15005550006"
ZH = "明天上午车管所系统维护，暂停办理。"  # one SMS segment
EN = "The office system is down for maintenance tomorrow morning."  # one SMS segment


def rate(times: list[datetime]) -> float:
    """Messages a second from the first to the last of ``times``."""
    if len(times) < 2:
        return 0.0
    span = (max(times) - min(times)).total_seconds()
    return (len(times) - 1) / span if span > 0 else 0.0


def beside_and_alone(telegram: list[datetime], sms: list[datetime]) -> str:
    """Telegram's rate while SMS were still going out (up to the last SMS) and after it."""
    if not sms:
        return f"alone {rate(telegram):.0f}/s"
    last_sms = max(sms)
    beside = [t for t in telegram if t <= last_sms]
    alone = [t for t in telegram if t > last_sms]
    return (
        f"beside SMS {rate(beside):.0f}/s ({len(beside)} messages), "
        f"alone {rate(alone):.0f}/s ({len(alone)})"
    )


def serve_until(
    env: dict[str, str],
    done: Callable[[], bool],
    shift_seconds: float = 0.0,
    *,
    servers: int = 1,
    hard: bool = False,
) -> float:
    """Run ``servers`` server processes until ``done``, then kill them all with -9 (``hard``) or
    stop them; returns the CPU time they used from their first answers (start-up left out) to
    then."""
    with ThreadPoolExecutor(max_workers=servers) as starting:  # side by side, as a deployment
        futures = [
            starting.submit(start_server, env, shift_seconds=shift_seconds) for _ in range(servers)
        ]
    started = [future.result()[0] for future in futures if future.exception() is None]
    if len(started) < servers:  # one did not come up: stop the others, say why
        for server in started:
            stop(server)
        for future in futures:
            future.result()
    cpu = -sum(cpu_seconds(server) for server in started)
    try:
        wait_until(done, timeout=3600, every=0.5)
        cpu += sum(cpu_seconds(server) for server in started)
    finally:
        for server in started:
            if hard:
                kill_hard(server)
            else:
                stop(server)
    return cpu


def cpu_a_message(first: float, sent_first: int, rest: float, sent: int) -> str:
    """The servers' CPU time a message sent: the killed one's (``first`` seconds for
    ``sent_first`` messages), and the next one's (``rest`` seconds for the rest of ``sent``)."""
    return (
        f"server CPU a message: {1000 * first / sent_first:.2f} ms before the kill, "
        f"{1000 * rest / (sent - sent_first):.2f} ms after the restart ({first:.1f} s for "
        f"{sent_first} messages, {rest:.1f} s for {sent - sent_first}: user and system time "
        "of each process, from its first answer to its end)"
    )


def commits(db: Engine) -> int:
    """Transactions committed in the scratch database so far (PostgreSQL's statistics, which
    lag by up to half a second)."""
    with db.connect() as conn:
        conn.execute(sa.text("SELECT pg_stat_clear_snapshot()"))
        query = "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
        return int(conn.execute(sa.text(query)).scalar_one())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--sms-rate", type=int, default=200, help="SMS segments a second")
    parser.add_argument("--telegram-rate", type=int, default=200, help="messages a second")
    parser.add_argument(
        "--kill-at", type=float, default=0.5, help="share received when the servers are killed"
    )
    parser.add_argument(
        "--servers",
        type=int,
        default=1,
        help="server processes, all killed at once and all started again (1)",
    )
    args = parser.parse_args()
    clock = SystemClock()
    with (
        scratch_database(args.database_url, "platebot_bench") as db,
        TwilioStandIn(ACCOUNT_SID, AUTH_TOKEN) as twilio,
        running_bot_api() as telegram,
    ):
        migrate.upgrade(db)
        people = populate(db, args.recipients, clock.now())
        staff = StaffBroadcasts(UnitOfWorkFactory(db), clock, broadcast_segments)
        draft = staff.compose(
            text_zh=ZH,
            text_en=EN,
            audience=Audience(AudienceKind.EVERYONE),
            channels=Channels.TELEGRAM_ELSE_SMS,
            created_by="bench",
        )
        print(
            f"{args.recipients} accounts: {draft['telegram']} by Telegram, {draft['sms']} by SMS "
            f"({draft['sms_segments']} segments), {draft['opted_out']} opted out"
        )
        started = time.perf_counter()
        staff.send(draft["id"])
        enqueue = time.perf_counter() - started
        print(f"enqueue: {enqueue:.2f} s for {args.recipients} recipients")

        env = server_env(
            db,
            twilio=(ACCOUNT_SID, AUTH_TOKEN, OUR_NUMBER, twilio.url),
            telegram=(TOKEN, SECRET, telegram.url),
            sms_rate=args.sms_rate,
            telegram_rate=args.telegram_rate,
        )
        expected = len(people.sms) + len(people.telegram)

        def received() -> int:
            return len(twilio.delivered) + len(telegram.delivered())

        commits_before = commits(db)
        own_cpu, own_wall = time.process_time(), time.perf_counter()
        cpu_first = serve_until(
            env, lambda: received() >= expected * args.kill_at, servers=args.servers, hard=True
        )
        sms_first = [r.sent_at for r in twilio.delivered if r.sent_at is not None]
        tg_first = [c.at for c in telegram.delivered()]
        print(f"killed with -9 after {len(sms_first)} SMS and {len(tg_first)} Telegram messages")
        shift = LEASE.total_seconds() + 60
        cpu_rest = serve_until(env, lambda: left(db, draft["id"]) == 0, shift, servers=args.servers)
        own_cpu, own_wall = time.process_time() - own_cpu, time.perf_counter() - own_wall
        sms_all = [r.sent_at for r in twilio.delivered if r.sent_at is not None]
        tg_all = [c.at for c in telegram.delivered()]
        for name, first, rest, limit in (
            ("SMS", sms_first, sms_all[len(sms_first) :], args.sms_rate),
            ("Telegram", tg_first, tg_all[len(tg_first) :], args.telegram_rate),
        ):
            before, after = rate(first), rate(rest)
            print(
                f"{name}: {before:.0f}/s before the kill, {after:.0f}/s after the restart, "
                f"limit {limit}/s ({100 * before / limit:.0f}% and {100 * after / limit:.0f}%)"
            )
        print(
            f"Telegram before the kill: {beside_and_alone(tg_first, sms_first)}; after the "
            f"restart: {beside_and_alone(tg_all[len(tg_first) :], sms_all[len(sms_first) :])}"
        )
        sent = len(twilio.delivered) + len(telegram.delivered())
        print(cpu_a_message(cpu_first, len(sms_first) + len(tg_first), cpu_rest, sent))
        print(
            f"this process (the stand-ins, the polling): {own_cpu:.1f} s of CPU in the "
            f"{own_wall:.1f} s from the first server's start to the last one's stop "
            f"({own_cpu / own_wall:.2f} of a core)"
        )
        time.sleep(1.5)  # the statistics of the last transactions reach pg_stat_database
        print(
            f"database transactions while sending: {commits(db) - commits_before} "
            f"for {sent} messages (the servers' and this script's polling)"
        )
        sms = Received.of(people.sms, [r.to for r in twilio.delivered])
        chats = Received.of(people.telegram, [str(c.chat_id) for c in telegram.delivered()])
        stops = sum(1 for r in twilio.delivered if r.to in people.opted_out)
        print(f"SMS: {sms}; Telegram: {chats}; sent to opted-out numbers: {stops}")
        print(f"progress: {staff.progress(draft['id'])}")


if __name__ == "__main__":
    main()
