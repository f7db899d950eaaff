"""A server process killed with -9 in the middle of a broadcast, and another started after it
(PostgreSQL, real server processes, the Twilio and Bot API stand-ins): every recipient gets the
broadcast, nobody who opted out does, and no SMS goes twice (Twilio is asked about each message
the dead process may have sent). Telegram cannot be asked: the messages a dead process had sent
and not yet recorded when it died (at most ``IN_DOUBT[TELEGRAM]``) may reach their chats twice."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from bench.broadcast_load import (
    Received,
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
from core.outbox import LEASE, Channel
from platebot.dispatcher import IN_DOUBT
from platebot.staff_broadcasts import StaffBroadcasts
from sms.render import broadcast_segments
from store.uow import UnitOfWorkFactory
from tests.sms_support import ACCOUNT_SID, AUTH_TOKEN, OUR_NUMBER
from tests.standins.telegram_api import SECRET, TOKEN, running_bot_api
from tests.standins.twilio_api import TwilioStandIn

PEOPLE = 400


def test_a_server_killed_mid_broadcast_and_another_after_it_send_everyone_once(
    db: Engine,
) -> None:
    if db.dialect.name != "postgresql":
        pytest.skip(
            "kill -9 of a server process mid-broadcast runs on PostgreSQL: "
            "set PLATEBOT_TEST_DATABASE_URL (SQLite's server runs its jobs in one process)"
        )
    clock = SystemClock()
    people = populate(db, PEOPLE, clock.now())
    with TwilioStandIn(ACCOUNT_SID, AUTH_TOKEN) as twilio, running_bot_api() as telegram:
        env = server_env(
            db,
            twilio=(ACCOUNT_SID, AUTH_TOKEN, OUR_NUMBER, twilio.url),
            telegram=(TOKEN, SECRET, telegram.url),
            sms_rate=100,
            telegram_rate=100,
        )
        staff = StaffBroadcasts(UnitOfWorkFactory(db), clock, broadcast_segments)
        draft = staff.compose(
            text_zh="明天上午车管所系统维护，暂停办理。",
            text_en="The office system is down for maintenance tomorrow morning.",
            audience=Audience(AudienceKind.EVERYONE),
            channels=Channels.TELEGRAM_ELSE_SMS,
            created_by="test",
        )
        expected = len(people.sms) + len(people.telegram)
        assert draft["recipients"] == expected

        def received() -> int:
            return len(twilio.delivered) + len(telegram.delivered())

        server, _port = start_server(env)
        try:
            staff.send(draft["id"])
            assert wait_until(lambda: received() >= expected * 0.4, timeout=60)
        finally:
            kill_hard(server)
        at_kill = received()
        assert at_kill < expected, "killed before the broadcast was through"

        # Its claims are under a lease of minutes: the next server runs that much later.
        later = LEASE.total_seconds() + 60
        server, _port = start_server(env, shift_seconds=later)
        try:
            assert wait_until(lambda: left(db, draft["id"]) == 0, timeout=120)
        finally:
            stop(server)

        sms = Received.of(people.sms, [request.to for request in twilio.delivered])
        chats = Received.of(people.telegram, [str(c.chat_id) for c in telegram.delivered()])
    assert sms == Received(duplicates=0, missed=0, strays=0)
    assert (chats.missed, chats.strays) == (0, 0)
    # at most the messages in doubt when the process died: with the Bot API, or sent and not
    # recorded yet (the Bot API cannot be asked whether it has them)
    assert chats.duplicates <= IN_DOUBT[Channel.TELEGRAM]
    progress = staff.progress(draft["id"])
    assert progress["opted_out"] == len(people.opted_out)
    assert progress["sent"] == expected
