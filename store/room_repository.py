"""Who is in an auction room, and what its screen and notices need (``core.room_ports``).
Plain statements: they run inside bids, while the lot's row is locked."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from core.accounts import Language
from core.auctions import Lot, LotState, PeriodState, Signup, SignupState
from core.clock import as_utc
from core.outbox import Channel
from core.room_ports import ChangeKind, LotHeading, Member, RecentBid, RoomChange, Seat
from store.auction_tables import (
    auction_bids,
    auction_lots,
    auction_periods,
    auction_shares,
    auction_signups,
)
from store.prepared import Prepared, arrays, unnest_rows
from store.preselection_tables import offices
from store.repositories import Scope
from store.room_tables import auction_room_changes, auction_room_members
from store.tables import accounts, contact_points

_m = auction_room_members.c
_s = auction_signups.c
_b = auction_bids.c
_cp = contact_points.c


def _join_of(dialect: Any) -> sa.Insert:
    """The signup's bidder joins its period's room, once (the row's key is the signup)."""
    chosen = sa.select(_s.id, _s.period_id, _s.account_id).where(_s.id == sa.bindparam("signup"))
    insert = dialect.insert(auction_room_members).from_select(
        ["signup_id", "period_id", "account_id"], chosen
    )
    return insert.on_conflict_do_nothing(index_elements=["signup_id"])  # type: ignore[no-any-return]


_JOIN = {False: _join_of(sqlite), True: _join_of(postgresql)}
_TELEGRAM = (
    sa.exists()
    .where(_cp.account_id == _s.account_id, _cp.channel == Channel.TELEGRAM)
    .label("telegram")
)
_MEMBER = sa.select(_s.id, _s.account_id, _s.bidder_number, accounts.c.language, _TELEGRAM).join(
    accounts, accounts.c.id == _s.account_id
)
_IN_ROOM = _MEMBER.join(auction_room_members, _m.signup_id == _s.id)
# From the Telegram chats linked to accounts, to those accounts' signups in the period's room.
_WATCHERS = (
    sa.select(_s.id, _s.account_id, _s.bidder_number, accounts.c.language, sa.true())
    .select_from(contact_points)
    .join(auction_signups, _s.account_id == _cp.account_id)
    .join(auction_room_members, _m.signup_id == _s.id)
    .join(accounts, accounts.c.id == _s.account_id)
    .where(_cp.channel == Channel.TELEGRAM, _s.period_id == sa.bindparam("period"))
    .distinct()
    .order_by(_s.id)
)
_l = auction_lots.c
_HEADING = (
    sa.select(
        _l.id,
        _l.period_id,
        _l.position,
        _l.serial,
        offices.c.province,
        offices.c.letter,
        auction_periods.c.increments_fen,
    )
    .join(offices, offices.c.id == _l.office_id)
    .join(auction_periods, auction_periods.c.id == _l.period_id)
    .where(_l.id == sa.bindparam("lot"))
)

# A bidder's signup with one lot of its period (the one asked for, or the first open one by
# position, else the first), the lot's office, the period's increments and the leading bidder's
# number: everything a bid turn reads before the bid, in one statement.
_p = auction_periods.c
_leader = auction_signups.alias("leader")
_SIGNUP_FIELDS = [column.name for column in auction_signups.c]
_LOT_FIELDS = [column.name for column in auction_lots.c]
_first = auction_lots.alias("first_lot").c
_FIRST_LOT = (
    sa.select(_first.id)
    .where(_first.period_id == _s.period_id, _first.state != LotState.WITHDRAWN.value)
    .order_by(sa.case((_first.state == LotState.OPEN.value, 0), else_=1), _first.position)
    .limit(1)
    .correlate(auction_signups)
    .scalar_subquery()
)


_sh = auction_shares.c
_FIRST_SHARE = (
    sa.select(_sh.id)
    .where(_sh.signup_id == _s.id)
    .order_by(_sh.position)
    .limit(1)
    .correlate(auction_signups)
    .scalar_subquery()
)


def _seat_of(lot: Any) -> Prepared:
    return Prepared(
        sa.select(
            *(_s[name].label(f"s_{name}") for name in _SIGNUP_FIELDS),
            _FIRST_SHARE.label("first_share"),
            *(_l[name].label(f"l_{name}") for name in _LOT_FIELDS),
            offices.c.province,
            offices.c.letter,
            _p.increments_fen,
            _leader.c.bidder_number.label("leader_number"),
        )
        .select_from(auction_signups)
        .join(auction_periods, _p.id == _s.period_id)
        .outerjoin(
            auction_lots,
            sa.and_(
                _l.id == lot, _l.period_id == _s.period_id, _l.state != LotState.WITHDRAWN.value
            ),
        )
        .outerjoin(offices, offices.c.id == _l.office_id)
        .outerjoin(_leader, _leader.c.id == _l.leader_signup_id)
        .where(_s.id == sa.bindparam("signup", type_=sa.Integer))
    )


_SEAT = _seat_of(sa.bindparam("lot", type_=sa.Integer))
_SEAT_FIRST_LOT = _seat_of(_FIRST_LOT)
_RUNNING = Prepared(
    sa.select(auction_signups)
    .join(auction_periods, _p.id == _s.period_id)
    .where(
        _s.account_id == sa.bindparam("account", type_=sa.Integer),
        _s.state == SignupState.ACTIVE.value,
        _p.state == PeriodState.PUBLISHED.value,
        _p.starts_at <= sa.bindparam("now", type_=_p.starts_at.type),
    )
    .order_by(_p.starts_at, _p.id)
)


def _prefixed(row: dict[str, Any], prefix: str, names: Sequence[str]) -> dict[str, Any]:
    return {name: row[prefix + name] for name in names}


# The notices ``tell_room`` writes on every outbid (no lot locked, but one for nearly every bid):
# prebuilt. Two signups at once at most (one given twice is read once).
_HEADING_PREPARED = Prepared(_HEADING)
_AT_ONCE = 2
_BIDDERS = Prepared(
    _MEMBER.where(_s.id.in_([sa.bindparam(f"s{n}", type_=sa.Integer) for n in range(_AT_ONCE)]))
)

# The room screen after a bid (the lot still held): the latest accepted bids, from the end of the
# lot's trail by its (lot, seq) index, instead of the whole trail.
_RECENT = Prepared(
    sa.select(_b.placed_at, _s.bidder_number, _b.amount_fen)
    .join(auction_signups, _s.id == _b.signup_id)
    .where(_b.lot_id == sa.bindparam("lot", type_=sa.Integer), _b.seq.is_not(None))
    .order_by(_b.seq.desc())
    .limit(sa.bindparam("limit", type_=sa.Integer))
)
_LATEST = Prepared(
    sa.select(_b.amount_fen)
    .where(
        _b.lot_id == sa.bindparam("lot", type_=sa.Integer),
        _b.seq.is_not(None),
        _b.signup_id == sa.bindparam("signup", type_=sa.Integer),
    )
    .order_by(_b.seq.desc())
    .limit(1)
)

_c = auction_room_changes.c
_CHANGE_FIELDS = [column.name for column in auction_room_changes.columns if column.name != "id"]
_NOTE = Prepared(sa.insert(auction_room_changes), column_keys=_CHANGE_FIELDS)
# PostgreSQL: a batch of bids' notes in one prepared statement, one array a column
_NOTES = Prepared(
    sa.insert(auction_room_changes).from_select(
        _CHANGE_FIELDS, unnest_rows(auction_room_changes, _CHANGE_FIELDS)
    )
)
_CLAIM_CHANGES = (
    sa.select(auction_room_changes)
    .order_by(_c.id)
    .limit(sa.bindparam("limit", type_=sa.Integer))
    .with_for_update(skip_locked=True)
)
# PostgreSQL: one transaction of all the server processes tells the rooms at a time (held to
# its end). Two at once, each with its own changes, wrote one bidder two outbid notices on a
# lot (neither saw the other's, not yet committed), which every later notice of that bidder
# then failed on (its dedupe key written to both), and deadlocked on the notices they shared.
_ONE_TELLER = Prepared(
    sa.select(sa.func.pg_try_advisory_xact_lock(sa.func.hashtextextended("room", 0)))
)


def _member(row: Any) -> Member:
    return Member(
        signup_id=row[0],
        account_id=row[1],
        bidder_number=row[2] or "",
        language=Language(row[3]),
        telegram=bool(row[4]),
    )


class SqlRoomRepository:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def join(self, signup_id: int) -> None:
        connection = self.scope.connection
        connection.execute(_JOIN[connection.dialect.name == "postgresql"], {"signup": signup_id})

    def members(self, period_id: int) -> Sequence[Member]:
        query = _IN_ROOM.where(_m.period_id == period_id).order_by(_s.id)
        return [_member(row) for row in self.scope.connection.execute(query)]

    def watchers(self, period_id: int) -> Sequence[Member]:
        rows = self.scope.connection.execute(_WATCHERS, {"period": period_id})
        return [_member(row) for row in rows]

    def bidders(self, signup_ids: Sequence[int]) -> dict[int, Member]:
        ids = list(dict.fromkeys(signup_ids))
        if 0 < len(ids) <= _AT_ONCE:  # an outbid notice: the bidder and the leader
            params = {f"s{n}": ids[min(n, len(ids) - 1)] for n in range(_AT_ONCE)}
            rows = _BIDDERS.run(self.scope.connection, params).cursor.fetchall()
        else:
            rows = self.scope.connection.execute(_MEMBER.where(_s.id.in_(ids))).all()
        found = (_member(row) for row in rows)
        return {member.signup_id: member for member in found}

    def heading(self, lot_id: int) -> LotHeading | None:
        row = _HEADING_PREPARED.run(self.scope.connection, {"lot": lot_id}).first()
        if row is None:
            return None
        return LotHeading(
            lot_id=row["id"],
            period_id=row["period_id"],
            position=row["position"],
            serial=row["serial"],
            province=row["province"],
            letter=row["letter"],
            step_fen=min(int(step) for step in row["increments_fen"]),
        )

    def seat(self, signup_id: int, lot_id: int | None) -> Seat | None:
        connection = self.scope.connection
        if lot_id is None:
            row = _SEAT_FIRST_LOT.run(connection, {"signup": signup_id}).first()
        else:
            row = _SEAT.run(connection, {"signup": signup_id, "lot": lot_id}).first()
        if row is None:
            return None
        signup = Signup(**_prefixed(row, "s_", _SIGNUP_FIELDS))
        first_share = row["first_share"]
        if row["l_id"] is None:
            return Seat(signup, None, first_share_id=first_share)
        return Seat(
            signup,
            Lot(**_prefixed(row, "l_", _LOT_FIELDS)),
            first_share_id=first_share,
            province=row["province"] or "",
            letter=row["letter"] or "",
            increments_fen=tuple(row["increments_fen"]),
            leader_number=row["leader_number"],
        )

    def running_signups(self, account_id: int, now: datetime) -> Sequence[Signup]:
        rows = _RUNNING.run(self.scope.connection, {"account": account_id, "now": now}).all()
        return [Signup(**row) for row in rows]

    def recent_bids(self, lot_id: int, limit: int) -> Sequence[RecentBid]:
        params = {"lot": lot_id, "limit": limit}
        return [
            RecentBid(as_utc(row["placed_at"]), row["bidder_number"] or "", int(row["amount_fen"]))
            for row in _RECENT.run(self.scope.connection, params).all()
        ]

    def latest_bid(self, lot_id: int, signup_id: int) -> int | None:
        found = _LATEST.run(self.scope.connection, {"lot": lot_id, "signup": signup_id}).scalar()
        return None if found is None else int(found)

    def best_bids(self, lot_id: int) -> dict[int, int]:
        query = (
            sa.select(_b.signup_id, sa.func.max(_b.amount_fen))
            .where(_b.lot_id == lot_id, _b.seq.is_not(None))
            .group_by(_b.signup_id)
        )
        return {int(signup): int(best) for signup, best in self.scope.connection.execute(query)}

    def note(self, change: RoomChange) -> None:
        values = {name: getattr(change, name) for name in _CHANGE_FIELDS}
        _NOTE.write(self.scope.connection, values)

    def note_all(self, changes: Sequence[RoomChange]) -> None:
        if len(changes) == 1:
            self.note(changes[0])
        elif changes:
            rows = [{name: getattr(change, name) for name in _CHANGE_FIELDS} for change in changes]
            for row in rows:
                row["kind"] = str(row["kind"].value)
            connection = self.scope.connection
            if connection.dialect.name == "postgresql":
                _NOTES.write(connection, arrays(rows, _CHANGE_FIELDS))
            else:
                connection.execute(sa.insert(auction_room_changes), rows)

    def claim_changes(self, limit: int) -> Sequence[RoomChange]:
        connection = self.scope.connection
        if connection.dialect.name == "postgresql" and not _ONE_TELLER.run(connection, {}).scalar():
            return []  # another is telling, and goes on while it finds more: wait a round
        rows = connection.execute(_CLAIM_CHANGES, {"limit": limit}).mappings()
        return [
            RoomChange(**{**row, "kind": ChangeKind(row["kind"]), "at": as_utc(row["at"])})
            for row in rows
        ]

    def drop_changes(self, ids: Sequence[int]) -> None:
        if ids:
            self.scope.connection.execute(sa.delete(auction_room_changes).where(_c.id.in_(ids)))
