"""The SMS webhook with its dialog turns in a process of their own, as ``platebot serve`` runs it
on SQLite: a person registers entirely by SMS, and a crash of the turn process in the middle
costs nothing but the moment it takes to start a new one."""

from __future__ import annotations

import os
import signal
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from fastapi.testclient import TestClient

from core.clock import as_utc
from platebot.bootstrap import build_app
from platebot.server import create_web_app
from platebot.turn_process import TurnProcess
from store.db import create_engine
from store.tables import accounts, dispatch_lanes
from tests.sms_support import Phone, twilio_settings
from tests.standins.twilio_api import TwilioStandIn

PHONE = "+8613800138000"
PERSON_ID = "440304199001011233"


def test_registration_by_sms_goes_on_across_a_crash_of_the_turn_process(
    tmp_path: Path, standin: TwilioStandIn
) -> None:
    db = create_engine(f"sqlite:///{tmp_path}/platebot.db")
    # The dead turn process's dispatcher held the SMS lane: the new one's takes it when that
    # lease runs out (10 s by default), and only then sends the code.
    settings = twilio_settings(db, standin, turn_process=True, lane_lease_seconds=1)
    app = build_app(settings, db=db)
    with TestClient(create_web_app(app)) as client:
        lane = client.app.state.sms_turns  # type: ignore[attr-defined]
        assert isinstance(lane, TurnProcess)
        first_pid = lane.pid
        assert first_pid is not None and first_pid != os.getpid()
        phone = Phone(client, PHONE)
        phone.send("你好")
        assert "主菜单" in phone.text
        for text in ("3", "1", "张三", PERSON_ID):
            phone.send(text)
        assert "暂住证号" in phone.text

        os.kill(first_pid, signal.SIGKILL)  # the turn process dies between two messages

        for text in ("跳过", "深圳市福田区深南大道1号", "新车车主"):
            phone.send(text)  # answered by a new turn process, where the user left off
        assert "核对" in phone.text and "4403**********1233" in phone.text
        assert lane.pid not in (None, first_pid)
        phone.send("1")
        assert "6位验证码" in phone.text
        phone.send(standin.last_code(PHONE))  # sent by the server's own dispatcher
        assert "注册成功" in phone.text and "张三" in phone.text
    assert lane.pid is None, "the turn process ends with the server"
    with db.connect() as conn:
        assert conn.execute(sa.select(accounts.c.phone)).scalars().all() == [PHONE]
        # Its dispatcher let its sending lanes go as it ended: a server started next sends at
        # once, not a lease later.
        leases = conn.execute(sa.select(dispatch_lanes.c.lease_until)).scalars().all()
        assert leases and all(as_utc(lease) <= datetime.now(UTC) for lease in leases)
    db.dispose()
