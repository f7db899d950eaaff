"""Repositories: they add, find and lock; they never commit (the unit of work does)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.accounts import Account, Language
from core.otp import OneTimeCode
from core.outbox import OutboxMessage, OutboxStatus
from dialogs.conversation import Conversation
from dialogs.replies import Reply
from store.tables import accounts, conversations, inbound_messages, one_time_codes, outbox


class SqlAccountRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, account: Account) -> None:
        self.session.add(account)
        self.session.flush()

    def get(self, account_id: int) -> Account | None:
        return self.session.get(Account, account_id)

    def by_phone(self, phone: str) -> Account | None:
        query = sa.select(Account).where(accounts.c.phone == phone)
        return self.session.scalars(query).one_or_none()


class SqlCodeRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, code: OneTimeCode) -> None:
        self.session.add(code)

    def latest(self, phone: str, purpose: str) -> OneTimeCode | None:
        c = one_time_codes.c
        query = (
            sa.select(OneTimeCode)
            .where(c.phone == phone, c.purpose == purpose)
            .order_by(c.created_at.desc(), c.id.desc())
            .limit(1)
        )
        return self.session.scalars(query).first()

    def sent_since(self, phone: str, since: datetime) -> list[datetime]:
        c = one_time_codes.c
        query = sa.select(c.created_at).where(c.phone == phone, c.created_at >= since)
        return [when for when in self.session.scalars(query) if when is not None]


class SqlOutboxRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, message: OutboxMessage) -> None:
        self.session.add(message)

    def get(self, message_id: int) -> OutboxMessage | None:
        return self.session.get(OutboxMessage, message_id)

    def claim_due(self, now: datetime, limit: int) -> Sequence[OutboxMessage]:
        """Pending rows that are due, and rows whose dispatcher lease ran out, locked for us.

        ``SKIP LOCKED`` lets several dispatchers share the table on PostgreSQL; SQLite's
        ``BEGIN IMMEDIATE`` already makes the claim exclusive.
        """
        c = outbox.c
        query = (
            sa.select(OutboxMessage)
            .where(
                c.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]),
                c.due_at <= now,
            )
            .order_by(c.due_at, c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list(self.session.scalars(query))


def _insert(session: Session, table: sa.Table) -> Any:
    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table)


class SqlConversationRepository:
    """Plain SQL on the hot path: one locked read and one write per turn."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def lock(self, *, channel: str, user_key: str, new: Conversation) -> Conversation:
        where = (conversations.c.channel == channel) & (conversations.c.user_key == user_key)
        query = sa.select(conversations).where(where).with_for_update()
        row = self.session.execute(query).mappings().first()
        if row is None:
            self.session.execute(
                _insert(self.session, conversations)
                .values(_values(new))
                .on_conflict_do_nothing(index_elements=["channel", "user_key"])
            )
            row = self.session.execute(query).mappings().one()
        return _conversation(row)

    def save(self, conversation: Conversation) -> None:
        values = _values(conversation)
        values["version"] = conversation.version + 1
        result = self.session.execute(
            sa.update(conversations)
            .where(
                conversations.c.id == conversation.id,
                conversations.c.version == conversation.version,
            )
            .values(values)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise RuntimeError("conversation changed under a lock: refusing to overwrite it")
        conversation.version += 1

    def for_account(self, account_id: int) -> Sequence[Conversation]:
        rows = self.session.execute(
            sa.select(conversations).where(conversations.c.account_id == account_id)
        ).mappings()
        return [_conversation(row) for row in rows]


def _values(conversation: Conversation) -> dict[str, Any]:
    return {
        "channel": conversation.channel,
        "user_key": conversation.user_key,
        "flow": conversation.flow,
        "state": conversation.state,
        "language": conversation.language,
        "data": conversation.data,
        "history": conversation.history,
        "returns": conversation.returns,
        "choices": conversation.choices,
        "account_id": conversation.account_id,
        "phone": conversation.phone,
        "updated_at": conversation.updated_at,
        "expires_at": conversation.expires_at,
        "version": conversation.version,
    }


def _conversation(row: sa.RowMapping) -> Conversation:
    return Conversation(
        id=row["id"],
        channel=row["channel"],
        user_key=row["user_key"],
        flow=row["flow"],
        state=row["state"],
        language=Language(row["language"]),
        data=dict(row["data"]),
        history=list(row["history"]),
        returns=list(row["returns"]),
        choices=list(row["choices"]),
        account_id=row["account_id"],
        phone=row["phone"],
        updated_at=row["updated_at"],
        expires_at=row["expires_at"],
        version=row["version"],
    )


class SqlInboundLog:
    def __init__(self, session: Session) -> None:
        self.session = session

    def reply_for(self, channel: str, message_id: str) -> Reply | None:
        stored = self.session.execute(
            sa.select(inbound_messages.c.reply).where(
                inbound_messages.c.channel == channel, inbound_messages.c.message_id == message_id
            )
        ).scalar_one_or_none()
        return None if stored is None else Reply.from_json(stored)

    def record(self, channel: str, message_id: str, reply: Reply, now: datetime) -> None:
        self.session.execute(
            sa.insert(inbound_messages).values(
                channel=channel, message_id=message_id, reply=reply.to_json(), received_at=now
            )
        )
