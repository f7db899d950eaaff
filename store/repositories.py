"""Repositories: they add, find and lock; they never commit (the unit of work does)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.accounts import Account, Language
from core.conversation import AlreadyHandled, Conversation
from core.notices import ContactPoint
from core.otp import OneTimeCode, Sent
from core.outbox import REPLACED_BY_LATER, Channel, Due, OutboxMessage, OutboxStatus
from store.db import dumps
from store.prepared import Prepared
from store.sms_tables import sms_opt_outs
from store.tables import (
    accounts,
    contact_points,
    conversations,
    dispatch_lanes,
    inbound_messages,
    one_time_codes,
    outbox,
)
from store.telegram_tables import telegram_chats

ALL_CHANNELS = frozenset(Channel)


class Scope:
    """A unit of work's transaction as repositories see it: the Core connection it runs on, and
    an ORM session that joins it when an entity is first needed. Plain prebuilt statements go
    straight to the connection, skipping the ORM's per-call bookkeeping."""

    __slots__ = ("_session", "channels", "connection", "repositories")

    def __init__(
        self, connection: Connection, channels: Collection[Channel] = ALL_CHANNELS
    ) -> None:
        self.connection = connection
        # The channels the server sends on (Telegram only with a bot token): a contact point on
        # another one cannot be reached, whatever its own records say.
        self.channels = frozenset(channels)
        self._session: Session | None = None
        self.repositories: dict[str, object] = {}  # the unit of work's, made on first use

    @property
    def session(self) -> Session:
        if self._session is None:
            self._session = Session(
                bind=self.connection, join_transaction_mode="rollback_only", expire_on_commit=False
            )
        return self._session

    def commit(self) -> None:
        session = self._session
        if session is not None and _has_changes(session):
            session.flush()
        if self.connection.in_transaction():
            self.connection.commit()

    def rollback(self) -> None:
        if self._session is not None:
            self._session.expunge_all()
        if self.connection.in_transaction():
            self.connection.rollback()

    def end(self) -> None:
        """Close the ORM session and roll back what was not committed; the connection stays
        open."""
        try:
            if self._session is not None:
                self._session.close()
        finally:
            if self.connection.in_transaction():
                self.connection.rollback()

    def close(self) -> None:
        try:
            self.end()
        finally:
            self.connection.close()


def _has_changes(session: Session) -> bool:
    """Whether a flush would write anything. A flush of entities whose changes were written
    already (``set_committed_value``) writes nothing, yet walks them all: a fifth of a pool draw.
    (Entities are mapped without relationships; a pending change to an unloaded collection
    would need the flush, and ``is_modified`` would not see it.)"""
    if session.new or session.deleted:
        return True
    return any(session.is_modified(entity) for entity in session.dirty)


def _insert_of(table: sa.Table) -> Prepared:
    """Insert one row of a new entity (every column but the id), returning its id."""
    keys = [column.name for column in table.columns if column.name != "id"]
    return Prepared(sa.insert(table).returning(table.c.id), column_keys=keys)


# The statements a dialog turn runs are prepared once (store/prepared.py) and run on the unit of
# work's connection: per turn, SQLAlchemy's execution machinery would cost more than SQLite.
_ACCOUNT_ID = Prepared(sa.select(accounts.c.id).where(accounts.c.phone == sa.bindparam("phone")))
_ACCOUNT = Prepared(sa.select(accounts).where(accounts.c.id == sa.bindparam("id")))
_SET_LANGUAGE = Prepared(
    sa.update(accounts)
    .where(accounts.c.id == sa.bindparam("id"))
    .values(language=sa.bindparam("language", type_=accounts.c.language.type))
)
_INSERT_ACCOUNT = _insert_of(accounts)
_VIEWS_AT_ONCE = 900


