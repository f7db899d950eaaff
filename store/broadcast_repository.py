"""The repository of staff broadcasts (protocol in ``core.broadcast_ports``). It never commits.

An audience is routed inside the database (``_routed``: each recipient's channel, address,
language and why they are passed over, from the accounts, their linked chats and the SMS
opt-outs): the preview counts it with one ``GROUP BY``, and sending writes it to the outbox with
one ``INSERT … SELECT``, whatever its size. Everything else (holding, releasing, dropping,
counting) is one statement over the broadcast's rows, found by ``ix_outbox_broadcast``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from core import auction_signup, reservations, sale
from core.accounts import Language
from core.auctions import SignupState
from core.broadcast_ports import (
    BLOCKED,
    CANCELLED,
    HELD,
    NO_CHAT,
    OPTED_OUT,
    TELEGRAM_OFF,
    Audience,
    AudienceKind,
    Broadcast,
    BroadcastState,
    Channels,
    DayCounts,
    Outcome,
    RouteCount,
    Tally,
)
from core.orders import OrderState, Purpose
from core.outbox import Channel, OutboxMessage, OutboxStatus
from core.telegram_off import SENT_BY_SMS
from store.auction_tables import auction_bids, auction_lots, auction_periods, auction_signups
from store.broadcast_tables import broadcasts
from store.order_tables import orders
from store.preselection_tables import offices, preselections
from store.repositories import Scope
from store.reservation_tables import reservations as reservation_rows
from store.sale_tables import sale_listings
from store.sms_tables import sms_deliveries, sms_opt_outs
from store.tables import accounts, contact_points, outbox
from store.telegram_tables import telegram_chats

_a = accounts.c
_o = outbox.c
_cp = contact_points.c
_KEYS = [column.name for column in outbox.columns if column.name != "id"]
# Whether the provider said it reached the phone (Twilio's status callbacks).
_DELIVERED = "delivered"
_NOT_DELIVERED = ("failed", "undelivered")


class SqlBroadcastRepository:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    @property
    def _conn(self) -> sa.Connection:
        return self.scope.connection

    @property
    def _telegram(self) -> bool:
        """The server sends on Telegram (a bot token is configured)."""
        return Channel.TELEGRAM in self.scope.channels

    def add(self, broadcast: Broadcast) -> None:
        session = self.scope.session
        session.add(broadcast)
        session.flush()

    def get(self, broadcast_id: int, *, lock: bool = False) -> Broadcast | None:
        session = self.scope.session
        if not lock:
            return session.get(Broadcast, broadcast_id)
        return session.get(Broadcast, broadcast_id, with_for_update=True, populate_existing=True)

    def recent(self, limit: int, office_code: str | None) -> Sequence[Broadcast]:
        query = sa.select(Broadcast).order_by(broadcasts.c.id.desc()).limit(limit)
        if office_code is not None:
            query = query.where(broadcasts.c.office_code == office_code)
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

    def routes(self, audience: Audience, channels: Channels) -> list[RouteCount]:
        d = _routed(audience, channels, self._conn.dialect.name, self._telegram)
        query = sa.select(d.c.channel, d.c.language, d.c.skip, sa.func.count()).group_by(
            d.c.channel, d.c.language, d.c.skip
        )
        return [
            RouteCount(Channel(channel), Language(language), skip, count)
            for channel, language, skip, count in self._conn.execute(query)
        ]

    def enqueue(
        self,
        template: OutboxMessage,
        audience: Audience,
        channels: Channels,
        params: Mapping[Language, dict[str, Any]],
    ) -> int:
        conn = self._conn
        dialect = conn.dialect.name
        d = _routed(audience, channels, dialect, self._telegram).c
        prefix = f"broadcast:{template.broadcast_id}:"
        varying: dict[str, Any] = {
            "channel": d.channel,
            "recipient": d.address,
            "account_id": d.account_id,
            "language": d.language,
            "dedupe_key": sa.literal(prefix) + d.channel + ":" + d.address,
            "params": sa.case(
                (d.language == Language.EN.value, sa.bindparam("params_en", type_=sa.JSON)),
                else_=sa.bindparam("params_zh", type_=sa.JSON),
            ),
            "status": sa.case(
                (d.skip.is_(None), sa.literal(str(template.status))),
                else_=sa.literal(str(OutboxStatus.SKIPPED)),
            ),
            "last_error": d.skip,
        }
        columns = [
            varying.get(name, sa.bindparam(f"t_{name}", type_=_o[name].type)) for name in _KEYS
        ]
        # A plain INSERT, no ON CONFLICT (PostgreSQL's speculative insertion costs a WAL record
        # and about a quarter of the time a row): the keys cannot clash. A broadcast is started
        # once (its state is changed under its row lock), an account is routed once, to its
        # phone (unique) or its chat (linked to one account), and listed numbers are unique. If
        # a key ever did clash, the send fails whole: nobody gets it twice.
        select = sa.select(*columns)
        statement = sa.insert(outbox).from_select(_KEYS, select)
        values: dict[str, Any] = {
            f"t_{name}": getattr(template, name) for name in _KEYS if name not in varying
        }
        values["params_zh"] = dict(params.get(Language.ZH, {}))
        values["params_en"] = dict(params.get(Language.EN, {}))
        return max(conn.execute(statement, values).rowcount, 0)

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
            (
                "total",
                "sent",
                "delivered",
                "failed",
                "opted_out",
                "blocked",
                "unreachable",
                "cancelled",
                "left",
                "recent",
            ),
            0,
        )
        for status, channel, error, count, recent in self._conn.execute(query):
            if error == SENT_BY_SMS:  # queued for Telegram, then sent by SMS: its SMS row counts
                continue
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
            elif error == OPTED_OUT:
                counts["opted_out"] += count
            elif error == BLOCKED:
                counts["blocked"] += count
            elif error in (NO_CHAT, TELEGRAM_OFF):
                counts["unreachable"] += count
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
            blocked=counts["blocked"],
            unreachable=counts["unreachable"],
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
            .where(
                _o.broadcast_id == broadcast_id,
                _o.last_error.is_distinct_from(SENT_BY_SMS),  # its SMS row is the outcome
            )
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
        pending = sa.select(orders.c.account_id).where(orders.c.state == OrderState.PENDING)
        if audience.office_code is None:
            return pending
        return pending.where(_at_office(audience.office_code))
    return None


def _at_office(office_code: str) -> sa.ColumnElement[bool]:
    """An order is at an office when what it pays for is: a plate for sale, a lot (its
    balance), a reservation of that office; an auction deposit when the period's lots are all
    that office's (its bidders are that office's alone, as ``core.broadcasts`` has it)."""
    office = (
        sa.select(offices.c.id)
        .where(offices.c.province == office_code[:1], offices.c.letter == office_code[1:])
        .scalar_subquery()
    )
    lots = auction_lots.c
    only_its_lots = (
        sa.select(lots.period_id)
        .group_by(lots.period_id)
        .having(sa.func.min(lots.office_id) == office, sa.func.max(lots.office_id) == office)
    )
    signups = auction_signups.c
    o = orders.c

    def references(prefix: str, ids: sa.Select[Any]) -> sa.Select[Any]:
        """``prefix<id>`` of each of ``ids``: the orders' references (``listing:12``)."""
        column = ids.selected_columns[0]
        return ids.with_only_columns(sa.literal(prefix) + sa.cast(column, sa.String))

    paid_for = {
        Purpose.PLATE_PURCHASE: references(
            sale.REFERENCE,
            sa.select(sale_listings.c.id).where(sale_listings.c.office_id == office),
        ),
        # ``core.settlement`` names a lot's balance order ``lot:<id>``.
        Purpose.AUCTION_BALANCE: references(
            "lot:", sa.select(lots.id).where(lots.office_id == office)
        ),
        Purpose.RESERVATION_DEPOSIT: references(
            reservations.REFERENCE,
            sa.select(reservation_rows.c.id).where(reservation_rows.c.office_id == office),
        ),
        Purpose.AUCTION_DEPOSIT: references(
            auction_signup.REFERENCE,
            sa.select(signups.id).where(signups.period_id.in_(only_its_lots)),
        ),
    }
    return sa.or_(
        *(
            sa.and_(o.purpose == purpose, o.reference.in_(refs))
            for purpose, refs in paid_for.items()
        )
    )


