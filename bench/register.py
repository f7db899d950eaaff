"""Registration benchmark: many simulated users register at once through the dialog engine.

    python -m bench.register                      # 1,000 users, one thread, fresh SQLite file
    taskset -c 0 python -m bench.register         # pinned to one core (the target's setting)
    python -m bench.register --model threads --workers 4
    python -m bench.register --profile /tmp/register.prof

Every user walks the natural-person registration (menu → register → person → name → ID →
no permit → address (the ID names the region) → category → confirm → code). The users take
turns round-robin:
step k for every user, then step k+1, so the database holds every user's conversation in
flight at once. Only ``Engine.handle`` calls are timed; the one-time codes are sent by the
outbox dispatcher between the "confirm" and "code" rounds, and that time is reported apart.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import cProfile
import multiprocessing
import multiprocessing.connection
import os
import platform
import pstats
import re
import secrets
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import timeit
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa
from stdnum.cn import ric

from core.clock import Clock, ManualClock, SystemClock
from core.outbox import Channel, Outcome, Outgoing, Sent
from dialogs.render import render_plain
from dialogs.replies import Inbound, Reply
from platebot.bootstrap import App, build_app
from platebot.settings import Settings
from store.db import create_engine
from store.tables import accounts

CHANNELS = ("sms", "telegram")
MODELS = ("serial", "threads", "processes")
BARRIER_TIMEOUT = 600.0


# -- simulated users ---------------------------------------------------------------------


@dataclass
class User:
    """One simulated person: distinct phone and resident ID, and where their chat stands."""

    index: int
    channel: str
    phone: str
    id_number: str
    sent: int = 0
    last: Reply | None = None

    @property
    def key(self) -> str:
        return self.phone if self.channel == "sms" else f"tg{self.index}"


def resident_id(index: int) -> str:
    """A valid GB 11643 number, distinct per index: Futian (440304), a birth date from 1970 on
    and a sequence number; the check character from python-stdnum."""
    born = date(1970, 1, 1) + timedelta(days=index // 999)
    body = f"440304{born:%Y%m%d}{index % 999 + 1:03d}"
    return body + str(ric.calc_check_digit(body + "?"))  # it ignores the last character


def make_users(start: int, stop: int, channel: str) -> list[User]:
    return [
        User(index=i, channel=channel, phone=f"+86138{i:08d}", id_number=resident_id(i))
        for i in range(start, stop)
    ]


@dataclass(frozen=True)
class Step:
    """One turn of every user: typed text, or a choice picked from the last reply."""

    name: str
    expect: str  # a catalog key the reply must hold
    text: Callable[[User], str] | None = None
    pick: str | None = None


def steps_for(channel: str) -> list[Step]:
    phone_step = [] if channel == "sms" else [Step("phone", "reg.ask_kind", lambda u: u.phone)]
    return [
        Step("hello", "menu.title", lambda u: "你好"),
        Step("register", "reg.ask_kind" if channel == "sms" else "reg.ask_phone", pick="register"),
        *phone_step,
        Step("person", "reg.ask_real_name", pick="person"),
        Step("name", "reg.ask_id", lambda u: "张三"),
        Step("id", "reg.ask_permit", lambda u: u.id_number),
        Step("no-permit", "reg.ask_address", pick="skip"),  # the ID names the region
        Step("address", "reg.ask_category", lambda u: f"深圳市福田区深南大道{u.index}号"),
        Step("category", "reg.summary_person", pick="category:new_car_owner"),
        Step("confirm", "reg.enter_code", pick="confirm"),
        Step("code", "reg.registered", lambda u: CODES.get(u.phone, "missing")),
    ]


# Codes by phone, filled by the capturing sender (in processes mode: sent to each worker).
CODES: dict[str, str] = {}


class CodeCatcher:
    """The SMS gateway stand-in: keeps the code of every message, delivers instantly."""

    def __init__(self) -> None:
        self.sent = 0

    def send(self, message: Outgoing) -> Outcome:
        if match := re.search(r"\d{6}", message.text):
            CODES[message.recipient] = match.group(0)
        self.sent += 1
        return Sent()


def inbound_for(user: User, step: Step) -> Inbound:
    user.sent += 1
    text, choice = "", None
    if step.pick is not None:
        offered = [c.id for c in user.last.choices] if user.last else []
        if step.pick not in offered:
            raise BenchError(user, step, f"{step.pick!r} not offered, only {offered}")
        if user.channel == "sms":  # SMS users reply with the number, Telegram users press
            text = str(offered.index(step.pick) + 1)
        else:
            choice = step.pick
    elif step.text is not None:
        text = step.text(user)
    return Inbound(
        channel=user.channel,
        user_key=user.key,
        text=text,
        choice=choice,
        message_id=f"{user.key}-{user.sent}",
        sender_phone=user.phone if user.channel == "sms" else None,
    )


class BenchError(Exception):
    def __init__(self, user: User, step: Step, problem: str) -> None:
        shown = render_plain(user.last) if user.last else ""
        super().__init__(f"user {user.index} at step {step.name!r}: {problem}\n{shown}")


def run_round(app: App, users: Sequence[User], step: Step, latencies: list[int]) -> None:
    """Step ``step`` for every user in turn; each ``Engine.handle`` is timed."""
    handle = app.dialogs.handle
    clock = time.perf_counter_ns
    for user in users:
        inbound = inbound_for(user, step)
        started = clock()
        reply = handle(inbound)
        latencies.append(clock() - started)
        user.last = reply
        if step.expect not in reply.keys:
            raise BenchError(user, step, f"expected {step.expect}, got {reply.keys}")


# -- building the app and running the models ---------------------------------------------


@dataclass
class Options:
    users: int
    model: str
    workers: int
    channel: str
    clock: str
    db: Path
    profile: Path | None
    secret_key: str  # one for every process: codes are checked where they arrive
    pool: int | None = None


@dataclass
class Result:
    latencies: dict[str, list[int]]  # per step, nanoseconds
    round_seconds: dict[str, float] = field(default_factory=dict)  # wall time per round
    cpu_seconds: float = 0.0  # CPU time of the timed rounds (serial model only)
    dispatch_seconds: float = 0.0
    sms_sent: int = 0


def new_app(options: Options, *, upgrade: bool, catcher: CodeCatcher | None = None) -> App:
    url = f"sqlite:///{options.db}"
    settings = Settings(database_url=url, secret_key=options.secret_key)  # no key query
    clock: Clock = ManualClock() if options.clock == "manual" else SystemClock()
    pool = {"pool_size": options.pool, "max_overflow": 0} if options.pool else {}
    db = create_engine(url, **pool)
    senders = {Channel.SMS: catcher or CodeCatcher()}
    return build_app(settings, clock=clock, senders=senders, db=db, upgrade=upgrade)


def dispatch_all(app: App, catcher: CodeCatcher, result: Result) -> None:
    """Send every pending SMS (the codes), outside the timed turns."""
    started = time.perf_counter()
    while app.dispatcher.run_once():
        pass
    result.dispatch_seconds += time.perf_counter() - started
    result.sms_sent = catcher.sent


def run_serial(options: Options, steps: list[Step]) -> Result:
    catcher = CodeCatcher()
    app = new_app(options, upgrade=True, catcher=catcher)
    users = make_users(0, options.users, options.channel)
    result = Result({step.name: [] for step in steps})
    profiler = cProfile.Profile() if options.profile else None
    for step in steps:
        started, cpu = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        run_round(app, users, step, result.latencies[step.name])
        if profiler:
            profiler.disable()
        result.round_seconds[step.name] = time.perf_counter() - started
        result.cpu_seconds += time.process_time() - cpu
        if step.name == "confirm":
            dispatch_all(app, catcher, result)
    if profiler and options.profile:
        write_profile(profiler, options.profile)
    check_accounts(app, options.users)
    app.db.dispose()
    return result


class Barrier(Protocol):
    def wait(self, timeout: float | None = None) -> int: ...
    def abort(self) -> None: ...


def slices(options: Options) -> list[tuple[int, int]]:
    n, k = options.users, options.workers
    return [(n * w // k, n * (w + 1) // k) for w in range(k)]


def run_threads(options: Options, steps: list[Step]) -> Result:
    """Each thread takes a slice of the users round-robin; all threads run each round
    together, on one app (one engine, one connection pool) as a threaded server would."""
    catcher = CodeCatcher()
    app = new_app(options, upgrade=True, catcher=catcher)
    barrier = threading.Barrier(options.workers + 1)
    results = [Result({step.name: [] for step in steps}) for _ in range(options.workers)]
    errors: list[str] = []

    def work(index: int, start: int, stop: int) -> None:
        users = make_users(start, stop, options.channel)
        try:
            for step in steps:
                barrier.wait(BARRIER_TIMEOUT)
                run_round(app, users, step, results[index].latencies[step.name])
                barrier.wait(BARRIER_TIMEOUT)
        except threading.BrokenBarrierError:
            pass
        except Exception:
            errors.append(traceback.format_exc())
            barrier.abort()

    threads = [
        threading.Thread(target=work, args=(i, start, stop), name=f"bench-{i}")
        for i, (start, stop) in enumerate(slices(options))
    ]
    for thread in threads:
        thread.start()
    total = Result({step.name: [] for step in steps})
    try:
        coordinate(barrier, steps, total, lambda: dispatch_all(app, catcher, total))
    finally:
        for thread in threads:
            thread.join()
    if errors:
        raise SystemExit(errors[0])
    merge(total, results)
    check_accounts(app, options.users)
    app.db.dispose()
    return total


def coordinate(
    barrier: Barrier, steps: list[Step], total: Result, after_confirm: Callable[[], None]
) -> None:
    """The main thread times each round from the barrier that starts it to the one that ends it."""
    try:
        for step in steps:
            barrier.wait(BARRIER_TIMEOUT)
            started = time.perf_counter()
            barrier.wait(BARRIER_TIMEOUT)
            total.round_seconds[step.name] = time.perf_counter() - started
            if step.name == "confirm":
                after_confirm()
    except threading.BrokenBarrierError:
        pass


def merge(total: Result, parts: Sequence[Result]) -> None:
    for part in parts:
        for name, values in part.latencies.items():
            total.latencies[name].extend(values)


def process_worker(
    options: Options,
    *,
    start: int,
    stop: int,
    barrier: Barrier,
    conn: multiprocessing.connection.Connection,
) -> None:
    """One server process: its own app and connections on the same SQLite file."""
    steps = steps_for(options.channel)
    result = Result({step.name: [] for step in steps})
    try:
        app = new_app(options, upgrade=False)
        users = make_users(start, stop, options.channel)
        for step in steps:
            if step.name == "code":
                CODES.update(conn.recv())
            barrier.wait(BARRIER_TIMEOUT)
            run_round(app, users, step, result.latencies[step.name])
            barrier.wait(BARRIER_TIMEOUT)
        app.db.dispose()
        conn.send(("ok", result.latencies))
    except threading.BrokenBarrierError:
        conn.send(("error", "another worker failed"))
    except Exception:
        barrier.abort()
        conn.send(("error", traceback.format_exc()))


def run_processes(options: Options, steps: list[Step]) -> Result:
    """Each process is a separate server on the same file: SQLite's lock orders the writers."""
    catcher = CodeCatcher()
    app = new_app(options, upgrade=True, catcher=catcher)
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(options.workers + 1)
    pipes = []
    processes = []
    for start, stop in slices(options):
        ours, theirs = context.Pipe()
        process = context.Process(
            target=process_worker,
            args=(options,),
            kwargs={"start": start, "stop": stop, "barrier": barrier, "conn": theirs},
        )
        process.start()
        pipes.append(ours)
        processes.append(process)
    total = Result({step.name: [] for step in steps})

    def send_codes() -> None:
        dispatch_all(app, catcher, total)
        for pipe in pipes:
            pipe.send(dict(CODES))

    coordinate(barrier, steps, total, send_codes)
    parts = []
    for pipe, process in zip(pipes, processes, strict=True):
        status, payload = pipe.recv()
        process.join()
        if status != "ok":
            raise SystemExit(str(payload))
        parts.append(Result(payload))
    merge(total, parts)
    check_accounts(app, options.users)
    app.db.dispose()
    return total


