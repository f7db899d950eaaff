"""Records kept to recognise a second delivery, and spent codes, go once they cannot matter; a
message delivered again within the week is still recognised."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.clock import ManualClock
from dialogs.replies import Inbound
from platebot.bootstrap import App
from store import housekeeping
from store.housekeeping import Housekeeping
from store.sms_tables import sms_inbound
from store.tables import inbound_messages, one_time_codes
from store.telegram_tables import telegram_updates


def _count(app: App, table: sa.Table) -> int:
    with app.db.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def _fill(app: App, clock: ManualClock, count: int, prefix: str) -> None:
    with app.db.begin() as conn:
        for n in range(count):
            at = clock.now()
            conn.execute(
                sa.insert(inbound_messages).values(
                    channel="sms",
                    user_key="+8613800138000",
                    message_id=f"{prefix}{n}",
                    reply={},
                    received_at=at,
                )
            )
            conn.execute(
                sa.insert(sms_inbound).values(
                    message_sid=f"{prefix}{n}", phone="+8613800138000", messages=[], received_at=at
                )
            )
            conn.execute(
                sa.insert(telegram_updates).values(
                    update_id=hash(prefix) % 10**9 + n, chat_id="1", answered_at=at
                )
            )


def test_old_records_go_in_batches_and_recent_ones_stay(
    app: App, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(housekeeping, "BATCH", 3)  # small batches, to see them
    keeper = Housekeeping(app.db, clock)
    _fill(app, clock, 7, "old")
    clock.advance(timedelta(days=6, hours=23, minutes=30))
    _fill(app, clock, 2, "new")
    assert keeper.run_once() == 0  # nothing a week old yet
    clock.advance(timedelta(minutes=45))
    assert keeper.run_once() == 0  # a week old now, but it looks again only after an hour
    clock.advance(timedelta(minutes=15))
    deleted = [keeper.run_once() for _ in range(4)]
    assert deleted == [9, 9, 3, 0]  # 3 tables, 3 rows each a batch, then what is left
    for table in (inbound_messages, sms_inbound, telegram_updates):
        assert _count(app, table) == 2


def test_spent_codes_go_after_a_day_and_a_second_delivery_is_still_recognised(
    app: App, clock: ManualClock
) -> None:
    first = app.dialogs.handle(Inbound("sms", "+8613800138000", "hi", message_id="SM1"))
    with app.db.begin() as conn:
        conn.execute(
            sa.insert(one_time_codes).values(
                phone="+8613800138000",
                purpose="register",
                code_hash="x",
                created_at=clock.now(),
                expires_at=clock.now() + timedelta(minutes=5),
                wrong_entries=0,
            )
        )
    clock.advance(timedelta(days=1, seconds=1))
    assert Housekeeping(app.db, clock).run_once() == 1
    assert _count(app, one_time_codes) == 0
    again = app.dialogs.handle(Inbound("sms", "+8613800138000", "hi", message_id="SM1"))
    assert again == first