def _listed(phones: Sequence[str], dialect: str) -> Any:
    """The listed numbers as a table of one column, ``phone``, from one parameter (an array on
    PostgreSQL, a JSON list on SQLite): one statement however long the list."""
    if dialect == "postgresql":
        numbers = sa.func.unnest(sa.literal(list(phones), ARRAY(sa.Text)))
        return numbers.table_valued("phone").render_derived(name="listed")
    numbers = sa.func.json_each(sa.literal(list(phones), sa.JSON))
    each = numbers.table_valued("value").alias("listed")
    return sa.select(each.c.value.label("phone")).subquery("listed")


def _people(audience: Audience, dialect: str) -> tuple[sa.Subquery, sa.Select[Any] | None]:
    """Who is in the audience (``account_id``: None for a listed number without an account;
    ``phone``, ``language``), and the ids of their accounts (None: every account)."""
    if audience.kind is AudienceKind.NUMBERS:
        listed = _listed(audience.phones, dialect)
        people = sa.select(
            listed.c.phone,
            _a.id.label("account_id"),
            sa.func.coalesce(_a.language, Language.ZH.value).label("language"),
        ).select_from(listed.outerjoin(accounts, _a.phone == listed.c.phone))
        ids = sa.select(_a.id).where(_a.phone.in_(sa.select(listed.c.phone)))
        return people.subquery("people"), ids
    who = _accounts_of(audience)
    query = sa.select(_a.phone, _a.id.label("account_id"), _a.language)
    if who is not None:
        query = query.where(_a.id.in_(who))
    return query.subquery("people"), who


