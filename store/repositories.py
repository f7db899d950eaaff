"""Repositories: they add, find and lock; they never commit (the unit of work does)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.accounts import Account, Language
from core.otp import OneTimeCode
from core.outbox import OutboxMessage, OutboxStatus
from dialogs.conversation import AlreadyHandled, Conversation
from dialogs.replies import Reply
from store.tables import accounts, conversations, inbound_messages, one_time_codes, outbox

_ACCOUNT_ID = sa.select(accounts.c.id).where(accounts.c.phone == sa.bindparam("phone"))


class SqlAccountRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, account: Account) -> None:
        self.session.add(account)
        self.session.flush()

    def get(self, account_id: int) -> Account | None:
        return self.session.get(Account, account_id)

    def id_by_phone(self, phone: str) -> int | None:
        """Just the id (plain SQL, no entity loaded): for recognising a sender on every turn."""
        return _conn(self.session).execute(_ACCOUNT_ID, {"phone": phone}).scalar()

    def by_phone(self, phone: str) -> Account | None:
        query = sa.select(Account).where(accounts.c.phone == phone)
        return self.session.scalars(query).one_or_none()


_PHONE_LOCK = sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")
_SENT_SINCE = sa.select(one_time_codes.c.created_at).where(
    one_time_codes.c.phone == sa.bindparam("phone"),
    one_time_codes.c.created_at >= sa.bindparam("since", type_=one_time_codes.c.created_at.type),
)
_INSERT_CODE = sa.insert(one_time_codes).returning(one_time_codes.c.id)
_INSERT_OUTBOX = sa.insert(outbox).returning(outbox.c.id)


def _insert_row(session: Session, statement: sa.Insert, entity: object, table: sa.Table) -> int:
    """Insert a new entity's row without the ORM's unit of work; returns its id."""
    values = {
        column.name: getattr(entity, column.name) for column in table.columns if column.name != "id"
    }
    return int(_conn(session).execute(statement, values).scalar_one())


class SqlCodeRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, code: OneTimeCode) -> None:
        """Inserted at once with plain SQL (a new code is never changed in its own turn)."""
        code.id = _insert_row(self.session, _INSERT_CODE, code, one_time_codes)

    def lock_phone(self, phone: str) -> None:
        """Serialise everything about one number's codes until the transaction ends: sends
        and checks from several chats (or processes) then count against the same limits.
        SQLite's BEGIN IMMEDIATE already serialises whole transactions."""
        connection = _conn(self.session)
        if connection.dialect.name == "postgresql":
            connection.execute(_PHONE_LOCK, {"key": f"otp:{phone}"})

    def latest(self, phone: str, purpose: str) -> OneTimeCode | None:
        c = one_time_codes.c
        query = (
            sa.select(OneTimeCode)
            .where(c.phone == phone, c.purpose == purpose)
            .order_by(c.created_at.desc(), c.id.desc())
            .limit(1)
            .execution_options(populate_existing=True)
        )
        return self.session.scalars(query).first()

    def sent_since(self, phone: str, since: datetime) -> list[datetime]:
        rows = _conn(self.session).execute(_SENT_SINCE, {"phone": phone, "since": since})
        return [when for when in rows.scalars() if when is not None]


class SqlOutboxRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, message: OutboxMessage) -> None:
        """Inserted at once with plain SQL: writing notices is on the hot path of many turns."""
        message.id = _insert_row(self.session, _INSERT_OUTBOX, message, outbox)

    def get(self, message_id: int) -> OutboxMessage | None:
        return self.session.get(OutboxMessage, message_id)

    def lock(self, message_id: int) -> OutboxMessage | None:
        """The message, row-locked and freshly read (not a copy loaded earlier)."""
        return self.session.get(
            OutboxMessage, message_id, with_for_update=True, populate_existing=True
        )

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


def _conn(session: Session) -> Connection:
    """The connection the unit of work's transaction runs on: plain SQL goes straight to it,
    skipping the ORM's per-call transaction bookkeeping."""
    bind = session.bind
    return bind if isinstance(bind, Connection) else session.connection()


def _insert(session: Session, table: sa.Table) -> Any:
    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table)


_c = conversations.c
_COLUMNS = [column.name for column in conversations.c if column.name != "id"]
_EARLIER_REPLY = (
    sa.select(inbound_messages.c.reply)
    .where(
        inbound_messages.c.channel == sa.bindparam("channel"),
        inbound_messages.c.message_id == sa.bindparam("message_id"),
    )
    .scalar_subquery()
    .label("earlier_reply")
)
# Built once: executing a prebuilt statement skips SQLAlchemy's per-call construction and cache-key
# work, which is most of a turn's cost otherwise.
_LOCK = (
    sa.select(conversations, _EARLIER_REPLY)
    .where(_c.channel == sa.bindparam("channel"), _c.user_key == sa.bindparam("user_key"))
    .with_for_update(of=conversations)
)
_SAVE = (
    sa.update(conversations)
    .where(_c.id == sa.bindparam("w_id"), _c.version == sa.bindparam("w_version"))
    .values({name: sa.bindparam(f"p_{name}", type_=_c[name].type) for name in _COLUMNS})
)
_RECORD = sa.insert(inbound_messages)
_INSERT_NEW: dict[str, Any] = {
    dialect.__name__.rsplit(".", 1)[-1]: dialect.insert(conversations)
    .values({name: sa.bindparam(f"p_{name}", type_=_c[name].type) for name in _COLUMNS})
    .on_conflict_do_nothing(index_elements=["channel", "user_key"])
    for dialect in (postgresql, sqlite)
}


class SqlConversationRepository:
    """Prebuilt Core statements on the hot path: one locked read (which also finds an earlier
    reply to the same inbound message) and one write per turn."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def lock(self, *, channel: str, user_key: str, new: Conversation) -> Conversation:
        return self.lock_for_turn(channel=channel, user_key=user_key, new=new, message_id=None)[0]

    def lock_for_turn(
        self, *, channel: str, user_key: str, new: Conversation, message_id: str | None
    ) -> tuple[Conversation, Reply | None]:
        connection = _conn(self.session)
        params = {"channel": channel, "user_key": user_key, "message_id": message_id}
        row = connection.execute(_LOCK, params).mappings().first()
        if row is None:
            insert = _INSERT_NEW[
                "postgresql" if connection.dialect.name == "postgresql" else "sqlite"
            ]
            connection.execute(insert, _params(new))
            row = connection.execute(_LOCK, params).mappings().one()
        earlier = row["earlier_reply"]
        return _conversation(row), None if earlier is None else Reply.from_json(earlier)

    def save(self, conversation: Conversation) -> None:
        """Write the conversation back; refused if its version moved (it cannot under our lock)."""
        params = _params(conversation)
        params.update(
            p_version=conversation.version + 1, w_id=conversation.id, w_version=conversation.version
        )
        result = _conn(self.session).execute(_SAVE, params)
        if result.rowcount != 1:
            raise RuntimeError("conversation changed under a lock: refusing to overwrite it")
        conversation.version += 1


def _params(conversation: Conversation) -> dict[str, Any]:
    return {f"p_{name}": value for name, value in _values(conversation).items()}


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

    def record(self, channel: str, message_id: str, reply: Reply, now: datetime) -> None:
        values = {
            "channel": channel,
            "message_id": message_id,
            "reply": reply.to_json(),
            "received_at": now,
        }
        try:
            _conn(self.session).execute(_RECORD, values)
        except IntegrityError as error:
            raise AlreadyHandled(f"{channel} message already handled") from error
