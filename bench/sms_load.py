"""SMS webhook benchmark: signed inbound SMS for many users walking the registration flow,
against the real server (uvicorn on 127.0.0.1), compared with a bare FastAPI endpoint on the
same server.

    python -m bench.sms_load                        # 600 users, 16 at a time, fresh SQLite file
    python -m bench.sms_load --users 1000 --concurrency 32
    python -m bench.sms_load --database-url postgresql://postgres@127.0.0.1:5432/bench --workers 2

Each user texts: hi → 1 (register) → 1 (person) → name → ID → 1 (no permit) → 1 (region) →
address → 1 (new-car owner) → 1 (confirm); the server's own dispatcher sends the one-time
codes to a local Twilio stand-in (not timed: the benchmark waits for them between the two
timed rounds); then the code → "我的账户". Every post is a Twilio-format form signed with the
twilio library. The bare endpoint gets the same signed posts, the same number of them, with
the same concurrency. Prints requests/s and p50/p99 latency of both, and their ratio (the
target is 40% of the bare endpoint's rate or better), the server's CPU per request (on Linux)
split into its event loop thread (HTTP, signature, form, TwiML) and its other threads (the dialog
turns, the background dispatcher and timers), and how many one-time codes the dispatcher sent
while the first round ran (their cost is in that round's figures). Bounded by ``--time-limit``.

``--profile FILE`` runs the server under cProfile (every thread, CPU time: see
``bench/sms_server.py``) and writes the statistics to FILE and a summary to FILE.txt; the
figures of such a run are inflated by the profiler.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from urllib.parse import urlencode

import httpx
import sqlalchemy as sa
from twilio.request_validator import RequestValidator

from bench.sms_server import BARE_PATH, PROFILE_VARIABLE
from sms.channel import INBOUND_PATH
from store.db import create_engine
from store.tables import accounts
from tests.standins.twilio_api import TwilioStandIn

ACCOUNT_SID = "AC" + "b" * 32
AUTH_TOKEN = "bench-auth-token"  # noqa: S105 - the stand-in's, not a secret
OUR_NUMBER = "+15005550006"
PERSON_ID = "440304199001011233"
BEFORE_CODE = ["hi", "1", "1", "张三", PERSON_ID, "1", "1", "深圳市福田区深南大道1号", "1", "1"]
TARGET = 0.40


@dataclass
class Round:
    """One timed round: how long it took and each request's latency."""

    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    server_cpu: float | None = None  # seconds of CPU the server process(es) used
    loop_cpu: float | None = None  # of which its main thread (the event loop; one process)
    child_cpu: float | None = None  # of which its child processes (the turn process)
    database_cpu: float | None = None  # the PostgreSQL server's processes (None: none seen)
    client_cpu: float = 0.0  # this benchmark's own process, sending and reading


@dataclass
class Result:
    rounds: list[Round] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(len(r.latencies) for r in self.rounds)

    @property
    def rate(self) -> float:
        return self.requests / sum(r.seconds for r in self.rounds)

    def percentile(self, p: int) -> float:
        latencies = sorted(x for r in self.rounds for x in r.latencies)
        return statistics.quantiles(latencies, n=100, method="inclusive")[p - 1] * 1000

    def line(self, name: str) -> str:
        cpu = [r.server_cpu for r in self.rounds]
        loop = [r.loop_cpu for r in self.rounds]
        per_request = (
            f"  server CPU {sum(c for c in cpu if c) / self.requests * 1000:.2f} ms/request"
            if None not in cpu
            else ""
        )
        children = [r.child_cpu for r in self.rounds]
        if per_request and None not in loop and None not in children:
            in_loop = sum(c for c in loop if c) / self.requests * 1000
            in_children = sum(c for c in children if c) / self.requests * 1000
            others = max(
                0.0, sum(c for c in cpu if c) / self.requests * 1000 - in_loop - in_children
            )
            per_request += f" (event loop {in_loop:.2f}, other threads {others:.2f}"
            per_request += f", turn process {in_children:.2f})" if in_children else ")"
        database = [r.database_cpu for r in self.rounds]
        if None not in database:
            per_request += (
                f"  PostgreSQL CPU {sum(c for c in database if c) / self.requests * 1000:.2f}"
                " ms/request"
            )
        client = sum(r.client_cpu for r in self.rounds) / self.requests * 1000
        return (
            f"{name:<24} {self.requests:>6} requests  {self.rate:>8.1f} req/s  "
            f"p50 {self.percentile(50):>7.2f} ms  p99 {self.percentile(99):>7.2f} ms{per_request}"
            f"  this client's CPU {client:.2f} ms/request"
        )


