"""The repository of staff broadcasts (protocol in ``core.broadcast_ports``). It never commits.

An audience is read with one query over the accounts (and one over their linked chats), and a
broadcast's rows are written to the outbox with one statement per batch; everything else
(holding, releasing, dropping, counting) is one statement over the broadcast's rows, found by
``ix_outbox_broadcast``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY

from core.accounts import Language
from core.auctions import SignupState
from core.broadcast_ports import (
    BLOCKED,
    CANCELLED,
    HELD,
    OPTED_OUT,
    Audience,
    AudienceKind,
    Broadcast,
    BroadcastState,
    DayCounts,
    Outcome,
    Queued,
    Recipient,
    Tally,
)
from core.orders import OrderState, Purpose
from core.outbox import Channel, OutboxMessage, OutboxStatus
from store.auction_tables import auction_bids, auction_periods, auction_signups
from store.broadcast_tables import broadcasts
from store.order_tables import orders
from store.preselection_tables import preselections
from store.repositories import Scope
from store.sms_tables import sms_deliveries, sms_opt_outs
from store.tables import accounts, contact_points, outbox
from store.telegram_tables import telegram_chats

_a = accounts.c
_o = outbox.c
_cp = contact_points.c
_KEYS = [column.name for column in outbox.columns if column.name != "id"]
_CHUNK = 500  # listed numbers looked up per query
# Whether the provider said it reached the phone (Twilio's status callbacks).
_DELIVERED = "delivered"
_NOT_DELIVERED = ("failed", "undelivered")


def _opted_out(phone: Any) -> sa.Exists:
    return sa.exists().where(sms_opt_outs.c.phone == phone)


_INSERT_SQLITE = sqlite.insert(outbox).on_conflict_do_nothing(index_elements=["dedupe_key"])
# PostgreSQL: one INSERT … SELECT FROM unnest(arrays), the columns that differ from row to row
# passed as one array each: a statement of a dozen parameters however many rows it writes
# (an executemany, or a multi-row VALUES, costs the driver per row and per parameter).
_VARYING = {
    "channel": sa.Text,
    "recipient": sa.Text,
    "account_id": sa.Integer,
    "language": sa.Text,
    "dedupe_key": sa.Text,
    "skipped": sa.Text,
}
_UNNESTED = (
    sa.func.unnest(
        *(sa.bindparam(f"a_{name}", type_=ARRAY(kind)) for name, kind in _VARYING.items())
    )
    .table_valued(*_VARYING)
    .render_derived(name="r")
)


def _column_of(name: str) -> Any:
    r = _UNNESTED.c
    if name in ("channel", "recipient", "account_id", "language", "dedupe_key"):
        return r[name]
    if name == "params":
        return sa.case(
            (r.language == Language.EN.value, sa.bindparam("params_en", type_=sa.JSON)),
            else_=sa.bindparam("params_zh", type_=sa.JSON),
        )
    if name == "status":
        return sa.case(
            (r.skipped.is_(None), sa.bindparam("t_status", type_=sa.Text)),
            else_=OutboxStatus.SKIPPED.value,
        )
    if name == "last_error":
        return r.skipped
    return sa.bindparam(f"t_{name}", type_=_o[name].type)


_INSERT_POSTGRESQL = (
    postgresql.insert(outbox)
    .from_select(_KEYS, sa.select(*(_column_of(name) for name in _KEYS)))
    .on_conflict_do_nothing(index_elements=["dedupe_key"])
)


def _enqueue_postgresql(
    conn: sa.Connection, template: OutboxMessage, rows: Sequence[Queued]
) -> int:
    params: dict[str, Any] = {f"t_{name}": getattr(template, name) for name in _KEYS}
    params["t_status"] = str(template.status)
    by_language = {row.language: row.params for row in rows}
    params["params_zh"] = by_language.get(Language.ZH, {})
    params["params_en"] = by_language.get(Language.EN, {})
    params["a_channel"] = [str(row.channel) for row in rows]
    params["a_recipient"] = [row.recipient for row in rows]
    params["a_account_id"] = [row.account_id for row in rows]
    params["a_language"] = [str(row.language) for row in rows]
    params["a_dedupe_key"] = [row.dedupe_key for row in rows]
    params["a_skipped"] = [row.skipped for row in rows]
    return max(conn.execute(_INSERT_POSTGRESQL, params).rowcount, 0)


class SqlBroadcastRepository:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    @property
    def _conn(self) -> sa.Connection:
        return self.scope.connection

    def add(self, broadcast: Broadcast) -> None:
        session = self.scope.session
        session.add(broadcast)
        session.flush()

    def get(self, broadcast_id: int, *, lock: bool = False) -> Broadcast | None:
        session = self.scope.session
        if not lock:
            return session.get(Broadcast, broadcast_id)
        return session.get(Broadcast, broadcast_id, with_for_update=True, populate_existing=True)

    def recent(self, limit: int) -> Sequence[Broadcast]:
        query = sa.select(Broadcast).order_by(broadcasts.c.id.desc()).limit(limit)
        return list(self.scope.session.scalars(query))

    def claim_due(self, now: datetime, limit: int) -> Sequence[Broadcast]:
        query = (
            sa.select(Broadcast)
            .where(
                broadcasts.c.state == BroadcastState.SCHEDULED,
                broadcasts.c.send_at <= now,
            )
            .order_by(broadcasts.c.send_at, broadcasts.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )
        return list(self.scope.session.scalars(query))

    def period_exists(self, period_id: int) -> bool:
        query = sa.select(auction_periods.c.id).where(auction_periods.c.id == period_id)
        return self._conn.execute(query).first() is not None

    # -- the audience ------------------------------------------------------------------------

    def recipients(self, audience: Audience) -> list[Recipient]:
        if audience.kind is AudienceKind.NUMBERS:
            return self._listed(audience.phones)
        who = _accounts_of(audience)
        query = sa.select(_a.id, _a.phone, _a.language, _opted_out(_a.phone).label("opted_out"))
        if who is not None:
            query = query.where(_a.id.in_(who))
        rows = self._conn.execute(query.order_by(_a.id)).all()
        chats = self._chats(who)
        return [_recipient(row, chats) for row in rows]

    def _chats(self, who: sa.Select[Any] | None) -> dict[int, tuple[str, bool]]:
        """Each account's Telegram chat: the one linked last that has not blocked the bot,
        else the one linked last."""
        blocked = sa.exists().where(
            telegram_chats.c.chat_id == _cp.address, telegram_chats.c.unreachable_since.is_not(None)
        )
        query = sa.select(_cp.account_id, _cp.address, blocked.label("blocked")).where(
            _cp.channel == Channel.TELEGRAM
        )
        if who is not None:
            query = query.where(_cp.account_id.in_(who))
        chats: dict[int, tuple[str, bool]] = {}
        for account_id, address, is_blocked in self._conn.execute(
            query.order_by(_cp.account_id, _cp.linked_at.desc())
        ):
            known = chats.get(account_id)
            if known is None or (known[1] and not is_blocked):
                chats[account_id] = (address, bool(is_blocked))
        return chats

    def _listed(self, phones: Iterable[str]) -> list[Recipient]:
        """Listed numbers: an account's number as that account (its language, its chat), any
        other in Chinese by SMS."""
        found: list[Recipient] = []
        phones = list(phones)
        for start in range(0, len(phones), _CHUNK):
            chunk = phones[start : start + _CHUNK]
            query = sa.select(
                _a.id, _a.phone, _a.language, _opted_out(_a.phone).label("opted_out")
            ).where(_a.phone.in_(chunk))
            rows = {row.phone: row for row in self._conn.execute(query)}
            ids = sa.select(_a.id).where(_a.phone.in_(chunk))
            chats = self._chats(ids)
            opted = set(
                self._conn.execute(
                    sa.select(sms_opt_outs.c.phone).where(sms_opt_outs.c.phone.in_(chunk))
                ).scalars()
            )
            for phone in chunk:
                row = rows.get(phone)
                if row is not None:
                    found.append(_recipient(row, chats))
                else:
                    found.append(Recipient(phone, Language.ZH, None, phone in opted))
        return found

    def day_counts(self, start: datetime, end: datetime) -> DayCounts:
        conn = self._conn
        n = sa.func.count()
        o, b = orders.c, auction_bids.c
        return DayCounts(
            registrations=_count(
                conn, sa.select(n).where(_a.created_at >= start, _a.created_at < end)
            ),
            preselections=_count(
                conn,
                sa.select(n).where(
                    preselections.c.created_at >= start, preselections.c.created_at < end
                ),
            ),
            sales=_count(
                conn,
                sa.select(n).where(
                    o.purpose.in_([Purpose.PLATE_PURCHASE, Purpose.AUCTION_BALANCE]),
                    o.paid_at >= start,
                    o.paid_at < end,
                ),
            ),
            bids=_count(
                conn,
                sa.select(n).where(b.accepted.is_(True), b.placed_at >= start, b.placed_at < end),
            ),
        )

    # -- the deliveries ----------------------------------------------------------------------

    def enqueue(self, template: OutboxMessage, rows: Sequence[Queued]) -> int:
        if not rows:
            return 0
        conn = self._conn
        if conn.dialect.name == "postgresql":
            return _enqueue_postgresql(conn, template, rows)
        base = {name: getattr(template, name) for name in _KEYS}
        skipped = {"status": OutboxStatus.SKIPPED}
        values = []
        for row in rows:
            value = dict(base)
            value["channel"] = row.channel
            value["recipient"] = row.recipient
            value["account_id"] = row.account_id
            value["language"] = row.language
            value["params"] = row.params
            value["dedupe_key"] = row.dedupe_key
            if row.skipped is not None:
                value.update(skipped, last_error=row.skipped)
            values.append(value)
        return max(conn.execute(_INSERT_SQLITE, values).rowcount, 0)

    def _waiting(self, broadcast_id: int) -> sa.Update:
        return sa.update(outbox).where(
            _o.broadcast_id == broadcast_id, _o.status == OutboxStatus.PENDING
        )

    def hold(self, broadcast_id: int) -> int:
        return self._conn.execute(self._waiting(broadcast_id).values(due_at=HELD)).rowcount

    def release(self, broadcast_id: int, now: datetime) -> int:
        statement = self._waiting(broadcast_id).where(_o.due_at >= HELD).values(due_at=now)
        return self._conn.execute(statement).rowcount

    def drop_waiting(self, broadcast_id: int, reason: str) -> int:
        statement = self._waiting(broadcast_id).values(
            status=OutboxStatus.SKIPPED, last_error=reason
        )
        return self._conn.execute(statement).rowcount

    def tally(self, broadcast_id: int, since: datetime) -> Tally:
        recently = sa.func.sum(sa.case((_o.sent_at >= since, 1), else_=0))
        query = (
            sa.select(_o.status, _o.channel, _o.last_error, sa.func.count(), recently)
            .where(_o.broadcast_id == broadcast_id)
            .group_by(_o.status, _o.channel, _o.last_error)
        )
        counts: dict[str, int] = dict.fromkeys(
            ("total", "sent", "delivered", "failed", "opted_out", "cancelled", "left", "recent"), 0
        )
        for status, channel, error, count, recent in self._conn.execute(query):
            counts["total"] += count
            if status in (OutboxStatus.PENDING, OutboxStatus.SENDING):
                counts["left"] += count
            elif status == OutboxStatus.SENT:
                counts["sent"] += count
                counts["recent"] += int(recent or 0)
                if channel == Channel.TELEGRAM:
                    counts["delivered"] += count
            elif status == OutboxStatus.FAILED:
                counts["failed"] += count
            elif error in (OPTED_OUT, BLOCKED):
                counts["opted_out"] += count
            elif error == CANCELLED:
                counts["cancelled"] += count
            else:  # pragma: no cover - a broadcast row is skipped for one of those reasons
                counts["failed"] += count
        reported = (
            sa.select(sms_deliveries.c.status, sa.func.count())
            .select_from(
                outbox.join(sms_deliveries, sms_deliveries.c.message_sid == _o.provider_id)
            )
            .where(
                _o.broadcast_id == broadcast_id,
                _o.status == OutboxStatus.SENT,
                _o.channel == Channel.SMS,
            )
            .group_by(sms_deliveries.c.status)
        )
        for status, count in self._conn.execute(reported):
            if status == _DELIVERED:
                counts["delivered"] += count
            elif status in _NOT_DELIVERED:
                counts["failed"] += count
        return Tally(
            total=counts["total"],
            sent=counts["sent"],
            delivered=counts["delivered"],
            failed=counts["failed"],
            opted_out=counts["opted_out"],
            cancelled=counts["cancelled"],
            left=counts["left"],
            sent_recently=counts["recent"],
        )

    def outcomes(self, broadcast_id: int) -> list[Outcome]:
        query = (
            sa.select(
                _o.channel,
                _o.recipient,
                _o.account_id,
                _o.language,
                _o.status,
                sms_deliveries.c.status.label("delivery"),
                _o.last_error,
                _o.sent_at,
            )
            .select_from(
                outbox.outerjoin(
                    sms_deliveries,
                    sa.and_(
                        _o.channel == Channel.SMS,
                        sms_deliveries.c.message_sid == _o.provider_id,
                    ),
                )
            )
            .where(_o.broadcast_id == broadcast_id)
            .order_by(_o.id)
        )
        return [
            Outcome(
                channel=Channel(row.channel),
                address=row.recipient,
                account_id=row.account_id,
                language=Language(row.language),
                status=str(row.status),
                delivery=row.delivery,
                error=row.last_error,
                sent_at=row.sent_at,
            )
            for row in self._conn.execute(query)
        ]


def _count(conn: sa.Connection, query: sa.Select[Any]) -> int:
    return int(conn.execute(query).scalar_one())


def _accounts_of(audience: Audience) -> sa.Select[Any] | None:
    """The ids of the accounts in the audience (None: every account)."""
    if audience.kind is AudienceKind.REGION:
        return sa.select(_a.id).where(_a.region_code == audience.region_code)
    if audience.kind is AudienceKind.BIDDERS:
        s = auction_signups.c
        return sa.select(s.account_id).where(
            s.period_id == audience.period_id, s.state == SignupState.ACTIVE
        )
    if audience.kind is AudienceKind.UNFINISHED_ORDERS:
        return sa.select(orders.c.account_id).where(orders.c.state == OrderState.PENDING)
    return None


def _recipient(row: Any, chats: dict[int, tuple[str, bool]]) -> Recipient:
    chat, blocked = chats.get(row.id, (None, False))
    return Recipient(
        phone=row.phone,
        language=Language(row.language),
        account_id=row.id,
        sms_opted_out=bool(row.opted_out),
        chat=chat,
        chat_blocked=blocked,
    )