class SqlAccountRepository:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def add(self, account: Account) -> None:
        """Inserted at once with plain SQL; ``account`` gets its id. The object is not tracked
        afterwards: to change an account, load it with ``get``."""
        account.id = _insert_row(self.scope.connection, _INSERT_ACCOUNT, account, accounts)
        _LINK[self.scope.connection.dialect.name == "postgresql"].write(
            self.scope.connection,
            {
                "channel": Channel.SMS,
                "address": account.phone,
                "account_id": account.id,
                "linked_at": account.created_at,
            },
        )

    def get(self, account_id: int) -> Account | None:
        return self.scope.session.get(Account, account_id)

    def view(self, account_id: int) -> Account | None:
        """The account as stored, read with plain SQL and not tracked (changes to it are not
        saved): what a dialog shows costs no ORM session."""
        row = _ACCOUNT.run(self.scope.connection, {"id": account_id}).first()
        return None if row is None else Account(**row)  # the columns are the fields

    def views(self, account_ids: Collection[int]) -> dict[int, Account]:
        """``view`` of many: one query (of up to ``_VIEWS_AT_ONCE`` accounts: SQLite's oldest
        limit on a statement's parameters is 999)."""
        ids = sorted(set(account_ids))
        found: dict[int, Account] = {}
        for start in range(0, len(ids), _VIEWS_AT_ONCE):
            chunk = ids[start : start + _VIEWS_AT_ONCE]
            query = sa.select(accounts).where(accounts.c.id.in_(chunk))
            for row in self.scope.connection.execute(query).mappings():
                found[row["id"]] = Account(**row)  # the columns are the fields
        return found

    def set_language(self, account_id: int, language: Language) -> None:
        _SET_LANGUAGE.write(self.scope.connection, {"id": account_id, "language": language})

    def id_by_phone(self, phone: str) -> int | None:
        """Just the id (plain SQL, no entity loaded): for recognising a sender on every turn."""
        found = _ACCOUNT_ID.run(self.scope.connection, {"phone": phone}).scalar()
        return None if found is None else int(found)

    def by_phone(self, phone: str) -> Account | None:
        query = sa.select(Account).where(accounts.c.phone == phone)
        return self.scope.session.scalars(query).one_or_none()


