"""A server process killed with -9 while Twilio (slow to answer) is taking a one-time code: the
code is not sent twice, and it still arrives well within its validity."""

from __future__ import annotations

import multiprocessing
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core import otp, verification
from core.accounts import Language
from core.clock import ManualClock
from platebot.bootstrap import build_app
from platebot.dispatcher import URGENT_LEASE
from platebot.settings import Settings
from store.tables import outbox
from tests.sms_support import twilio_settings
from tests.standins.twilio_api import TwilioStandIn

PHONE = "+8613800138000"


def dispatch(settings: Settings, now: datetime) -> None:
    """Run in another process: one dispatcher round at the parent's time ``now``."""
    build_app(settings, clock=ManualClock(now), upgrade=False).dispatcher.run_once()


def test_a_process_killed_while_twilio_takes_a_code_neither_doubles_nor_delays_it(
    db: Engine, clock: ManualClock, standin: TwilioStandIn
) -> None:
    settings = twilio_settings(db, standin)
    app = build_app(settings, clock=clock, db=db, upgrade=False)
    assert app.dispatcher.code_key is not None
    with app.uow() as uow:
        verification.send_code(
            uow,
            clock=clock,
            key=app.dispatcher.code_key,
            phone=PHONE,
            purpose=verification.REGISTER,
            language=Language.ZH,
        )
        uow.commit()
    written_at = clock.now()
    standin.delay = 120.0  # Twilio takes the message, then is slow to answer
    server = multiprocessing.get_context("spawn").Process(
        target=dispatch, args=(settings, clock.now())
    )
    server.start()
    try:
        standin.wait_for(lambda: len(standin.requests) == 1, timeout=60)
    finally:
        server.kill()  # SIGKILL: no clean-up, no answer recorded
        server.join(timeout=30)
    standin.delay = 0.0
    standin.released.set()

    clock.advance(URGENT_LEASE + timedelta(seconds=1))
    assert app.dispatcher.run_once() == 1
    assert len(standin.requests) == 1, "sent once: Twilio was asked before sending again"
    assert standin.listed == 1
    with db.connect() as conn:
        status, sid = conn.execute(sa.select(outbox.c.status, outbox.c.provider_id)).one()
    assert (status, sid) == ("sent", standin.requests[0].sid)
    assert clock.now() - written_at < otp.CODE_TTL / 5  # seconds, not the minutes of a lease
    code = standin.last_code(PHONE)
    with app.uow() as uow:  # the code that arrived is the one that is checked, and still valid
        verification.check_code(
            uow,
            clock=clock,
            key=app.dispatcher.code_key,
            phone=PHONE,
            purpose=verification.REGISTER,
            entered=code,
        )
