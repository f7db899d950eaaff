"""Telegram's own tables, and the few statements on them.

``telegram_chats``: one row per private chat: who it is, whether the bot can still reach it
(a 403 marks it unreachable until the user writes again), and the earliest time the next
message may go to it (Telegram asks for at most one message per second per chat; kept here so
that every server process paces the same chat together), and the earliest time the next edit
of a message may go (``next_edit_at``: about 20 edits a minute in one chat, so an edit also
waits ``edit_pace`` after the chat's last edit). It also keeps which message shows the
current step (``prompt_message_id``) and the newest message the chat is known to hold
(``newest_message_id``; Telegram numbers a private chat's messages in order, both ways): a
pressed menu is changed in place only while nothing came after it.

``telegram_updates``: updates already answered. Telegram delivers an update again when it did
not get a 2xx in time; the dialog engine runs the turn once (its own key on the chat and
``u<update_id>``), and this key makes sure the reply goes out once. Both keys hold the chat: an
update id that comes from another chat is another update.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from core.clock import as_utc
from store.prepared import Prepared
from store.tables import metadata
from store.types import UTCDateTime

telegram_chats = sa.Table(
    "telegram_chats",
    metadata,
    sa.Column("chat_id", sa.String(32), primary_key=True),
    sa.Column("user_id", sa.BigInteger),
    sa.Column("first_seen_at", UTCDateTime, nullable=False),
    sa.Column("last_seen_at", UTCDateTime, nullable=False),
    sa.Column("next_send_at", UTCDateTime),
    sa.Column("next_edit_at", UTCDateTime),
    sa.Column("unreachable_since", UTCDateTime),
    sa.Column("unreachable_reason", sa.String(200)),
    sa.Column("prompt_message_id", sa.BigInteger),
    sa.Column("newest_message_id", sa.BigInteger),
)

telegram_updates = sa.Table(
    "telegram_updates",
    metadata,
    sa.Column("chat_id", sa.String(32), primary_key=True),
    sa.Column("update_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("answered_at", UTCDateTime, nullable=False),
    sa.Index("ix_telegram_updates_answered_at", "answered_at"),
)


# Telegram allows about 20 edits a minute in one chat: one edit every 3 s at most.
EDIT_PACE = timedelta(seconds=3)


class Slot(enum.Enum):
    """What pacing says about sending to a chat now."""

    GO = "go"
    WAIT = "wait"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class Reservation:
    slot: Slot
    free_at: datetime | None = None
    """With ``Slot.WAIT``: when the chat's next slot opens."""


@dataclass(frozen=True)
class Screen:
    """What a chat shows: the message with the current step, and the newest message."""

    prompt_message_id: int | None = None
    newest_message_id: int | None = None