_PHONE_LOCK = Prepared(sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"))
_c = one_time_codes.c
_SENT_SINCE = sa.select(_c.phone, _c.purpose, _c.requester, _c.vouched, _c.created_at).where(
    sa.or_(
        _c.phone == sa.bindparam("phone"),
        sa.and_(_c.requester != "", _c.requester == sa.bindparam("requester")),
    ),
    _c.created_at >= sa.bindparam("since", type_=_c.created_at.type),
)
_VERIFIED_SINCE = Prepared(
    sa.select(_c.id)
    .where(
        _c.phone == sa.bindparam("phone"),
        _c.requester == sa.bindparam("requester"),
        _c.used_at >= sa.bindparam("since", type_=_c.used_at.type),
    )
    .limit(1)
)
_INSERT_CODE = _insert_of(one_time_codes)
_LATEST_CODE = Prepared(
    sa.select(one_time_codes)
    .where(
        one_time_codes.c.phone == sa.bindparam("phone"),
        one_time_codes.c.purpose == sa.bindparam("purpose"),
        one_time_codes.c.requester == sa.bindparam("requester"),
    )
    .order_by(one_time_codes.c.created_at.desc(), one_time_codes.c.id.desc())
    .limit(1)
)
_SAVE_CODE = Prepared(
    sa.update(one_time_codes)
    .where(one_time_codes.c.id == sa.bindparam("w_id"))
    .values(
        wrong_entries=sa.bindparam("wrong_entries"),
        used_at=sa.bindparam("used_at", type_=one_time_codes.c.used_at.type),
    )
)


def _insert_row(
    connection: Connection, statement: Prepared, entity: object, table: sa.Table
) -> int:
    """Insert a new entity's row without the ORM's unit of work; returns its id."""
    values = {
        column.name: getattr(entity, column.name) for column in table.columns if column.name != "id"
    }
    return int(statement.run(connection, values).scalar())


class SqlCodeRepository:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def add(self, code: OneTimeCode) -> None:
        """Inserted at once with plain SQL (a new code is never changed in its own turn)."""
        code.id = _insert_row(self.scope.connection, _INSERT_CODE, code, one_time_codes)

    def lock_phone(self, phone: str) -> None:
        """Serialise everything about one number's codes until the transaction ends: sends
        and checks from several chats (or processes) then count against the same limits.
        SQLite's BEGIN IMMEDIATE already serialises whole transactions."""
        connection = self.scope.connection
        if connection.dialect.name == "postgresql":
            _PHONE_LOCK.write(connection, {"key": f"otp:{phone}"})

    def latest(self, phone: str, purpose: str, requester: str) -> OneTimeCode | None:
        """The code sent last to ``phone`` for ``purpose`` at ``requester``'s request, read
        afresh (plain SQL, not tracked: ``save`` writes back what a check changed)."""
        params = {"phone": phone, "purpose": purpose, "requester": requester}
        row = _LATEST_CODE.run(self.scope.connection, params).first()
        if row is None:
            return None
        return OneTimeCode(**row)  # the columns are the fields

    def save(self, code: OneTimeCode) -> None:
        """Write back what checking ``code`` changed: wrong entries counted, or used."""
        params = {"w_id": code.id, "wrong_entries": code.wrong_entries, "used_at": code.used_at}
        _SAVE_CODE.write(self.scope.connection, params)

    def sent_since(self, phone: str, requester: str, since: datetime) -> list[Sent]:
        """Codes sent to ``phone`` or asked for by ``requester`` since ``since``."""
        params = {"phone": phone, "requester": requester, "since": since}
        rows = self.scope.connection.execute(_SENT_SINCE, params).mappings()
        return [Sent(**row) for row in rows]

    def verified_since(self, phone: str, requester: str, since: datetime) -> bool:
        """Whether ``requester`` entered a right code for ``phone`` since ``since``."""
        params = {"phone": phone, "requester": requester, "since": since}
        return _VERIFIED_SINCE.run(self.scope.connection, params).first() is not None


_o = outbox.c
_OPEN = f"('{OutboxStatus.PENDING}', '{OutboxStatus.SENDING}')"
_OUTBOX_FIELDS = [column.name for column in outbox.columns]
_OUTBOX_KEYS = [name for name in _OUTBOX_FIELDS if name != "id"]


def _insert_new_message(dialect: Any) -> Prepared:
    """Insert a message unless its dedupe key is taken; returns its id (None: not inserted)."""
    statement = (
        dialect.insert(outbox)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(_o.id)
    )
    return Prepared(statement, column_keys=_OUTBOX_KEYS)


# By ``connection.dialect.name == "postgresql"``: ON CONFLICT is spelt by each dialect.
_INSERT_OUTBOX = {False: _insert_new_message(sqlite), True: _insert_new_message(postgresql)}
# A live update replaces those of the same message still waiting that were written no later
# (``created_at``: when what it shows was so) ...
_COALESCE = Prepared(
    sa.update(outbox)
    .where(
        _o.channel == sa.bindparam("channel", type_=_o.channel.type),
        _o.recipient == sa.bindparam("recipient"),
        _o.live_key == sa.bindparam("live_key"),
        _o.status == OutboxStatus.PENDING,
        _o.id != sa.bindparam("id"),
        _o.created_at <= sa.bindparam("created_at", type_=_o.created_at.type),
    )
    .values(status=OutboxStatus.SKIPPED, last_error=REPLACED_BY_LATER)
)
# ... and is itself never sent once one of the same message shows a later moment (the claim's
# ``superseded``).
_earlier = outbox.alias("earlier")
# What a notice with a coalesce key writes over the pending one it replaces: all it says, and
# when it was written; the row keeps its place in the queue (due time, attempts).
_REPLACED = [
    "channel",
    "recipient",
    "account_id",
    "key",
    "params",
    "choices",
    "language",
    "dedupe_key",
    "priority",
    "live_key",
    "sensitive",
    "created_at",
]
_taken = outbox.alias("taken")
_waiting = outbox.alias("waiting")
_REPLACE_PENDING = Prepared(
    sa.update(outbox)
    .where(
        _o.coalesce_key == sa.bindparam("w_coalesce_key"),
        # checked on the row itself as well: a claim that took it meanwhile is waited for, and
        # then only this outer condition is checked again (PostgreSQL), not the subquery
        _o.status == OutboxStatus.PENDING,
        # the latest of them: a notice put back to wait (its send to be tried again) after a
        # later one was written is a second one waiting, which the claim then skips
        _o.id
        == sa.select(_waiting.c.id)
        .where(
            _waiting.c.coalesce_key == sa.bindparam("w_coalesce_key"),
            _waiting.c.status == OutboxStatus.PENDING,
        )
        .order_by(_waiting.c.created_at.desc(), _waiting.c.id.desc())
        .limit(1)
        .scalar_subquery(),
        # a notice written before (told twice) is not written again, here as in the insert
        ~sa.exists().where(_taken.c.dedupe_key == sa.bindparam("p_dedupe_key")),
    )
    .values(
        {
            name: sa.case(  # a later notice is not written over by an earlier one
                (
                    _o.created_at <= sa.bindparam("p_created_at", type_=_o.created_at.type),
                    sa.bindparam(f"p_{name}", type_=_o[name].type),
                ),
                else_=_o[name],
            )
            for name in _REPLACED
        }
    )
    .returning(
        _o.id,
        (_o.created_at == sa.bindparam("p_created_at", type_=_o.created_at.type)).label("replaced"),
    )
)
_WITHDRAW = Prepared(
    sa.update(outbox)
    .where(
        _o.coalesce_key == sa.bindparam("coalesce_key"),
        _o.status == OutboxStatus.PENDING,
        _o.created_at <= sa.bindparam("by", type_=_o.created_at.type),
    )
    .values(status=OutboxStatus.SKIPPED, last_error=sa.bindparam("reason"))
)
# The provider's id of the message a live update replaces: the last one of it that was sent.
_REPLACES = (
    sa.select(_earlier.c.provider_id)
    .where(
        _earlier.c.channel == _o.channel,
        _earlier.c.recipient == _o.recipient,
        _earlier.c.live_key == _o.live_key,
        _earlier.c.status == OutboxStatus.SENT,
        _earlier.c.provider_id.is_not(None),
    )
    .order_by(_earlier.c.sent_at.desc(), _earlier.c.id.desc())
    .limit(1)
    .scalar_subquery()
)
# Written later about the same thing, sent or not: a message that is still due then has nothing
# left to say. A live update made from the lot as it was before its close but written after the
# close's (the room's lane and the closing lane run side by side, and a transaction sees the
# other's rows only once committed); a notice put back to wait after a later one was written.
_later = outbox.alias("later")
_SAME_LIVE = (
    _later.c.channel == _o.channel,
    _later.c.recipient == _o.recipient,
    _later.c.live_key == _o.live_key,
)
_WRITTEN_LATER = sa.or_(  # about a later moment, or the same one and written after it
    _later.c.created_at > _o.created_at,
    sa.and_(_later.c.created_at == _o.created_at, _later.c.id > _o.id),
)
# The dispatcher's claim: one channel's due rows, most urgent first (the ``ix_outbox_claim``
# index gives that order, so a code is found at once behind 100,000 broadcast rows), locked
# (other dispatchers skip them on PostgreSQL; SQLite's BEGIN IMMEDIATE makes the whole claim
# exclusive), each with whether its SMS recipient opted out and the live message it replaces.
_CLAIM_DUE = (
    sa.select(
        outbox,
        sa.and_(
            _o.channel == Channel.SMS,
            sa.exists().where(sms_opt_outs.c.phone == _o.recipient),
        ).label("opted_out"),
        sa.case((_o.live_key.is_(None), sa.null()), else_=_REPLACES).label("replaces"),
        sa.case(
            (
                _o.live_key.is_not(None),
                sa.exists().where(*_SAME_LIVE, _WRITTEN_LATER),
            ),
            (
                _o.coalesce_key.is_not(None),
                sa.exists().where(_later.c.coalesce_key == _o.coalesce_key, _WRITTEN_LATER),
            ),
            else_=sa.false(),
        ).label("superseded"),
    )
    .where(
        _o.channel == sa.bindparam("channel", type_=_o.channel.type),
        # Spelt as the index's own condition, with literals: only then may either database use
        # the partial index (a bound parameter cannot prove the row is in it).
        sa.text(f"outbox.status IN {_OPEN}"),
        _o.due_at <= sa.bindparam("now", type_=_o.due_at.type),
    )
    .order_by(_o.priority, _o.due_at, _o.id)
    .limit(sa.bindparam("limit", type_=sa.Integer))
    .with_for_update(of=outbox, skip_locked=True)
)
# What the dispatcher changes on a message (claimed, sent, retried, postponed, failed: the
# methods of ``OutboxMessage``), written only if the row is still as the dispatcher read it.
_WRITTEN = [
    "status",
    "attempts",
    "due_at",
    "sent_at",
    "sending_since",
    "in_doubt",
    "last_error",
    "provider_id",
    "params",
]
_UPDATE_OUTBOX = Prepared(
    sa.update(outbox)
    .where(
        _o.id == sa.bindparam("w_id"),
        _o.status == sa.bindparam("w_status", type_=_o.status.type),
        _o.attempts == sa.bindparam("w_attempts"),
    )
    .values({name: sa.bindparam(f"p_{name}", type_=_o[name].type) for name in _WRITTEN})
)
# PostgreSQL: the same for a batch of messages in one statement, one array a column
# (``unnest``), returning the ids of the rows that were still as read. Of the params, which
# change only when a sensitive message is settled (wiped), only those go (NULL: as they are),
# as the JSON text the engine writes (the driver adapts no array of JSON values).
_BATCH_TYPES = {"id": _o.id.type, "w_status": _o.status.type, "w_attempts": _o.attempts.type}
_BATCH_TYPES.update({name: _o[name].type for name in _WRITTEN})
_BATCH_TYPES["params"] = sa.Text()
_batch = (
    sa.func.unnest(
        *(
            sa.cast(sa.bindparam(f"a_{name}"), postgresql.ARRAY(type_))
            for name, type_ in _BATCH_TYPES.items()
        )
    )
    .table_valued(*_BATCH_TYPES)
    .render_derived(name="row")
)
_KEPT = [name for name in _WRITTEN if name != "params"]
_UPDATE_OUTBOX_ROWS = Prepared(
    sa.update(outbox)
    .where(
        _o.id == _batch.c.id,
        _o.status == _batch.c.w_status,
        _o.attempts == _batch.c.w_attempts,
    )
    .values({name: _batch.c[name] for name in _WRITTEN})
    .values(params=sa.func.coalesce(sa.cast(_batch.c.params, _o.params.type), _o.params))
    .returning(_o.id)
)

# Of several numbers (a list: an expanding parameter, which ``Prepared`` does not take).
_OPTED_OUT = sa.select(sms_opt_outs.c.phone).where(
    sms_opt_outs.c.phone.in_(sa.bindparam("phones", expanding=True))
)


_lane = dispatch_lanes.c
# Every lane, locked (in one order, so two dispatchers never wait on each other crosswise): who
# holds which is decided with all of them in view.
_LANES = (
    sa.select(_lane.channel, _lane.holder, _lane.lease_until, _lane.wanted_by, _lane.wanted_until)
    .order_by(_lane.channel)
    .with_for_update()
)

# Until when a lane is held (read, not locked: whether anybody sends on a channel).
_LEASE_UNTIL = sa.select(_lane.lease_until).where(
    _lane.channel == sa.bindparam("channel", type_=_lane.channel.type)
)


def _new_lane(dialect: Any) -> Prepared:
    statement = dialect.insert(dispatch_lanes).on_conflict_do_nothing(index_elements=["channel"])
    return Prepared(statement, column_keys=["channel", "holder", "lease_until"])


_NEW_LANE = {False: _new_lane(sqlite), True: _new_lane(postgresql)}


class SqlOutboxRepository:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def lead(
        self,
        channel: Channel,
        holder: str,
        now: datetime,
        until: datetime,
        *,
        ask_until: datetime | None = None,
    ) -> bool:
        """Take or keep the channel's lane until ``until``: True if ``holder`` has it (it held
        it, or the last holder's lease ran out). The lanes stay locked to the end of the
        caller's transaction, so two dispatchers never both take one.

        The lanes are spread over the dispatchers that ask (``ask_until``: the server's; not the
        console's): one that holds no lane and finds this one held asks for it until then (it
        asks again every round, so an ask that is not renewed is soon forgotten); a holder that
        also holds another lane then hands this one to the asker, whose lease it is from then
        on, and answers False. So with two server processes, each sends one channel; with one,
        it sends both."""
        connection = self.scope.connection
        lanes = {row.channel: row for row in connection.execute(_LANES)}
        lane = lanes.get(channel)
        if lane is None:
            new = {"channel": channel, "holder": holder, "lease_until": until}
            return _NEW_LANE[connection.dialect.name == "postgresql"].write(connection, new) == 1
        holding = {row.holder for row in lanes.values() if row.lease_until > now}
        holds_another = any(
            row.channel != channel and row.holder == holder and row.lease_until > now
            for row in lanes.values()
        )
        this = dispatch_lanes.update().where(_lane.channel == channel)
        asker = lane.wanted_by
        asked = asker is not None and lane.wanted_until is not None and lane.wanted_until > now
        if lane.holder == holder or lane.lease_until <= now:  # (a lease is up at its end)
            if asked and asker != holder and asker not in holding and holds_another:
                # This dispatcher sends another channel too; the asker sends none: it is theirs.
                values = {"holder": asker, "lease_until": until}
                connection.execute(this.values(**values, wanted_by=None, wanted_until=None))
                return False
            kept: dict[str, object] = {"holder": holder, "lease_until": until}
            if asker == holder or not asked:  # (an asker that stopped asking is forgotten)
                kept.update(wanted_by=None, wanted_until=None)
            connection.execute(this.values(**kept))
            return True
        if ask_until is not None and holder not in holding:  # it sends nothing: it asks
            connection.execute(this.values(wanted_by=holder, wanted_until=ask_until))
        return False

    def let_go(self, holder: str, now: datetime) -> None:
        connection = self.scope.connection
        mine = dispatch_lanes.update().where(_lane.holder == holder, _lane.lease_until > now)
        connection.execute(mine.values(lease_until=now))
        asks = dispatch_lanes.update().where(_lane.wanted_by == holder)
        connection.execute(asks.values(wanted_by=None, wanted_until=None))

    def lane_free(self, channel: Channel, since: datetime) -> bool:
        lease_until = self.scope.connection.execute(_LEASE_UNTIL, {"channel": channel}).scalar()
        return lease_until is None or lease_until <= since

    def add(self, message: OutboxMessage) -> bool:
        """Inserted at once with plain SQL (writing notices is on the hot path of many turns),
        unless its dedupe key is taken (``INSERT … ON CONFLICT DO NOTHING``: no error, so the
        caller's transaction goes on). With a coalesce key, written over the latest pending row
        with that key if there is one and it was not written later, else inserted. A
        live update (``live_key``) then replaces the waiting updates of its message written no
        later (the claim skips it if a later one was written meanwhile)."""
        connection = self.scope.connection
        if message.coalesce_key is not None:
            params = {f"p_{name}": getattr(message, name) for name in _REPLACED}
            params["w_coalesce_key"] = message.coalesce_key
            waiting = _REPLACE_PENDING.run(connection, params).first()
            if waiting is not None:  # written over, unless the one waiting is the later one
                if waiting["replaced"]:
                    message.id = int(waiting["id"])
                return bool(waiting["replaced"])
        values = {name: getattr(message, name) for name in _OUTBOX_KEYS}
        statement = _INSERT_OUTBOX[connection.dialect.name == "postgresql"]
        found = statement.run(connection, values).scalar()
        if found is None:
            return False
        message.id = int(found)
        if message.live_key is not None:
            params = {
                "channel": message.channel,
                "recipient": message.recipient,
                "live_key": message.live_key,
                "id": message.id,
                "created_at": message.created_at,
            }
            _COALESCE.write(connection, params)
        return True

    def withdraw(self, coalesce_key: str, *, written_by: datetime, reason: str) -> int:
        params = {"coalesce_key": coalesce_key, "by": written_by, "reason": reason[:500]}
        return _WITHDRAW.write(self.scope.connection, params)

    def claim_due(self, channel: Channel, now: datetime, limit: int) -> Sequence[Due]:
        """The channel's pending rows that are due, and rows whose dispatcher lease ran out,
        most urgent first, locked for us; read with plain SQL (the messages are not tracked:
        ``update`` writes back what changed).

        ``SKIP LOCKED`` lets several dispatchers share the table on PostgreSQL; SQLite's
        ``BEGIN IMMEDIATE`` already makes the claim exclusive. This is one statement for a
        whole batch, run through SQLAlchemy's Core execution: a ``Prepared`` result gives one
        row or one column, not every column of several rows.
        """
        params = {"channel": channel, "now": now, "limit": limit}
        rows = self.scope.connection.execute(_CLAIM_DUE, params)
        return [
            Due(
                OutboxMessage(**{name: row[name] for name in _OUTBOX_FIELDS}),
                bool(row["opted_out"]),
                row["replaces"],
                bool(row["superseded"]),
            )
            for row in rows.mappings()
        ]

    def opted_out(self, channel: Channel, recipients: Collection[str]) -> set[str]:
        """Only SMS numbers opt out (STOP); one prebuilt look-up inside the caller's
        transaction, for all of them at once."""
        if channel is not Channel.SMS or not recipients:
            return set()
        found = self.scope.connection.execute(_OPTED_OUT, {"phones": list(recipients)})
        return {str(phone) for phone in found.scalars()}

    def _update(self, message: OutboxMessage, *, if_status: OutboxStatus, if_attempts: int) -> bool:
        """One prebuilt UPDATE, conditional on the row's status and attempts: it takes the place
        of the ORM's locked read, flush and check that the row is still ours (a concurrent claim
        holds the row's lock until it commits; PostgreSQL then checks the condition against the
        row as that claim left it)."""
        params: dict[str, Any] = {f"p_{name}": getattr(message, name) for name in _WRITTEN}
        params.update(w_id=message.id, w_status=if_status, w_attempts=if_attempts)
        return _UPDATE_OUTBOX.write(self.scope.connection, params) == 1

    def update_all(self, changes: Sequence[tuple[OutboxMessage, OutboxStatus, int]]) -> set[int]:
        """Write back what the messages' methods changed, each only if its row still has the
        status and the attempts given with it: on PostgreSQL one statement for all of them (an
        ``UPDATE … FROM unnest(…)``, the same condition row by row), on SQLite one prebuilt
        UPDATE each (a statement there costs microseconds). Returns the ids of the rows
        written."""
        if self.scope.connection.dialect.name != "postgresql" or len(changes) == 1:
            return {
                message.id
                for message, status, attempts in changes
                if message.id is not None
                and self._update(message, if_status=status, if_attempts=attempts)
            }
        if not changes:
            return set()
        columns: dict[str, list[Any]] = {f"a_{name}": [] for name in _BATCH_TYPES}
        for message, status, attempts in changes:
            columns["a_id"].append(message.id)
            columns["a_w_status"].append(status)
            columns["a_w_attempts"].append(attempts)
            for name in _KEPT:
                columns[f"a_{name}"].append(getattr(message, name))
            columns["a_params"].append(dumps(message.params) if message.sensitive else None)
        return set(_UPDATE_OUTBOX_ROWS.run(self.scope.connection, columns).scalars())


def _link_of(dialect: Any) -> Prepared:
    """Link a contact point to an account (a chat signed in to another account moves)."""
    insert = dialect.insert(contact_points)
    statement = insert.on_conflict_do_update(
        index_elements=["channel", "address"],
        set_={"account_id": insert.excluded.account_id, "linked_at": insert.excluded.linked_at},
        where=contact_points.c.account_id != insert.excluded.account_id,
    )
    return Prepared(statement, column_keys=["channel", "address", "account_id", "linked_at"])


_LINK = {False: _link_of(sqlite), True: _link_of(postgresql)}
_cp = contact_points.c
# Reachable: an SMS number that has not sent STOP, a chat that has not blocked the bot (the
# channels' own records, kept as before).
_CONTACT_POINTS = sa.select(
    _cp.channel,
    _cp.address,
    _cp.account_id,
    sa.not_(
        sa.or_(
            sa.and_(
                _cp.channel == Channel.SMS,
                sa.exists().where(sms_opt_outs.c.phone == _cp.address),
            ),
            sa.and_(
                _cp.channel == Channel.TELEGRAM,
                sa.exists().where(
                    telegram_chats.c.chat_id == _cp.address,
                    telegram_chats.c.unreachable_since.is_not(None),
                ),
            ),
        )
    ).label("reachable"),
)


# Every notice reads its recipient's contact points (an outbid notice on each bid): prebuilt.
_OF_ACCOUNT = Prepared(
    _CONTACT_POINTS.where(_cp.account_id == sa.bindparam("account", type_=sa.Integer)).order_by(
        _cp.channel, _cp.linked_at.desc()
    )
)


class SqlContactRepository:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def of_account(self, account_id: int) -> list[ContactPoint]:
        """The account's contact points, SMS first, then chats linked most recently first; one
        on a channel the server does not send on (Telegram without a bot token) is unreachable."""
        rows = _OF_ACCOUNT.run(self.scope.connection, {"account": account_id}).all()
        points = []
        for row in rows:
            channel = Channel(row["channel"])
            reachable = bool(row["reachable"]) and channel in self.scope.channels
            points.append(ContactPoint(channel, row["address"], row["account_id"], reachable))
        return points

    def link(self, *, channel: str, address: str, account_id: int, now: datetime) -> None:
        if channel != Channel.TELEGRAM:  # an SMS number is the account's own phone
            return
        connection = self.scope.connection
        values = {
            "channel": Channel.TELEGRAM,
            "address": address,
            "account_id": account_id,
            "linked_at": now,
        }
        _LINK[connection.dialect.name == "postgresql"].write(connection, values)


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
        inbound_messages.c.user_key == sa.bindparam("user_key"),
        inbound_messages.c.message_id == sa.bindparam("message_id"),
    )
    .scalar_subquery()
    .label("earlier_reply")
)
_LOCK = Prepared(
    sa.select(conversations, _EARLIER_REPLY)
    .where(_c.channel == sa.bindparam("channel"), _c.user_key == sa.bindparam("user_key"))
    .with_for_update(of=conversations)
)
_SAVE_STATEMENT = (
    sa.update(conversations)
    .where(_c.id == sa.bindparam("w_id"), _c.version == sa.bindparam("w_version"))
    .values({name: sa.bindparam(f"p_{name}", type_=_c[name].type) for name in _COLUMNS})
)
_SAVE = Prepared(_SAVE_STATEMENT)
_RECORD = Prepared(sa.insert(inbound_messages))
_i = inbound_messages.c
_INBOUND_FIELDS = [column.name for column in inbound_messages.c]
_saved = _SAVE_STATEMENT.returning(_c.id).cte("saved")
# PostgreSQL: the conversation and the reply to the message in one statement, so a turn that
# holds a lot (a bid) ends with one round trip less before its commit.
_SAVE_ANSWERED = Prepared(
    sa.insert(inbound_messages)
    .from_select(
        _INBOUND_FIELDS,
        sa.select(
            *(sa.bindparam(f"r_{name}", type_=_i[name].type) for name in _INBOUND_FIELDS)
        ).select_from(_saved),
    )
    .add_cte(_saved)
)
_INSERT_NEW = {
    dialect.__name__.rsplit(".", 1)[-1]: Prepared(
        dialect.insert(conversations)
        .values({name: sa.bindparam(f"p_{name}", type_=_c[name].type) for name in _COLUMNS})
        .on_conflict_do_nothing(index_elements=["channel", "user_key"])
    )
    for dialect in (postgresql, sqlite)
}