def check_accounts(app: App, users: int) -> None:
    with app.db.connect() as conn:
        count = conn.execute(sa.select(sa.func.count()).select_from(accounts)).scalar_one()
    if count != users:
        raise SystemExit(f"expected {users} accounts after the run, found {count}")


def write_profile(profiler: cProfile.Profile, path: Path) -> None:
    """The raw stats (for snakeviz/pstats) and a text summary beside them."""
    profiler.dump_stats(str(path))
    summary = path.with_suffix(path.suffix + ".txt")
    with summary.open("w", encoding="utf-8") as out:
        stats = pstats.Stats(profiler, stream=out)
        stats.strip_dirs()
        for order in ("cumulative", "tottime"):
            out.write(f"\n==== sorted by {order} ====\n")
            stats.sort_stats(order).print_stats(40)
    print(f"profile: {path} (pstats), summary {summary}")


# -- report --------------------------------------------------------------------------------


def core_speed() -> float:
    """Microseconds for ``sum(range(1000))`` on this core (less is faster): a yardstick to
    compare figures taken on different machines."""
    return min(timeit.repeat("sum(range(1000))", number=2000, repeat=5)) / 2000 * 1e6


def percentile(sorted_values: Sequence[int], fraction: float) -> float:
    """Nearest-rank percentile, in milliseconds."""
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index] / 1e6


