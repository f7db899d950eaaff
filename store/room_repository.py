"""Who is in an auction room, and what its screen and notices need (``core.room_ports``).
Plain statements: they run inside bids, while the lot's row is locked."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from core.accounts import Language
from core.clock import as_utc
from core.outbox import Channel
from core.room_ports import ChangeKind, LotHeading, Member, RecentBid, RoomChange
from store.auction_tables import auction_bids, auction_lots, auction_periods, auction_signups
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
        query = _MEMBER.where(_s.id.in_(list(signup_ids)))
        found = (_member(row) for row in self.scope.connection.execute(query))
        return {member.signup_id: member for member in found}

    def heading(self, lot_id: int) -> LotHeading | None:
        row = self.scope.connection.execute(_HEADING, {"lot": lot_id}).first()
        if row is None:
            return None
        return LotHeading(
            lot_id=row.id,
            period_id=row.period_id,
            position=row.position,
            serial=row.serial,
            province=row.province,
            letter=row.letter,
            step_fen=min(int(step) for step in row.increments_fen),
        )

    def recent_bids(self, lot_id: int, limit: int) -> Sequence[RecentBid]:
        query = (
            sa.select(_b.placed_at, _s.bidder_number, _b.amount_fen)
            .join(auction_signups, _s.id == _b.signup_id)
            .where(_b.lot_id == lot_id, _b.seq.is_not(None))
            .order_by(_b.seq.desc())
            .limit(limit)
        )
        return [
            RecentBid(as_utc(row.placed_at), row.bidder_number or "", int(row.amount_fen))
            for row in self.scope.connection.execute(query)
        ]

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
        rows = self.scope.connection.execute(_CLAIM_CHANGES, {"limit": limit}).mappings()
        return [
            RoomChange(**{**row, "kind": ChangeKind(row["kind"]), "at": as_utc(row["at"])})
            for row in rows
        ]

    def drop_changes(self, ids: Sequence[int]) -> None:
        if ids:
            self.scope.connection.execute(sa.delete(auction_room_changes).where(_c.id.in_(ids)))