class TelegramChats:
    """Each method is one short transaction of its own."""

    def __init__(
        self,
        engine: Engine,
        pace: timedelta = timedelta(seconds=1),
        edit_pace: timedelta = EDIT_PACE,
    ) -> None:
        self.engine = engine
        self.pace = pace
        self.edit_pace = edit_pace

    def screen(self, chat_id: str) -> Screen:
        c = telegram_chats.c
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(c.prompt_message_id, c.newest_message_id).where(c.chat_id == chat_id)
            ).one_or_none()
        return Screen() if row is None else Screen(row.prompt_message_id, row.newest_message_id)

    def shown(self, chat_id: str, message_id: int, now: datetime, *, prompt: bool) -> None:
        """Message ``message_id`` is in the chat now (``prompt``: it shows the current step)."""
        c = telegram_chats.c
        values: dict[str, Any] = {"newest_message_id": _newest(message_id)}
        if prompt:
            values["prompt_message_id"] = message_id
        with self.engine.begin() as conn:
            _ensure_chat(conn, chat_id, now)
            conn.execute(sa.update(telegram_chats).where(c.chat_id == chat_id).values(values))

    def answer_once(
        self,
        *,
        update_id: int,
        chat_id: str,
        user_id: int | None,
        now: datetime,
        message_id: int | None = None,
    ) -> bool:
        """True for the first delivery of ``update_id``: that one sends the reply. Also notes
        that the user is there (a chat that writes is reachable again), that a message goes
        to it now, and the user's own message ``message_id`` as the chat's newest."""
        with self.engine.begin() as conn:
            inserted = _insert_new(
                conn,
                telegram_updates,
                {"update_id": update_id, "chat_id": chat_id, "answered_at": now},
            )
            if not inserted:
                return False
            _ensure_chat(conn, chat_id, now)
            c = telegram_chats.c
            after_reply = now + self.pace
            conn.execute(
                sa.update(telegram_chats)
                .where(c.chat_id == chat_id)
                .values(
                    user_id=user_id,
                    last_seen_at=now,
                    next_send_at=sa.case(
                        (c.next_send_at > after_reply, c.next_send_at), else_=after_reply
                    ),
                    unreachable_since=None,
                    unreachable_reason=None,
                    **({} if message_id is None else {"newest_message_id": _newest(message_id)}),
                )
            )
            return True

    def unanswer(self, *, update_id: int, chat_id: str) -> None:
        """The reply could not be sent: a redelivery of ``update_id`` may answer it again."""
        c = telegram_updates.c
        with self.engine.begin() as conn:
            conn.execute(
                sa.delete(telegram_updates).where(c.chat_id == chat_id, c.update_id == update_id)
            )

    def reserve(self, chat_id: str, at: datetime, *, edit: bool = False) -> Reservation:
        """Take the chat's sending slot at ``at`` if the chat is free by then; an ``edit`` of a
        message also needs the chat's edit slot, and takes it for ``edit_pace``. Every message
        the outbox sends to a chat takes its slot: the statements are prebuilt."""
        params = {"chat": chat_id, "at": at, "send_from": at + self.pace}
        if edit:
            params["edit_from"] = at + self.edit_pace
        take = _TAKE_EDIT_SLOT if edit else _TAKE_SLOT
        with self.engine.connect() as conn:
            if take.write(conn, params) == 1:
                conn.commit()
                return Reservation(Slot.GO)
            row = _SLOTS.run(conn, {"chat": chat_id}).first()
            if row is None:  # a chat never seen: it is free, unless another send took it
                _ensure_chat(conn, chat_id, at)  # meanwhile (the outbox sends side by side)
                if take.write(conn, params) == 1:
                    conn.commit()
                    return Reservation(Slot.GO)
                row = _SLOTS.run(conn, {"chat": chat_id}).first()
            conn.commit()
        if row is None or row["unreachable_since"] is not None:
            return Reservation(Slot.UNREACHABLE)
        waits = [as_utc(row["next_send_at"])] if row["next_send_at"] is not None else []
        if edit and row["next_edit_at"] is not None:
            waits.append(as_utc(row["next_edit_at"]))
        return Reservation(Slot.WAIT, max(waits))

    def mark_unreachable(self, chat_id: str, now: datetime, reason: str) -> None:
        """The bot may not write to this chat (blocked, deactivated) until the user writes."""
        with self.engine.begin() as conn:
            _ensure_chat(conn, chat_id, now)
            conn.execute(
                sa.update(telegram_chats)
                .where(telegram_chats.c.chat_id == chat_id)
                .values(unreachable_since=now, unreachable_reason=reason[:200])
            )


def _take_slot(*, edit: bool) -> Prepared:
    """The chat's sending slot (and its edit slot, for an ``edit``) taken at ``at`` if the chat
    is reachable and free by then."""
    c = telegram_chats.c
    free = sa.or_(c.next_send_at.is_(None), c.next_send_at <= _at("at"))
    values = {"next_send_at": _at("send_from")}
    if edit:
        free = sa.and_(free, sa.or_(c.next_edit_at.is_(None), c.next_edit_at <= _at("at")))
        values["next_edit_at"] = _at("edit_from")
    return Prepared(
        sa.update(telegram_chats)
        .where(c.chat_id == sa.bindparam("chat"), c.unreachable_since.is_(None), free)
        .values(values)
    )


def _at(name: str) -> sa.BindParameter[datetime]:
    return sa.bindparam(name, type_=UTCDateTime)


_TAKE_SLOT = _take_slot(edit=False)
_TAKE_EDIT_SLOT = _take_slot(edit=True)
_SLOTS = Prepared(
    sa.select(
        telegram_chats.c.unreachable_since,
        telegram_chats.c.next_send_at,
        telegram_chats.c.next_edit_at,
    ).where(telegram_chats.c.chat_id == sa.bindparam("chat"))
)


def _ensure_chat(conn: Connection, chat_id: str, now: datetime) -> None:
    _insert_new(
        conn,
        telegram_chats,
        {"chat_id": chat_id, "first_seen_at": now, "last_seen_at": now},
    )


def _insert_new(conn: Connection, table: sa.Table, values: dict[str, Any]) -> bool:
    """Insert unless the primary key is there already; True when a row was added."""
    dialect: Any = postgresql if conn.dialect.name == "postgresql" else sqlite
    key = next(iter(table.primary_key.columns))
    statement = dialect.insert(table).values(values).on_conflict_do_nothing().returning(key)
    return conn.execute(statement).first() is not None


def _newest(message_id: int) -> Any:
    """``newest_message_id`` moved on to ``message_id`` (never back)."""
    newest = telegram_chats.c.newest_message_id
    return sa.case((newest > message_id, newest), else_=message_id)