def report(options: Options, steps: list[Step], result: Result) -> None:
    everything = sorted(v for name in result.latencies for v in result.latencies[name])
    turns = len(everything)
    wall = sum(result.round_seconds.values())
    busy = sum(everything) / 1e9
    affinity = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    size = sum(p.stat().st_size for p in (options.db, Path(f"{options.db}-wal")) if p.exists())
    print("platebot registration benchmark")
    print(
        f"  users        {options.users} on {options.channel}, {len(steps)} turns each, "
        f"model {options.model} x{options.workers}"
    )
    print(f"  database     {options.db} (SQLite {sqlite3.sqlite_version}, {size / 1e6:.1f} MB)")
    print(
        f"  runtime      Python {platform.python_version()}, clock {options.clock}, "
        f"CPUs allowed {affinity} of {os.cpu_count()}, speed {core_speed():.1f} us"
        + (", PROFILED (slower)" if options.profile else "")
    )
    print(
        f"  turns        {turns} in {wall:.2f} s wall (Engine.handle calls only; "
        f"{result.sms_sent} SMS dispatched apart in {result.dispatch_seconds:.2f} s)"
    )
    cpu = f" (CPU {result.cpu_seconds / turns * 1e3:.3f} ms per turn)" if result.cpu_seconds else ""
    print(f"  turns/s      {turns / wall:.0f}{cpu}")
    print(
        f"  latency ms   p50 {percentile(everything, 0.50):.2f}  "
        f"p90 {percentile(everything, 0.90):.2f}  p99 {percentile(everything, 0.99):.2f}  "
        f"p99.9 {percentile(everything, 0.999):.1f}  max {everything[-1] / 1e6:.1f}  "
        f"mean {busy / turns * 1e3:.2f}"
    )
    print("  per step     mean   p50    p99  (ms)")
    for step in steps:
        values = sorted(result.latencies[step.name])
        mean = statistics.fmean(values) / 1e6
        print(
            f"    {step.name:<11}{mean:5.2f}  {percentile(values, 0.5):5.2f}  "
            f"{percentile(values, 0.99):5.2f}"
        )


