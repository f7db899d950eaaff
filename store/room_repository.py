"""Who is in an auction room, and what its screen lists (``core.room_ports``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from core.accounts import Language
from core.clock import as_utc
from core.outbox import Channel
from core.room_ports import Member, RecentBid
from store.auction_tables import auction_bids, auction_signups
from store.repositories import Scope
from store.room_tables import auction_room_members
from store.tables import accounts, contact_points

_m = auction_room_members.c
_s = auction_signups.c
_b = auction_bids.c


def _join_of(dialect: Any) -> sa.Insert:
    """The signup's bidder joins its period's room, once (the row's key is the signup)."""
    chosen = sa.select(_s.id, _s.period_id, _s.account_id).where(_s.id == sa.bindparam("signup"))
    insert = dialect.insert(auction_room_members).from_select(
        ["signup_id", "period_id", "account_id"], chosen
    )
    return insert.on_conflict_do_nothing(index_elements=["signup_id"])  # type: ignore[no-any-return]


_JOIN = {False: _join_of(sqlite), True: _join_of(postgresql)}
_MEMBER = sa.select(
    _s.id,
    _s.account_id,
    _s.bidder_number,
    accounts.c.language,
    sa.exists()
    .where(
        contact_points.c.account_id == _s.account_id,
        contact_points.c.channel == Channel.TELEGRAM,
    )
    .label("telegram"),
).join(accounts, accounts.c.id == _s.account_id)


def _member(row: Any) -> Member:
    return Member(
        signup_id=row.id,
        account_id=row.account_id,
        bidder_number=row.bidder_number or "",
        language=Language(row.language),
        telegram=bool(row.telegram),
    )


class SqlRoomRepository:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def join(self, signup_id: int) -> None:
        connection = self.scope.connection
        connection.execute(_JOIN[connection.dialect.name == "postgresql"], {"signup": signup_id})

    def members(self, period_id: int) -> Sequence[Member]:
        query = (
            _MEMBER.join(auction_room_members, _m.signup_id == _s.id)
            .where(_m.period_id == period_id)
            .order_by(_s.id)
        )
        return [_member(row) for row in self.scope.connection.execute(query)]

    def member(self, signup_id: int) -> Member | None:
        row = self.scope.connection.execute(_MEMBER.where(_s.id == signup_id)).first()
        return None if row is None else _member(row)

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