class SqlConversationRepository:
    """Prebuilt Core statements on the hot path: one locked read (which also finds an earlier
    reply to the same inbound message) and one write per turn."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def lock(self, *, channel: str, user_key: str, new: Conversation) -> Conversation:
        return self.lock_for_turn(channel=channel, user_key=user_key, new=new, message_id=None)[0]

    def lock_for_turn(
        self, *, channel: str, user_key: str, new: Conversation, message_id: str | None
    ) -> tuple[Conversation, dict[str, Any] | None]:
        connection = self.connection
        params = {"channel": channel, "user_key": user_key, "message_id": message_id}
        row = _LOCK.run(connection, params).first()
        if row is None:
            insert = _INSERT_NEW[
                "postgresql" if connection.dialect.name == "postgresql" else "sqlite"
            ]
            insert.write(connection, _params(new))
            row = _LOCK.run(connection, params).first()
            if row is None:  # pragma: no cover - inserted or found under the lock just now
                raise RuntimeError("conversation vanished under a lock")
        earlier = row.pop("earlier_reply")  # the rest are the conversation's fields
        return Conversation(**row), earlier

    def save(self, conversation: Conversation) -> None:
        """Write the conversation back; refused if its version moved (it cannot under our lock)."""
        params = _params(conversation)
        params.update(
            p_version=conversation.version + 1, w_id=conversation.id, w_version=conversation.version
        )
        if _SAVE.write(self.connection, params) != 1:
            raise RuntimeError("conversation changed under a lock: refusing to overwrite it")
        conversation.version += 1

    def save_answered(
        self, conversation: Conversation, message_id: str, reply: dict[str, Any], now: datetime
    ) -> None:
        connection = self.connection
        if connection.dialect.name != "postgresql":  # SQLite: no UPDATE inside a WITH
            self.save(conversation)
            SqlInboundLog(connection).record(
                conversation.channel, conversation.user_key, message_id, reply, now
            )
            return
        params = _params(conversation)
        params.update(
            p_version=conversation.version + 1, w_id=conversation.id, w_version=conversation.version
        )
        params.update(
            r_channel=conversation.channel,
            r_user_key=conversation.user_key,
            r_message_id=message_id,
            r_reply=reply,
            r_received_at=now,
        )
        try:
            written = _SAVE_ANSWERED.write(connection, params)
        except IntegrityError as error:
            raise AlreadyHandled(f"{conversation.channel} message already handled") from error
        if written != 1:
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


class SqlInboundLog:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def record(
        self, channel: str, user_key: str, message_id: str, reply: dict[str, Any], now: datetime
    ) -> None:
        values = {
            "channel": channel,
            "user_key": user_key,
            "message_id": message_id,
            "reply": reply,
            "received_at": now,
        }
        try:
            _RECORD.write(self.connection, values)
        except IntegrityError as error:
            raise AlreadyHandled(f"{channel} message already handled") from error