def parse(argv: Sequence[str] | None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench.register",
        description="Many simulated users registering at once through the dialog engine.",
    )
    parser.add_argument("--users", type=int, default=1000, help="simulated users (1000)")
    parser.add_argument(
        "--model",
        choices=MODELS,
        default="serial",
        help="serial: one thread, round-robin over all users (default); threads: WORKERS "
        "threads share one app; processes: WORKERS processes, each its own app",
    )
    parser.add_argument("--workers", type=int, default=4, help="threads or processes (4)")
    parser.add_argument("--channel", choices=CHANNELS, default="sms", help="sms (default)")
    parser.add_argument(
        "--clock", choices=("system", "manual"), default="system", help="system (default)"
    )
    parser.add_argument(
        "--db", type=Path, help="SQLite file to create (must not exist); default: a temp file"
    )
    parser.add_argument(
        "--pool",
        type=int,
        help="connections per process (default: SQLAlchemy's, 5 + 10 overflow); "
        "--pool 1 makes threads queue in the pool instead of in SQLite's busy handler",
    )
    parser.add_argument(
        "--profile", type=Path, help="write cProfile stats of the timed turns here (serial only)"
    )
    args = parser.parse_args(argv)
    if args.users < 1 or args.workers < 1:
        parser.error("--users and --workers must be at least 1")
    if args.profile and args.model != "serial":
        parser.error("--profile works with --model serial only")
    workers = 1 if args.model == "serial" else min(args.workers, args.users)
    if args.db is None:
        args.db = Path(tempfile.mkdtemp(prefix="platebot-bench-")) / "bench.db"
    elif args.db.exists():
        parser.error(f"{args.db} exists: the benchmark wants a fresh file")
    return Options(
        users=args.users,
        model=args.model,
        workers=workers,
        channel=args.channel,
        clock=args.clock,
        db=args.db.resolve(),
        profile=args.profile,
        secret_key=secrets.token_hex(16),
        pool=args.pool,
    )


def main(argv: Sequence[str] | None = None) -> None:
    options = parse(argv)
    steps = steps_for(options.channel)
    run = {"serial": run_serial, "threads": run_threads, "processes": run_processes}
    result = run[options.model](options, steps)
    report(options, steps, result)


if __name__ == "__main__":
    main(sys.argv[1:])
