"""Notices addressed to people: one notice fans out to the account's contact points by its kind's
rule, is written once whatever writes it again, and goes before broadcast traffic."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from core.accounts import Language
from core.clock import ManualClock
from core.notices import NoticeKind, notify
from core.outbox import Channel, OutboxStatus, Priority
from core.pools import NumberState
from core.preselection import PreselectionState
from core.timers import Timers
from platebot.bootstrap import App
from platebot.dispatcher import Dispatcher
from sms.records import SmsRecords
from store.preselection_tables import preselections
from store.repositories import SqlOutboxRepository
from store.tables import outbox
from store.telegram_tables import TelegramChats
from tests.preselect_world import (
    PERSON_ID,
    PERSON_PHONE,
    UNIT_CODE,
    UNIT_PHONE,
    number_state,
    standard_world,
    vin,
)
from tests.support import CapturingSender

CHAT = "4242"


def person_id(app: App) -> int:
    with app.uow() as uow:
        found = uow.accounts.id_by_phone(PERSON_PHONE)
    assert found is not None
    return found


def link_chat(app: App, account_id: int, chat: str = CHAT) -> None:
    with app.uow() as uow:
        uow.contacts.link(
            channel="telegram", address=chat, account_id=account_id, now=app.clock.now()
        )
        uow.commit()


def write(app: App, **notice: Any) -> int:
    with app.uow() as uow:
        added = notify(uow, now=app.clock.now(), key="raw", params={"text": "hi"}, **notice)
        uow.commit()
    return added


def rows(app: App) -> list[tuple[str, str, str]]:
    """(channel, recipient, dedupe key) of every outbox row, in the order written."""
    with app.db.connect() as conn:
        query = sa.select(outbox.c.channel, outbox.c.recipient, outbox.c.dedupe_key)
        return [(str(c), r, k) for c, r, k in conn.execute(query.order_by(outbox.c.id))]


@pytest.fixture
def world(app: App) -> App:
    standard_world(app)
    return app


def test_a_one_time_code_goes_by_sms_only_though_a_chat_is_linked(world: App) -> None:
    account = person_id(world)
    link_chat(world, account)
    assert write(world, account_id=account, kind=NoticeKind.CODE, dedupe_key="code:1") == 1
    assert rows(world) == [("sms", PERSON_PHONE, "code:1")]


def test_an_urgent_notice_goes_to_the_linked_chat_rather_than_by_sms(world: App) -> None:
    account = person_id(world)
    link_chat(world, account)
    write(world, account_id=account, kind=NoticeKind.URGENT, dedupe_key="outbid:7")
    assert rows(world) == [("telegram", CHAT, "outbid:7")]


def test_an_urgent_notice_goes_by_sms_when_the_chat_blocked_the_bot(world: App) -> None:
    account = person_id(world)
    link_chat(world, account)
    TelegramChats(world.db).mark_unreachable(CHAT, world.clock.now(), "Forbidden: bot was blocked")
    write(world, account_id=account, kind=NoticeKind.URGENT, dedupe_key="outbid:7")
    assert rows(world) == [("sms", PERSON_PHONE, "outbid:7")]


def test_an_urgent_notice_goes_by_sms_without_a_linked_chat(world: App) -> None:
    write(world, account_id=person_id(world), kind=NoticeKind.URGENT, dedupe_key="outbid:7")
    assert rows(world) == [("sms", PERSON_PHONE, "outbid:7")]


def test_a_broadcast_goes_to_the_channels_staff_chose_that_can_be_reached(world: App) -> None:
    account = person_id(world)
    link_chat(world, account)
    both = {Channel.SMS, Channel.TELEGRAM}
    write(world, account_id=account, kind=NoticeKind.BROADCAST, dedupe_key="b:1", channels=both)
    write(
        world,
        account_id=account,
        kind=NoticeKind.BROADCAST,
        dedupe_key="b:2",
        channels={Channel.TELEGRAM},
    )
    with SmsRecords.begin(world.db) as records:
        records.opt_out(PERSON_PHONE, reason="stop", now=world.clock.now())
    write(world, account_id=account, kind=NoticeKind.BROADCAST, dedupe_key="b:3", channels=both)
    assert rows(world) == [
        ("sms", PERSON_PHONE, "b:1:sms"),
        ("telegram", CHAT, "b:1:telegram"),
        ("telegram", CHAT, "b:2:telegram"),
        ("telegram", CHAT, "b:3:telegram"),
    ]


def test_a_chat_signed_in_to_another_account_moves_to_it(world: App) -> None:
    account = person_id(world)
    link_chat(world, account)
    with world.uow() as uow:
        unit = uow.accounts.id_by_phone(UNIT_PHONE)
    assert unit is not None
    link_chat(world, unit)
    write(world, account_id=account, kind=NoticeKind.URGENT, dedupe_key="n:1")
    write(world, account_id=unit, kind=NoticeKind.URGENT, dedupe_key="n:2")
    assert rows(world) == [("sms", PERSON_PHONE, "n:1"), ("telegram", CHAT, "n:2")]


def test_a_notice_written_twice_with_one_dedupe_key_is_sent_once(
    world: App, sms: CapturingSender
) -> None:
    account = person_id(world)
    assert write(world, account_id=account, kind=NoticeKind.URGENT, dedupe_key="outbid:7") == 1
    assert write(world, account_id=account, kind=NoticeKind.URGENT, dedupe_key="outbid:7") == 0
    with world.uow() as uow:  # twice in one transaction too: the second adds nothing, no error
        for _ in range(2):
            notify(
                uow,
                account_id=account,
                kind=NoticeKind.URGENT,
                key="raw",
                params={"text": "2"},
                dedupe_key="outbid:8",
                now=world.clock.now(),
            )
        uow.commit()
    world.dispatcher.run_once()
    assert sms.sent == [(PERSON_PHONE, "hi"), (PERSON_PHONE, "2")]


# -- a timer step killed mid-batch ------------------------------------------------------------


def selected(app: App, *vehicles: tuple[int, str, str]) -> None:
    """Pre-selections with a number picked, whose deadline has passed."""
    now = app.clock.now()
    with app.db.begin() as conn:
        office = conn.execute(sa.text("SELECT id FROM offices")).scalar_one()
        for n, phone, owner in vehicles:
            account = conn.execute(
                sa.text("SELECT id FROM accounts WHERE phone = :p"), {"p": phone}
            ).scalar_one()
            conn.execute(
                sa.insert(preselections).values(
                    account_id=account,
                    office_id=office,
                    vin=vin(n),
                    plate_kind="small",
                    owner_id=owner,
                    state=PreselectionState.SELECTED,
                    self_choice_left=20,
                    batches_left=5,
                    created_at=now - timedelta(days=5),
                    serial=f"{10000 + n}",
                    selected_at=now - timedelta(days=5),
                    deadline=now - timedelta(hours=1),
                )
            )
            conn.execute(
                sa.text("UPDATE plate_numbers SET state = 'preselected' WHERE serial = :s"),
                {"s": f"{10000 + n}"},
            )


def test_a_lapse_step_killed_mid_batch_and_run_again_sends_each_notice_once(
    world: App, sms: CapturingSender, monkeypatch: pytest.MonkeyPatch
) -> None:
    selected(
        world,
        (1, PERSON_PHONE, PERSON_ID),
        (2, PERSON_PHONE, PERSON_ID),
        (11, UNIT_PHONE, UNIT_CODE),
    )
    real_add = SqlOutboxRepository.add
    written: list[str] = []

    def killed_at_the_second(self: SqlOutboxRepository, message: Any) -> bool:
        if len(written) == 1:
            raise SystemExit("killed")  # the process dies in the middle of the batch
        written.append(message.dedupe_key)
        return real_add(self, message)

    monkeypatch.setattr(SqlOutboxRepository, "add", killed_at_the_second)
    with pytest.raises(SystemExit):
        Timers(world.uow, world.clock).run_once()
    monkeypatch.setattr(SqlOutboxRepository, "add", real_add)
    assert rows(world) == []  # its transaction died with it
    assert Timers(world.uow, world.clock).run_once() == 3
    keys = sorted(key for _, _, key in rows(world))
    assert [key.split(":")[0] for key in keys] == ["lapse"] * 3
    with world.uow() as uow:  # the lapse written again (a handler run twice): nothing more
        for key in keys:
            notify(
                uow,
                kind=NoticeKind.LAPSE,
                key="raw",
                params={"text": "again"},
                dedupe_key=key,
                now=world.clock.now(),
                phone=PERSON_PHONE,
                language=Language.ZH,
            )
        uow.commit()
    assert Timers(world.uow, world.clock).run_once() == 0
    world.dispatcher.run_once()
    assert sorted(phone for phone, _ in sms.sent) == [PERSON_PHONE, PERSON_PHONE, UNIT_PHONE]
    assert all("粤D·1" in text for _, text in sms.sent)
    assert number_state(world, "10001") == NumberState.POOLED


# -- priority ---------------------------------------------------------------------------------


def test_a_one_time_code_queued_behind_ten_thousand_broadcast_rows_is_sent_first(
    app: App, clock: ManualClock, sms: CapturingSender
) -> None:
    now = clock.now()
    broadcast: list[dict[str, Any]] = [
        {
            "channel": Channel.SMS,
            "recipient": f"+86138{n:08d}",
            "account_id": None,
            "key": "raw",
            "params": {"text": "停电通知"},
            "choices": [],
            "language": Language.ZH,
            "dedupe_key": f"broadcast:1:{n}",
            "priority": Priority.BROADCAST,
            "live_key": None,
            "sensitive": False,
            "status": OutboxStatus.PENDING,
            "attempts": 0,
            "created_at": now,
            "due_at": now,
            "in_doubt": False,
        }
        for n in range(10_000)
    ]
    with app.db.begin() as conn:
        conn.execute(sa.insert(outbox), broadcast)
    clock.advance(timedelta(seconds=1))
    write(
        app, phone="+8613800138000", kind=NoticeKind.CODE, dedupe_key="code:1", language=Language.ZH
    )
    assert Dispatcher(app.uow, clock, {Channel.SMS: sms}, batch=1).run_channel(Channel.SMS) == 1
    assert sms.sent == [("+8613800138000", "hi")]


def test_the_claim_finds_the_most_urgent_rows_through_an_index_not_a_sort(app: App) -> None:
    """The claim reads rows in index order, so its cost does not grow with the queue."""
    if app.db.dialect.name != "sqlite":
        pytest.skip("SQLite's query plan is checked; PostgreSQL's depends on its statistics")
    seen: list[tuple[str, Any]] = []

    def keep(conn: Any, cursor: Any, statement: str, params: Any, *args: Any) -> None:
        seen.append((statement, params))

    sa.event.listen(app.db, "before_cursor_execute", keep)
    try:
        Dispatcher(app.uow, app.clock, {}).run_channel(Channel.SMS)
    finally:
        sa.event.remove(app.db, "before_cursor_execute", keep)
    statement, params = next((s, p) for s, p in seen if "ORDER BY outbox.priority" in s)
    with app.db.connect() as conn:
        plan = list(conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params))
    outer = [detail for _id, parent, _unused, detail in plan if parent == 0]
    assert outer[0] == "SEARCH outbox USING INDEX ix_outbox_claim (channel=?)", plan
    assert "USE TEMP B-TREE FOR ORDER BY" not in outer, plan