def cpu_seconds(pid: int, *, children_only: bool = False) -> float | None:
    """CPU time used by process ``pid`` and its children (Linux ``/proc``; None elsewhere)."""
    try:
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if (stat.parent.name == str(pid) and not children_only) or fields[1] == str(pid):
                total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def named_cpu_seconds(name: str) -> float | None:
    """CPU time used by the processes called ``name`` (Linux ``/proc``: PostgreSQL's server
    and backends are all ``postgres``); None when there are none, or elsewhere."""
    total, seen = 0, False
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
            fields = text.rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if text[text.find("(") + 1 : text.rfind(")")] == name:
            seen = True
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK") if seen else None


def main_thread_cpu_seconds(pid: int) -> float | None:
    """CPU time used by the main thread of process ``pid`` (Linux; None elsewhere or gone)."""
    try:
        fields = Path(f"/proc/{pid}/task/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def signed_post(host: str, public_url: str, path: str, phone: str, text: str) -> bytes:
    """One Twilio-format inbound SMS webhook, signed with the twilio library, as raw HTTP/1.1."""
    sid = "SM" + secrets.token_hex(16)
    form = {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": phone,
        "To": OUR_NUMBER,
        "Body": text,
        "NumMedia": "0",
        "NumSegments": "1",
        "ApiVersion": "2010-04-01",
    }
    signature = RequestValidator(AUTH_TOKEN).compute_signature(public_url + path, form)
    body = urlencode(form).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"X-Twilio-Signature: {signature}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


class Connection:
    """A keep-alive HTTP/1.1 connection that sends prepared requests one after the other.

    Hand-written on purpose: httpx spends about five times the server's CPU per request, so on
    the same machine it would measure the client rather than the server.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def exchange(self, request: bytes) -> tuple[float, bytes]:
        """Send ``request``; returns the latency and the response body."""
        started = time.perf_counter()
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        body = await self.reader.readexactly(length)
        elapsed = time.perf_counter() - started
        if status != 200:
            raise RuntimeError(f"answered {status}: {body[:200]!r}")
        return elapsed, body

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


async def timed_round(
    port: int,
    walks: list[list[bytes]],
    concurrency: int,
    server: int | None = None,
    *,
    postgres: bool = False,
) -> Round:
    """Each walk's requests in order on one connection; ``concurrency`` walks at a time.
    ``server``: the server's process id, to measure the CPU it used; ``postgres``: the
    server's database is PostgreSQL on this machine, whose CPU is measured too."""
    result = Round()
    cpu_before = cpu_seconds(server) if server else None
    loop_before = main_thread_cpu_seconds(server) if server else None
    children_before = cpu_seconds(server, children_only=True) if server else None
    database_before = named_cpu_seconds("postgres") if postgres else None
    client_before = time.process_time()
    queue = list(reversed(walks))
    connections = [await Connection.open(port) for _ in range(min(concurrency, len(walks)))]

    async def worker(connection: Connection) -> None:
        while queue:
            for request in queue.pop():
                elapsed, _ = await connection.exchange(request)
                result.latencies.append(elapsed)

    started = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in connections))
    result.seconds = time.perf_counter() - started
    cpu_after = cpu_seconds(server) if server else None
    loop_after = main_thread_cpu_seconds(server) if server else None
    children_after = cpu_seconds(server, children_only=True) if server else None
    database_after = named_cpu_seconds("postgres") if postgres else None
    result.client_cpu = time.process_time() - client_before
    if database_before is not None and database_after is not None:
        result.database_cpu = database_after - database_before
    if cpu_before is not None and cpu_after is not None:
        result.server_cpu = cpu_after - cpu_before
    if loop_before is not None and loop_after is not None:
        result.loop_cpu = loop_after - loop_before
    if children_before is not None and children_after is not None:
        result.child_cpu = children_after - children_before
    for connection in connections:
        await connection.close()
    return result


