"""What the SMS channel keeps in the database, read and written inside one transaction
(``with SmsRecords.begin(engine) as records: ...``): MessageSids handled, opt-outs, pages
waiting for "N", delivery status. Concurrency is settled by primary keys and row locks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from core.accounts import Language
from store.sms_tables import sms_deliveries, sms_inbound, sms_opt_outs, sms_pages
from store.tables import conversations

CHANNEL = "sms"

# Twilio's message statuses, in the order a message goes through them; a late callback of an
# earlier status does not overwrite a later one.
_STATUS_ORDER = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 4,
    "undelivered": 4,
    "failed": 4,
    "read": 5,
    "canceled": 5,
}


@dataclass(frozen=True, slots=True)
class Pages:
    """The pages of one prompt (``token``) still to send."""

    pages: list[str]
    token: str
    language: Language
    created_at: datetime


class SmsRecords:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    @classmethod
    @contextmanager
    def begin(cls, engine: Engine) -> Iterator[SmsRecords]:
        """One transaction: committed when the block ends, rolled back on an error."""
        with engine.begin() as conn:
            yield cls(conn)

    def _insert(self, table: sa.Table) -> Any:
        module: Any = postgresql if self.conn.dialect.name == "postgresql" else sqlite
        return module.insert(table)

    # -- inbound MessageSids -------------------------------------------------------------

    def answered(self, phone: str, message_sid: str) -> list[str] | None:
        """The messages a MessageSid from ``phone`` was answered with, or None if it is new."""
        stored = self.conn.execute(
            sa.select(sms_inbound.c.messages).where(
                sms_inbound.c.phone == phone, sms_inbound.c.message_sid == message_sid
            )
        ).scalar_one_or_none()
        return None if stored is None else [str(message) for message in stored]

    def remember(self, message_sid: str, phone: str, messages: list[str], now: datetime) -> bool:
        """Record the answer to ``message_sid`` from ``phone``; False if it was recorded
        already."""
        result = self.conn.execute(
            self._insert(sms_inbound)
            .values(message_sid=message_sid, phone=phone, messages=messages, received_at=now)
            .on_conflict_do_nothing(index_elements=["phone", "message_sid"])
        )
        return bool(result.rowcount)

    # -- opt-outs ------------------------------------------------------------------------

    def is_opted_out(self, phone: str) -> bool:
        found = self.conn.execute(
            sa.select(sms_opt_outs.c.phone).where(sms_opt_outs.c.phone == phone)
        ).first()
        return found is not None

    def opt_out(self, phone: str, *, reason: str, now: datetime) -> bool:
        """Nothing is sent to ``phone`` any more; False if it had opted out already."""
        result = self.conn.execute(
            self._insert(sms_opt_outs)
            .values(phone=phone, reason=reason[:40], opted_out_at=now)
            .on_conflict_do_nothing(index_elements=["phone"])
        )
        return bool(result.rowcount)

    def opt_in(self, phone: str) -> bool:
        """``phone`` gets messages again; False if it had not opted out."""
        result = self.conn.execute(sa.delete(sms_opt_outs).where(sms_opt_outs.c.phone == phone))
        return bool(result.rowcount)

    # -- pages waiting for "N" -----------------------------------------------------------

    def pages(self, phone: str) -> Pages | None:
        """The pages still to send to ``phone``, locked until the transaction ends."""
        row = (
            self.conn.execute(
                sa.select(sms_pages).where(sms_pages.c.phone == phone).with_for_update()
            )
            .mappings()
            .first()
        )
        if row is None:
            return None
        return Pages(
            pages=[str(page) for page in row["pages"]],
            token=str(row["token"]),
            language=Language(row["language"]),
            created_at=row["created_at"],
        )

    def keep_pages(self, phone: str, pages: Pages) -> None:
        """``pages`` wait for "N" from ``phone`` (a second delivery of the same prompt's pages
        leaves the ones already waiting as they are)."""
        values = {
            "phone": phone,
            "token": pages.token,
            "pages": pages.pages,
            "language": pages.language,
            "created_at": pages.created_at,
        }
        insert = self._insert(sms_pages).values(values)
        self.conn.execute(
            insert.on_conflict_do_update(
                index_elements=["phone"],
                set_={name: insert.excluded[name] for name in values if name != "phone"},
                where=sms_pages.c.token != insert.excluded.token,
            )
        )

    def turn_pages(self, phone: str, rest: list[str]) -> None:
        """One page was sent: ``rest`` wait (none: the row goes)."""
        where = sms_pages.c.phone == phone
        if rest:
            self.conn.execute(sa.update(sms_pages).where(where).values(pages=rest))
        else:
            self.conn.execute(sa.delete(sms_pages).where(where))

    # -- who the number is ---------------------------------------------------------------

    def language_of(self, phone: str) -> Language | None:
        """The language the number's SMS conversation is in, if it has one."""
        found = self._conversation(phone, conversations.c.language)
        return None if found is None else Language(found)

    def prompt_token(self, phone: str) -> str | None:
        """The token of the prompt the number's SMS conversation shows now (its version)."""
        found = self._conversation(phone, conversations.c.version)
        return None if found is None else str(found)

    def _conversation(self, phone: str, column: sa.Column[Any]) -> Any:
        where = (conversations.c.channel == CHANNEL) & (conversations.c.user_key == phone)
        return self.conn.execute(sa.select(column).where(where)).scalar_one_or_none()

    # -- delivery status -----------------------------------------------------------------

    def record_status(
        self, message_sid: str, status: str, error_code: int | None, now: datetime
    ) -> None:
        """Keep the furthest status Twilio reported for ``message_sid``."""
        c = sms_deliveries.c
        current = self.conn.execute(
            sa.select(c.status).where(c.message_sid == message_sid).with_for_update()
        ).scalar_one_or_none()
        if current is None:
            self.conn.execute(
                self._insert(sms_deliveries)
                .values(
                    message_sid=message_sid, status=status, error_code=error_code, updated_at=now
                )
                .on_conflict_do_nothing(index_elements=["message_sid"])
            )
            return
        if _STATUS_ORDER.get(status, 0) < _STATUS_ORDER.get(current, 0):
            return
        self.conn.execute(
            sa.update(sms_deliveries)
            .where(c.message_sid == message_sid)
            .values(status=status, error_code=error_code, updated_at=now)
        )

    def delivery_status(self, message_sid: str) -> tuple[str, int | None] | None:
        row = self.conn.execute(
            sa.select(sms_deliveries.c.status, sms_deliveries.c.error_code).where(
                sms_deliveries.c.message_sid == message_sid
            )
        ).first()
        return None if row is None else (str(row[0]), row[1])
