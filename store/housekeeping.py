"""Housekeeping: records that are kept only to recognise a message delivered twice, and spent
one-time codes, are deleted once they can no longer matter, so the tables do not grow without
end. A background job of the server (and of ``platebot chat``), safe with several processes.

Deletes go a batch at a time, each in its own short transaction: on SQLite a turn waiting for the
write lock waits for one batch at most.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.clock import Clock
from store.sms_tables import sms_inbound
from store.staff_tables import staff_sign_ins
from store.tables import inbound_messages, one_time_codes
from store.telegram_tables import telegram_updates

log = logging.getLogger(__name__)

# Twilio retries a webhook within seconds and Telegram keeps an update for 24 hours: a week is
# far beyond any second delivery.
KEEP_HANDLED = timedelta(days=7)
# The send limits look back one hour and a code is valid for five minutes.
KEEP_CODES = timedelta(days=1)
# Sign-in attempts count for 15 minutes; a month of them is kept to look into.
KEEP_SIGN_INS = timedelta(days=30)
EVERY = timedelta(hours=1)
BATCH = 2000


@dataclass(frozen=True)
class _Plan:
    table: sa.Table
    when: sa.Column[datetime]
    keep: timedelta

    def statement(self, cutoff: datetime) -> sa.Delete:
        key = sa.tuple_(*self.table.primary_key.columns)
        old = sa.select(*self.table.primary_key.columns).where(self.when < cutoff).limit(BATCH)
        return sa.delete(self.table).where(key.in_(old))


_PLANS = [
    _Plan(inbound_messages, inbound_messages.c.received_at, KEEP_HANDLED),
    _Plan(sms_inbound, sms_inbound.c.received_at, KEEP_HANDLED),
    _Plan(telegram_updates, telegram_updates.c.answered_at, KEEP_HANDLED),
    _Plan(one_time_codes, one_time_codes.c.created_at, KEEP_CODES),
    _Plan(staff_sign_ins, staff_sign_ins.c.at, KEEP_SIGN_INS),
]


class Housekeeping:
    """Deletes what is old enough, hourly; while a table has more, it goes on at once."""

    def __init__(self, db: Engine, clock: Clock, every: timedelta = EVERY) -> None:
        self.db = db
        self.clock = clock
        self.every = every
        self._next: datetime | None = None  # a restart just tidies up once more: nothing lost

    def run_once(self) -> int:
        now = self.clock.now()
        if self._next is not None and now < self._next:
            return 0
        deleted, more = 0, False
        for plan in _PLANS:
            with self.db.begin() as conn:
                count = conn.execute(plan.statement(now - plan.keep)).rowcount
            deleted += count
            more = more or count >= BATCH
        if deleted:
            log.info("housekeeping deleted %d old records", deleted)
        if not more:
            self._next = now + self.every
        return deleted