async def run(args: argparse.Namespace, port: int, standin: TwilioStandIn, server: int) -> None:
    host = f"127.0.0.1:{port}"
    public_url = f"http://{host}"
    phones = [f"+86138{n:08d}" for n in range(1, args.users + 1)]

    def walks(path: str, steps: dict[str, list[str]]) -> list[list[bytes]]:
        return [
            [signed_post(host, public_url, path, phone, text) for text in steps[phone]]
            for phone in phones
        ]

    warm = [
        [signed_post(host, public_url, p, "+8613999999999", "hi")]
        for p in [INBOUND_PATH, BARE_PATH] * 20
    ]
    await timed_round(port, warm, 1)  # imports, caches, connections
    pg = args.database_url.startswith("postgresql")

    # Each SMS round is followed by the bare round of the same posts (once the codes are out), so
    # that a change in the machine's speed (a shared VM's drifts) touches both sides alike.
    before = dict.fromkeys(phones, BEFORE_CODE)
    sms = Result(
        [
            await timed_round(
                port, walks(INBOUND_PATH, before), args.concurrency, server, postgres=pg
            )
        ]
    )
    sent_in_round = len(standin.delivered)
    waited = time.perf_counter()
    codes = {phone: await asyncio.to_thread(standin.last_code, phone, 60.0) for phone in phones}
    waited = time.perf_counter() - waited  # every code is out before the bare round starts
    bare = Result(
        [await timed_round(port, walks(BARE_PATH, before), args.concurrency, server, postgres=pg)]
    )
    after = {phone: [codes[phone], "我的账户"] for phone in phones}
    sms.rounds.append(
        await timed_round(port, walks(INBOUND_PATH, after), args.concurrency, server, postgres=pg)
    )
    bare.rounds.append(
        await timed_round(port, walks(BARE_PATH, after), args.concurrency, server, postgres=pg)
    )

    if args.workers != 1:  # the process measured is uvicorn's supervisor, not an event loop
        for round_ in [*sms.rounds, *bare.rounds]:
            round_.loop_cpu = round_.child_cpu = None
    registered = count_accounts(args.database_url)
    print(sms.line("SMS webhook (turns)"))
    print(bare.line("bare FastAPI endpoint"))
    ratio = sms.rate / bare.rate
    verdict = "meets" if ratio >= TARGET else "misses"
    print(f"ratio {ratio:.1%} of the bare endpoint's rate ({verdict} the {TARGET:.0%} target)")
    print(
        f"{registered} of {args.users} users registered; {sent_in_round} of their codes were "
        f"sent during the first round, the last {waited:.2f} s after it ended (not timed)"
    )


def count_accounts(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(accounts)).scalar_one())
    finally:
        engine.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_JOB_FAILED = re.compile(r"background job (\S+) failed")


@dataclass
class ServerLog:
    """What the server writes to stderr, passed on as it comes, with the failures of its
    background jobs counted by job (a job that fails runs again, and the benchmark's own
    figures would not show it)."""

    failures: Counter[str] = field(default_factory=Counter)
    reader: threading.Thread | None = None

    def follow(self, stream: IO[bytes]) -> None:
        for raw in stream:
            line = raw.decode(errors="replace")
            sys.stderr.write(line)
            if found := _JOB_FAILED.search(line):
                self.failures[found.group(1)] += 1

    def line(self) -> str:
        """Once the server has stopped: the failures counted (its last lines read first)."""
        if self.reader is not None:
            self.reader.join(timeout=5)
        counted = ", ".join(f"{job} {n}" for job, n in sorted(self.failures.items()))
        return f"background jobs that failed in the server (its log): {counted or 'none'}"


def start_server(
    args: argparse.Namespace, port: int, standin: TwilioStandIn
) -> tuple[subprocess.Popen[bytes], ServerLog]:
    env = os.environ | {
        "PLATEBOT_DATABASE_URL": args.database_url,
        "PLATEBOT_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "PLATEBOT_SECRET_KEY": "bench-secret",
        "PLATEBOT_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "PLATEBOT_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "PLATEBOT_TWILIO_FROM": OUR_NUMBER,
        "PLATEBOT_TWILIO_API_BASE": standin.url,
        "PLATEBOT_SMS_SEGMENTS_PER_SECOND": str(args.sms_rate),
    }
    if args.profile:
        env[PROFILE_VARIABLE] = str(Path(args.profile).resolve())
    command = [
        sys.executable, "-m", "uvicorn", "bench.sms_server:create", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log",
        "--workers", str(args.workers),
    ]  # fmt: skip
    root = Path(__file__).resolve().parents[1]
    server = subprocess.Popen(command, env=env, cwd=root, stderr=subprocess.PIPE)  # noqa: S603
    log = ServerLog()
    assert server.stderr is not None
    log.reader = threading.Thread(target=log.follow, args=(server.stderr,), daemon=True)
    log.reader.start()
    return server, log


def wait_until_up(base_url: str, server: subprocess.Popen[bytes], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}")
        try:
            if httpx.get(base_url + "/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit("the server did not answer /healthz in time")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    # 600: rounds of several seconds. With 200 the bare rounds last well under a second, and
    # their rate swings with whatever the VM does in that moment.
    parser.add_argument("--users", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1, help="server processes (1)")
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--time-limit", type=float, default=300.0, help="seconds, in all")
    parser.add_argument(
        "--sms-rate", type=float, default=1000, help="SMS segments a second the server may send"
    )
    parser.add_argument("--profile", metavar="FILE", help="cProfile the server into FILE")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="platebot-bench-") as scratch:
        args.database_url = args.database_url or f"sqlite:///{scratch}/bench.db"
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        with TwilioStandIn(ACCOUNT_SID, AUTH_TOKEN) as standin:
            server, log = start_server(args, port, standin)
            try:
                wait_until_up(base_url, server)
                where = args.database_url.split("@")[-1]
                print(f"server: uvicorn, {args.workers} process(es), {base_url}; database {where}")
                asyncio.run(asyncio.wait_for(run(args, port, standin, server.pid), args.time_limit))
            finally:
                server.terminate()
                server.wait(timeout=30)
            print(log.line())


if __name__ == "__main__":
    main()