def _chats(who: sa.Select[Any] | None) -> sa.Subquery:
    """Each account's Telegram chat (``rank`` 1): the one linked last that has not blocked the
    bot, else the one linked last; ``blocked`` 1 when it blocked the bot."""
    t = telegram_chats.c
    blocked = sa.case((t.unreachable_since.is_(None), 0), else_=1)
    rank = sa.func.row_number().over(
        partition_by=_cp.account_id, order_by=(blocked, _cp.linked_at.desc(), _cp.address)
    )
    query = (
        sa.select(
            _cp.account_id,
            _cp.address.label("chat"),
            blocked.label("blocked"),
            rank.label("rank"),
        )
        .select_from(contact_points.outerjoin(telegram_chats, t.chat_id == _cp.address))
        .where(_cp.channel == Channel.TELEGRAM)
    )
    if who is not None:
        query = query.where(_cp.account_id.in_(who))
    return query.subquery("chats")


def _routed(audience: Audience, channels: Channels, dialect: str, telegram_on: bool) -> sa.Subquery:
    """Each recipient's delivery: ``channel``, ``address``, ``account_id``, ``language``, and
    ``skip``, why it is not sent (the number sent STOP, the chat blocked the bot, no chat for
    Telegram only: then the address is the number, for the report). Telegram where linked falls
    back to SMS when the chat blocked the bot. Without Telegram on the server (``telegram_on``
    false) no chat is reached: Telegram where linked is SMS, and Telegram only passes everyone
    over (``TELEGRAM_OFF``), rather than queueing what nothing would send."""
    if not telegram_on and channels is Channels.TELEGRAM_ELSE_SMS:
        channels = Channels.SMS
    people, who = _people(audience, dialect)
    chats = _chats(who)
    p, c = people.c, chats.c
    stopped = sms_opt_outs.c.phone.is_not(None)
    sms, telegram = sa.literal(Channel.SMS.value), sa.literal(Channel.TELEGRAM.value)
    opted_out, blocked, no_chat = sa.literal(OPTED_OUT), sa.literal(BLOCKED), sa.literal(NO_CHAT)
    none = sa.null()
    channel: sa.ColumnElement[Any]
    address: sa.ColumnElement[Any]
    skip: sa.ColumnElement[Any]
    if channels is Channels.SMS:
        channel, address = sms, p.phone
        skip = sa.case((stopped, opted_out), else_=none)
    elif channels is Channels.TELEGRAM and not telegram_on:
        channel, address, skip = telegram, p.phone, sa.literal(TELEGRAM_OFF)
    elif channels is Channels.TELEGRAM:
        channel = telegram
        address = sa.func.coalesce(c.chat, p.phone)
        skip = sa.case((c.chat.is_(None), no_chat), (c.blocked == 1, blocked), else_=none)
    else:
        by_telegram = sa.and_(c.chat.is_not(None), c.blocked == 0)
        channel = sa.case((by_telegram, telegram), else_=sms)
        address = sa.case((by_telegram, c.chat), else_=p.phone)
        skip = sa.case((by_telegram, none), (stopped, opted_out), else_=none)
    query = sa.select(
        channel.label("channel"),
        address.label("address"),
        p.account_id,
        p.language,
        skip.label("skip"),
    ).select_from(
        people.outerjoin(chats, sa.and_(c.account_id == p.account_id, c.rank == 1)).outerjoin(
            sms_opt_outs, sms_opt_outs.c.phone == p.phone
        )
    )
    return query.subquery("routed")
