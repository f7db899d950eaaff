"""What ``bench.broadcast`` and the broadcast crash test share: many accounts written at once
(some with a linked Telegram chat, some opted out of SMS), a server process started and killed
with -9, and what the stand-ins received counted per recipient."""

from __future__ import annotations

import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.accounts import AccountKind, Category, Language
from core.outbox import Channel, OutboxStatus
from store.sms_tables import sms_opt_outs
from store.tables import accounts, contact_points, outbox
from store.telegram_tables import telegram_chats

CHUNK = 10_000
Server = subprocess.Popen[bytes]


@dataclass
class Population:
    """Who should get a broadcast to everyone, by channel; who opted out."""

    sms: set[str] = field(default_factory=set)  # numbers
    telegram: set[str] = field(default_factory=set)  # chat ids
    opted_out: set[str] = field(default_factory=set)  # numbers that sent STOP


def populate(
    db: Engine, count: int, now: datetime, *, telegram: float = 0.5, opted_out: float = 0.05
) -> Population:
    """``count`` accounts: a share ``telegram`` with a linked chat, a share ``opted_out`` of
    the others with an SMS number that sent STOP; half of them in English."""
    chooser = random.Random(15)
    people = Population()
    rows, chats, points, stops = [], [], [], []
    for n in range(1, count + 1):
        phone = f"+86137{n:08d}"
        rows.append(
            {
                "id": n,
                "phone": phone,
                "kind": AccountKind.PERSON,
                "category": Category.NEW_CAR_OWNER,
                "name": "张三",
                "id_number": "440304199001011233",
                "region_code": "4405",
                "address": "广东省汕头市龙湖区长平路1号",
                "language": Language.EN if n % 2 else Language.ZH,
                "window_user": False,
                "created_at": now,
            }
        )
        points.append({"channel": Channel.SMS, "address": phone, "account_id": n, "linked_at": now})
        draw = chooser.random()
        if draw < telegram:
            chat = str(900_000_000 + n)
            people.telegram.add(chat)
            points.append(
                {"channel": Channel.TELEGRAM, "address": chat, "account_id": n, "linked_at": now}
            )
            chats.append({"chat_id": chat, "first_seen_at": now, "last_seen_at": now})
        elif draw < telegram + opted_out:
            people.opted_out.add(phone)
            stops.append({"phone": phone, "reason": "STOP", "opted_out_at": now})
        else:
            people.sms.add(phone)
    with db.begin() as conn:
        for table, values in (
            (accounts, rows),
            (contact_points, points),
            (telegram_chats, chats),
            (sms_opt_outs, stops),
        ):
            for start in range(0, len(values), CHUNK):
                conn.execute(sa.insert(table), values[start : start + CHUNK])
        if db.dialect.name == "postgresql":  # the ids were given: move the sequence past them
            conn.execute(sa.text("SELECT setval('accounts_id_seq', :n)"), {"n": count})
    return people


def server_env(
    db: Engine,
    *,
    twilio: tuple[str, str, str, str],
    telegram: tuple[str, str, str],
    sms_rate: int,
    telegram_rate: int,
) -> dict[str, str]:
    """The ``PLATEBOT_*`` settings of a server process sending to the stand-ins: ``twilio`` is
    (account SID, auth token, our number, API base), ``telegram`` (token, secret, API base)."""
    sid, token, origin, twilio_base = twilio
    bot_token, secret, bot_base = telegram
    return {
        "PLATEBOT_DATABASE_URL": db.url.render_as_string(hide_password=False),
        "PLATEBOT_SECRET_KEY": secrets.token_hex(16),
        "PLATEBOT_PUBLIC_URL": "https://platebot.example.org",
        "PLATEBOT_TWILIO_ACCOUNT_SID": sid,
        "PLATEBOT_TWILIO_AUTH_TOKEN": token,
        "PLATEBOT_TWILIO_FROM": origin,
        "PLATEBOT_TWILIO_API_BASE": twilio_base,
        "PLATEBOT_SMS_SEGMENTS_PER_SECOND": str(sms_rate),
        "PLATEBOT_TELEGRAM_TOKEN": bot_token,
        "PLATEBOT_TELEGRAM_SECRET": secret,
        "PLATEBOT_TELEGRAM_API_BASE": bot_base,
        "PLATEBOT_TELEGRAM_MESSAGES_PER_SECOND": str(telegram_rate),
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    env: dict[str, str], shift_seconds: float = 0.0
) -> tuple[subprocess.Popen[bytes], int]:
    """A server process (``bench.broadcast_server``) with ``env`` added to this one's; returns
    once its /healthz answers."""
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - our own module, with our own interpreter
        [
            sys.executable,
            "-m",
            "bench.broadcast_server",
            "--port",
            str(port),
            "--shift-seconds",
            str(shift_seconds),
        ],
        env={**os.environ, **env},
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server process ended with {process.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200:
                return process, port
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("the server process did not answer /healthz within 60 s")


def cpu_seconds(process: Server) -> float:
    """The user and system CPU time ``process`` has used so far, all its threads (Linux's
    ``/proc/<pid>/stat``)."""
    with open(f"/proc/{process.pid}/stat") as stat:
        # After the command name (in parentheses, which may hold spaces): utime and stime are
        # the 12th and 13th fields, in clock ticks.
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def kill_hard(process: Server) -> None:
    """kill -9: no clean-up, no lease given back, nothing recorded."""
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)


def stop(process: Server) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        kill_hard(process)


def wait_until(condition: Callable[[], bool], timeout: float, every: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return condition()


def left(db: Engine, broadcast_id: int) -> int:
    """The broadcast's rows not settled yet."""
    open_ = (OutboxStatus.PENDING, OutboxStatus.SENDING)
    with db.connect() as conn:
        query = sa.select(sa.func.count()).where(
            outbox.c.broadcast_id == broadcast_id, outbox.c.status.in_(open_)
        )
        return int(conn.execute(query).scalar_one())


@dataclass(frozen=True)
class Received:
    """What the stand-ins got, checked against who should have got it."""

    duplicates: int  # recipients who got it more than once
    missed: int  # recipients who should have got it and did not
    strays: int  # messages to someone who should not have got it (opted out, unknown)

    @classmethod
    def of(cls, expected: set[str], got: list[str]) -> Received:
        counts = Counter(got)
        return cls(
            duplicates=sum(1 for n in counts.values() if n > 1),
            missed=len(expected - counts.keys()),
            strays=sum(n for who, n in counts.items() if who not in expected),
        )
