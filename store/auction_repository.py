"""The auctions' repository (``core.auction_ports.AuctionRepository``): plain SQL on the unit of
work's connection, rows read into core's dataclasses. It never commits.

The bidding path is prebuilt statements (``store/prepared.py``) so that a bid holds its lot for
as little as possible. A bid sends, on PostgreSQL:

1. the share, locked, with the lot as it stands, not locked (with ``BEGIN`` before it): a bid
   that this already refuses (too low, a closed lot) goes to 4 without waiting for the lot;
2. the lot with its period, locked, and where the share leads or stands behind a maximum on
   another lot (subqueries: the share is locked already, so they are current for it); the lot
   is held from here on;
3. the maxima of the lot, only if it has any;
4. ``WITH bid AS (INSERT INTO auction_bids …) UPDATE auction_lots …``: one statement (a refused
   bid: the ``INSERT`` alone; automatic bids: one multi-row ``INSERT`` and the ``UPDATE``);
5. ``COMMIT``.

A batch of bids (``core.bidding.decide_bids``) sends the same, with its shares locked in one
statement (``id = ANY(:ids)``, in id order) and, when they are several, where they lead or
stand elsewhere in the statement after it (before the lot's lock); its rows and the lot's change
are one statement (``unnest`` of one array a column), all prepared.

Row locks are ``FOR NO KEY UPDATE``: they keep out other bids (and the close) but not the
key-share locks that inserting a row referring to the locked one takes (a refused bid's row in
the trail, a bid of another bidder naming this one's VIN as leader), which ``FOR UPDATE`` would
make wait.

On SQLite every transaction holds the database's write lock from its first statement
(``BEGIN IMMEDIATE``), so the row locks are not needed and are not written.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from core.auctions import AuctionPeriod, Lot, LotState, PeriodState, Share, Signup, SignupState
from core.bidding import BidRecord, LotChange, LotView, Proxy, ShareView
from core.plates import PlateKind
from store.auction_tables import (
    auction_bids,
    auction_lots,
    auction_maxima,
    auction_periods,
    auction_shares,
    auction_signups,
)
from store.pool_repository import _ASYNC_COMMIT
from store.prepared import Prepared, any_of, arrays, unnest_rows
from store.repositories import Scope

P = auction_periods.c
L = auction_lots.c
S = auction_signups.c
SH = auction_shares.c
M = auction_maxima.c
B = auction_bids.c

_PERIOD_FIELDS = [c.name for c in auction_periods.c]
# The first signup sets ``terms_fixed`` itself (``fix_terms``); a period saved never unsets it.
_SAVED_PERIOD_FIELDS = [name for name in _PERIOD_FIELDS if name != "terms_fixed"]
_LOT_FIELDS = [c.name for c in auction_lots.c]
_SIGNUP_FIELDS = [c.name for c in auction_signups.c]


def _values(entity: object, fields: Sequence[str]) -> dict[str, Any]:
    return {name: getattr(entity, name) for name in fields if name != "id"}


def _int(name: str) -> sa.BindParameter[int]:
    return sa.bindparam(name, type_=sa.Integer())


# -- the bidding path's statements, built once -------------------------------------------------

_other = auction_lots.alias("other")
_ELSEWHERE = (
    sa.select(_other.c.id)
    .where(
        _other.c.leader_share_id == _int("p_share"),
        sa.or_(_other.c.state == LotState.OPEN.value, _other.c.state == LotState.SOLD.value),
        _other.c.id != _int("p_lot"),
    )
    .limit(1)
    .scalar_subquery()
)
_RESERVED = (
    sa.select(M.lot_id)
    .where(M.share_id == _int("p_share"), M.state == "active", M.lot_id != _int("p_lot"))
    .limit(1)
    .scalar_subquery()
)
_LOT_VIEW_COLUMNS = (
    L.id,
    L.period_id,
    L.state,
    L.opens_at,
    L.deadline,
    L.starting_price_fen,
    L.price_fen,
    L.leader_signup_id,
    L.leader_share_id,
    L.bids,
    L.maxima,
    P.increments_fen,
    P.bid_countdown_s,
)
# The share, locked, with the lot as it stands (not locked): enough to refuse a bid whose amount
# is below what the lot already asks, without queueing for the lot (``core.bidding``).
_SHARES_WITH_LOT = (
    sa.select(
        SH.id.label("share_id"),
        SH.signup_id.label("share_signup_id"),
        SH.vin,
        SH.live,
        S.state.label("signup_state"),
        *_LOT_VIEW_COLUMNS,
    )
    .select_from(auction_shares.join(auction_signups, S.id == SH.signup_id))
    .join(auction_lots, L.id == _int("p_lot"))
    .join(auction_periods, P.id == L.period_id)
    .with_for_update(of=auction_shares, key_share=True)
)
_LOCK_SHARE = Prepared(_SHARES_WITH_LOT.where(SH.id == _int("p_share")))
_LOCK_LOT = Prepared(
    sa.select(*_LOT_VIEW_COLUMNS, _ELSEWHERE.label("elsewhere"), _RESERVED.label("reserved_on"))
    .select_from(auction_lots.join(auction_periods, P.id == L.period_id))
    .where(L.id == _int("p_lot"))
    .with_for_update(of=auction_lots, key_share=True)
)
_LOCK_LOT_ONLY = Prepared(
    sa.select(*_LOT_VIEW_COLUMNS)
    .select_from(auction_lots.join(auction_periods, P.id == L.period_id))
    .where(L.id == _int("p_lot"))
    .with_for_update(of=auction_lots, key_share=True)
)
_ACTIVE_MAXIMA = Prepared(
    sa.select(M.id, M.signup_id, M.share_id, M.max_fen)
    .where(M.lot_id == _int("p_lot"), M.state == "active")
    .order_by(M.id)
)
_BID_COLUMNS = [c.name for c in auction_bids.c if c.name != "id"]
_INSERT_BID = Prepared(sa.insert(auction_bids), column_keys=_BID_COLUMNS)
# PostgreSQL: a refused bid changes nothing but the trail, and its transaction holds the lot until
# it commits, so its commit does not wait for the WAL to reach the disk (``SET LOCAL`` as a
# function inside the statement; other transactions see the row at once). Should PostgreSQL
# itself crash within a moment of it, the trail could lose that refusal, never an accepted bid:
# those commits wait for the disk, and the WAL keeps its order, so nothing written after a lost
# refusal survives it either.
_INSERT_REFUSAL = Prepared(
    sa.insert(auction_bids).from_select(
        _BID_COLUMNS,
        sa.select(*(sa.bindparam(f"b_{name}", type_=B[name].type) for name in _BID_COLUMNS)).where(
            _ASYNC_COMMIT
        ),
    )
)
_UPDATE_LOT = (
    sa.update(auction_lots)
    .where(L.id == _int("w_lot"))
    .values(
        price_fen=sa.bindparam("w_price", type_=sa.BigInteger()),
        leader_signup_id=_int("w_leader"),
        leader_share_id=_int("w_share"),
        deadline=sa.bindparam("w_deadline", type_=L.deadline.type),
        bids=_int("w_bids"),
        maxima=_int("w_maxima"),
    )
)
_UPDATE_LOT_PREPARED = Prepared(_UPDATE_LOT)
# PostgreSQL: the bid and the lot in one statement, one round trip while the lot is held.
_BID_AND_LOT = Prepared(
    _UPDATE_LOT.add_cte(
        sa.insert(auction_bids)
        .values({name: sa.bindparam(f"b_{name}", type_=B[name].type) for name in _BID_COLUMNS})
        .cte("bid")
    )
)


def _among(column: sa.ColumnElement[Any], postgres: bool) -> sa.ColumnElement[bool]:
    """``column`` among the list ``p_shares``: one array parameter on PostgreSQL (a prepared
    statement), an ``IN`` list elsewhere."""
    if postgres:
        return any_of(column, "p_shares")
    return column.in_(sa.bindparam("p_shares", expanding=True))


def _lock_shares(postgres: bool) -> sa.Select[Any]:
    """A batch of bids (``core.bidding.decide_bids``): its shares, locked in the order of their
    ids, with the lot as it stands (not locked)."""
    return _SHARES_WITH_LOT.where(_among(SH.id, postgres)).order_by(SH.id)


def _shares_elsewhere(postgres: bool) -> sa.CompoundSelect[Any]:
    """... and where they lead (or won) another lot, or stand behind a maximum on another lot:
    run after their locks, so it is current for them (only a bid with a share makes it lead)."""
    return sa.union_all(
        sa.select(_other.c.leader_share_id, _other.c.id, sa.literal(0)).where(
            _among(_other.c.leader_share_id, postgres),
            sa.or_(_other.c.state == LotState.OPEN.value, _other.c.state == LotState.SOLD.value),
            _other.c.id != _int("p_lot"),
        ),
        sa.select(M.share_id, M.lot_id, sa.literal(1)).where(
            _among(M.share_id, postgres), M.state == "active", M.lot_id != _int("p_lot")
        ),
    )


_LOCK_SHARES = {True: Prepared(_lock_shares(True)), False: _lock_shares(False)}
_SHARES_ELSEWHERE = {True: Prepared(_shares_elsewhere(True)), False: _shares_elsewhere(False)}


# PostgreSQL: a batch's rows of the trail in one statement, one array a column (``unnest``);
# with the lot's change (``WITH bid AS (INSERT …) UPDATE auction_lots …``), or, when every bid
# of the batch was refused, alone and with the asynchronous commit of a refusal.
_BATCH_ROWS = unnest_rows(auction_bids, _BID_COLUMNS)
_INSERT_ROWS = sa.insert(auction_bids).from_select(_BID_COLUMNS, _BATCH_ROWS)
_ROWS_AND_LOT = Prepared(_UPDATE_LOT.add_cte(_INSERT_ROWS.cte("bid")))
_REFUSED_ROWS = Prepared(
    sa.insert(auction_bids).from_select(_BID_COLUMNS, _BATCH_ROWS.where(_ASYNC_COMMIT))
)


def _arrays(records: Sequence[BidRecord]) -> dict[str, Any]:
    return arrays([_bid_row(record) for record in records], _BID_COLUMNS)


def _bid_row(record: BidRecord) -> dict[str, Any]:
    return {name: getattr(record, name) for name in _BID_COLUMNS}


def _lot_params(change: LotChange) -> dict[str, Any]:
    return {
        "w_lot": change.lot_id,
        "w_price": change.price_fen,
        "w_leader": change.leader_signup_id,
        "w_share": change.leader_share_id,
        "w_deadline": change.deadline,
        "w_bids": change.bids,
        "w_maxima": change.maxima,
    }


# Open lots past their deadline, in deadline order, locked. Not ``SKIP LOCKED``: in its last
# seconds a hot lot is held by one bid after another, and a claim that skipped it could miss it
# again and again; waiting costs the timer one bid's time. A lot another runner closed meanwhile
# is no longer open when the lock is granted (PostgreSQL checks the condition again on the row
# as that runner left it), so it is not closed twice.
_CLAIM_DUE = (
    sa.select(auction_lots)
    .where(L.state == LotState.OPEN, L.deadline <= sa.bindparam("p_now", type_=L.deadline.type))
    .order_by(L.deadline, L.id)
    .limit(_int("p_limit"))
    .with_for_update(key_share=True)
)


# Reads of a bid turn (``dialogs/flows/auction_room.py``), prebuilt too.
_LOT = Prepared(sa.select(auction_lots).where(L.id == _int("p_lot")))
_SHARES = Prepared(
    sa.select(auction_shares).where(SH.signup_id == _int("p_signup")).order_by(SH.position)
)


def _lot_view(row: dict[str, Any]) -> LotView:
    return LotView(
        lot_id=row["id"],
        period_id=row["period_id"],
        state=row["state"],
        opens_at=row["opens_at"],
        deadline=row["deadline"],
        starting_price_fen=row["starting_price_fen"],
        price_fen=row["price_fen"],
        leader_signup_id=row["leader_signup_id"],
        leader_share_id=row["leader_share_id"],
        bids=row["bids"],
        maxima=row["maxima"],
        increments_fen=tuple(sorted(row["increments_fen"])),
        bid_countdown_s=row["bid_countdown_s"],
        elsewhere=row.get("elsewhere"),
        reserved_on=row.get("reserved_on"),
    )


class SqlAuctionRepository:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    @property
    def _c(self) -> Connection:
        return self.scope.connection

    # -- periods and lots ----------------------------------------------------------------------

    def add_period(self, period: AuctionPeriod) -> None:
        statement = sa.insert(auction_periods).values(_values(period, _PERIOD_FIELDS))
        period.id = self._c.execute(statement.returning(P.id)).scalar_one()

    def period(
        self, period_id: int, *, lock: bool | Literal["signup", "exclusive"] = False
    ) -> AuctionPeriod | None:
        query = sa.select(auction_periods).where(P.id == period_id)
        if lock == "signup":
            query = query.with_for_update(read=True, key_share=True)  # FOR KEY SHARE
        elif lock == "exclusive":
            query = query.with_for_update()  # FOR UPDATE
        elif lock:
            query = query.with_for_update(key_share=True)  # FOR NO KEY UPDATE
        row = self._c.execute(query).first()
        return None if row is None else AuctionPeriod(**row._mapping)

    def fix_terms(self, period_id: int) -> AuctionPeriod | None:
        statement = (
            sa.update(auction_periods)
            .where(P.id == period_id, P.terms_fixed.is_(False))
            .values(terms_fixed=True)
            .returning(*auction_periods.c)
        )
        row = self._c.execute(statement).first()
        return None if row is None else AuctionPeriod(**row._mapping)

    def periods(self) -> Sequence[AuctionPeriod]:
        rows = self._c.execute(sa.select(auction_periods).order_by(P.starts_at, P.id))
        return [AuctionPeriod(**row._mapping) for row in rows]

    def save_period(self, period: AuctionPeriod) -> None:
        values = _values(period, _SAVED_PERIOD_FIELDS)
        self._c.execute(sa.update(auction_periods).where(P.id == period.id).values(values))

    def retime_open_lots(self, period_id: int, opens_at: datetime, deadline: datetime) -> bool:
        open_lots = (L.period_id == period_id, L.state == LotState.OPEN)
        values = {"opens_at": opens_at, "deadline": deadline}
        # The update waits for a bid holding a lot's row and then skips that lot; the query
        # after it sees such a bid, and the caller's transaction is rolled back whole.
        self._c.execute(sa.update(auction_lots).where(*open_lots, L.bids == 0).values(values))
        bid_on = sa.select(L.id).where(*open_lots, L.bids > 0).limit(1)
        return self._c.execute(bid_on).first() is None

    def add_lot(self, lot: Lot) -> None:
        statement = sa.insert(auction_lots).values(_values(lot, _LOT_FIELDS))
        lot.id = self._c.execute(statement.returning(L.id)).scalar_one()

    def lot(self, lot_id: int) -> Lot | None:
        row = _LOT.run(self._c, {"p_lot": lot_id}).first()
        return None if row is None else Lot(**row)

    def lots(self, period_id: int) -> Sequence[Lot]:
        query = sa.select(auction_lots).where(L.period_id == period_id).order_by(L.position)
        return [Lot(**row._mapping) for row in self._c.execute(query)]

    def save_lot(self, lot: Lot) -> None:
        values = {"state": lot.state, "closed_at": lot.closed_at, "withdrawn_at": lot.withdrawn_at}
        self._c.execute(sa.update(auction_lots).where(L.id == lot.id).values(values))

    def open_lot_for(self, office_id: int, kind: PlateKind, serial: str) -> Lot | None:
        query = sa.select(auction_lots).where(
            L.office_id == office_id,
            L.plate_kind == kind,
            L.serial == serial,
            L.state == LotState.OPEN,
        )
        row = self._c.execute(query).first()
        return None if row is None else Lot(**row._mapping)

    def open_lot_serials(self, office_id: int, kind: PlateKind) -> set[str]:
        query = sa.select(L.serial).where(
            L.office_id == office_id, L.plate_kind == kind, L.state == LotState.OPEN
        )
        return set(self._c.execute(query).scalars())

    def open_lots(self, period_id: int) -> int:
        query = sa.select(sa.func.count()).where(L.period_id == period_id, L.state == LotState.OPEN)
        return int(self._c.execute(query).scalar_one())

    # -- signups -------------------------------------------------------------------------------

    def add_signup(self, signup: Signup, vins: Sequence[str]) -> None:
        statement = sa.insert(auction_signups).values(_values(signup, _SIGNUP_FIELDS))
        signup.id = self._c.execute(statement.returning(S.id)).scalar_one()
        rows = [
            {
                "signup_id": signup.id,
                "period_id": signup.period_id,
                "position": position,
                "vin": vin,
                "live": True,
            }
            for position, vin in enumerate(vins, start=1)
        ]
        self._c.execute(sa.insert(auction_shares), rows)

    def _signup_where(self, *where: Any, lock: bool) -> Signup | None:
        query = sa.select(auction_signups).where(*where)
        row = self._c.execute(query.with_for_update(key_share=True) if lock else query).first()
        return None if row is None else Signup(**row._mapping)

    def signup(self, signup_id: int, *, lock: bool = False) -> Signup | None:
        return self._signup_where(S.id == signup_id, lock=lock)

    def signup_by_bidder(
        self, period_id: int, bidder_number: str, *, lock: bool = False
    ) -> Signup | None:
        where = (S.period_id == period_id, S.bidder_number == bidder_number)
        return self._signup_where(*where, lock=lock)

    def signup_of(self, account_id: int, period_id: int) -> Signup | None:
        live = S.state.in_(
            [state.value for state in (SignupState.AWAITING_DEPOSIT, SignupState.ACTIVE)]
        )
        return self._signup_where(
            S.account_id == account_id, S.period_id == period_id, live, lock=False
        )

    def signups(self, period_id: int, *, states: Sequence[SignupState]) -> Sequence[Signup]:
        query = (
            sa.select(auction_signups)
            .where(S.period_id == period_id, S.state.in_([s.value for s in states]))
            .order_by(S.id)
        )
        return [Signup(**row._mapping) for row in self._c.execute(query)]

    def save_signup(self, signup: Signup) -> None:
        values = _values(signup, _SIGNUP_FIELDS)
        self._c.execute(sa.update(auction_signups).where(S.id == signup.id).values(values))

    def shares(self, signup_id: int) -> Sequence[Share]:
        return [Share(**row) for row in _SHARES.run(self._c, {"p_signup": signup_id}).all()]

    def live_vins(self, vins: Sequence[str]) -> set[str]:
        query = sa.select(SH.vin).where(SH.vin.in_(list(vins)), SH.live.is_(True))
        return set(self._c.execute(query).scalars())

    def bidder_number_taken(self, period_id: int, bidder_number: str) -> bool:
        query = sa.select(S.id).where(S.period_id == period_id, S.bidder_number == bidder_number)
        return self._c.execute(query).first() is not None

    def release_shares(self, signup_ids: Sequence[int]) -> None:
        if signup_ids:
            statement = sa.update(auction_shares).where(SH.signup_id.in_(list(signup_ids)))
            self._c.execute(statement.values(live=False))

    def release_losing_shares(self, period_id: int) -> None:
        won = sa.exists().where(L.leader_share_id == SH.id, L.state == LotState.SOLD)
        statement = (
            sa.update(auction_shares)
            .where(SH.period_id == period_id, SH.live.is_(True), ~won)
            .values(live=False)
        )
        self._c.execute(statement)

    def free_shares(self, signup_id: int) -> Sequence[Share]:
        leading = sa.exists().where(
            L.leader_share_id == SH.id, L.state.in_([LotState.OPEN.value, LotState.SOLD.value])
        )
        standing = sa.exists().where(M.share_id == SH.id, M.state == "active")
        query = (
            sa.select(auction_shares)
            .where(SH.signup_id == signup_id, SH.live.is_(True), ~leading, ~standing)
            .order_by(SH.position)
        )
        return [Share(**row._mapping) for row in self._c.execute(query)]

    # -- bidding -------------------------------------------------------------------------------

    def lock_share(self, share_id: int, lot_id: int) -> tuple[ShareView, LotView] | None:
        row = _LOCK_SHARE.run(self._c, {"p_share": share_id, "p_lot": lot_id}).first()
        if row is None:
            return None
        share = ShareView(
            share_id=row["share_id"],
            signup_id=row["share_signup_id"],
            vin=row["vin"],
            live=bool(row["live"]),
            signup_active=row["signup_state"] is SignupState.ACTIVE,
        )
        return share, _lot_view(row)

    def lock_shares(
        self, share_ids: Sequence[int], lot_id: int
    ) -> tuple[dict[int, ShareView], LotView | None]:
        if len(share_ids) == 1:
            found = self.lock_share(share_ids[0], lot_id)
            return ({}, None) if found is None else ({found[0].share_id: found[0]}, found[1])
        params = {"p_shares": list(share_ids), "p_lot": lot_id}
        rows = self._rows(_LOCK_SHARES, params)
        shares = {
            row["share_id"]: ShareView(
                share_id=row["share_id"],
                signup_id=row["share_signup_id"],
                vin=row["vin"],
                live=bool(row["live"]),
                signup_active=row["signup_state"] == SignupState.ACTIVE,
            )
            for row in rows
        }
        return shares, (_lot_view(rows[0]) if rows else None)

    def shares_elsewhere(
        self, share_ids: Sequence[int], lot_id: int
    ) -> dict[int, tuple[int | None, int | None]]:
        params = {"p_shares": list(share_ids), "p_lot": lot_id}
        found: dict[int, tuple[int | None, int | None]] = {}
        for row in self._rows(_SHARES_ELSEWHERE, params):
            share_id, other, kind = row.values()
            elsewhere, reserved_on = found.get(share_id, (None, None))
            if kind == 0:
                elsewhere = other if elsewhere is None else elsewhere
            else:
                reserved_on = other if reserved_on is None else reserved_on
            found[share_id] = (elsewhere, reserved_on)
        return found

    def _rows(self, statements: dict[bool, Any], params: dict[str, Any]) -> list[dict[str, Any]]:
        """A batch's query: prepared on PostgreSQL, through SQLAlchemy elsewhere."""
        connection = self._c
        statement = statements[connection.dialect.name == "postgresql"]
        if isinstance(statement, Prepared):
            return statement.run(connection, params).all()
        return [dict(row) for row in connection.execute(statement, params).mappings()]

    def lock_lot(self, lot_id: int, share_id: int | None) -> LotView | None:
        if share_id is None:
            row = _LOCK_LOT_ONLY.run(self._c, {"p_lot": lot_id}).first()
        else:
            row = _LOCK_LOT.run(self._c, {"p_lot": lot_id, "p_share": share_id}).first()
        return None if row is None else _lot_view(row)

    def active_maxima(self, lot_id: int) -> Sequence[Proxy]:
        rows = _ACTIVE_MAXIMA.run(self._c, {"p_lot": lot_id}).cursor.fetchall()
        return [Proxy(maximum_id=r[0], signup_id=r[1], share_id=r[2], max_fen=r[3]) for r in rows]

    def write_bids(
        self,
        records: Sequence[BidRecord],
        change: LotChange | None,
        *,
        ended: Sequence[int],
        now: datetime,
    ) -> None:
        connection = self._c
        postgres = connection.dialect.name == "postgresql"
        if postgres and len(records) > 1:  # a batch: one statement
            if change is None:
                _REFUSED_ROWS.write(connection, _arrays(records))
            else:
                _ROWS_AND_LOT.write(connection, _arrays(records) | _lot_params(change))
        elif change is None and postgres:
            for record in records:
                params = {f"b_{name}": value for name, value in _bid_row(record).items()}
                _INSERT_REFUSAL.write(connection, params)
        elif change is None:
            for record in records:
                _INSERT_BID.write(connection, _bid_row(record))
        elif len(records) == 1 and postgres and records[0].accepted:
            params = {f"b_{name}": value for name, value in _bid_row(records[0]).items()}
            _BID_AND_LOT.write(connection, params | _lot_params(change))
        else:
            if len(records) == 1:
                _INSERT_BID.write(connection, _bid_row(records[0]))
            elif records:
                connection.execute(sa.insert(auction_bids), [_bid_row(r) for r in records])
            _UPDATE_LOT_PREPARED.write(connection, _lot_params(change))
        if ended:
            statement = sa.update(auction_maxima).where(M.id.in_(list(ended)))
            connection.execute(statement.values(state="exceeded", ended_at=now))

    def add_maximum(
        self, *, lot_id: int, signup_id: int, share_id: int, max_fen: int, now: datetime
    ) -> Proxy:
        values = {
            "lot_id": lot_id,
            "signup_id": signup_id,
            "share_id": share_id,
            "max_fen": max_fen,
            "set_at": now,
            "state": "active",
        }
        statement = sa.insert(auction_maxima).values(values).returning(M.id)
        maximum_id = self._c.execute(statement).scalar_one()
        return Proxy(maximum_id=maximum_id, signup_id=signup_id, share_id=share_id, max_fen=max_fen)

    def end_maxima(self, lot_id: int, *, signup_id: int | None, state: str, now: datetime) -> int:
        where = [M.lot_id == lot_id, M.state == "active"]
        if signup_id is not None:
            where.append(M.signup_id == signup_id)
        statement = sa.update(auction_maxima).where(*where).values(state=state, ended_at=now)
        return int(self._c.execute(statement).rowcount)

    def count_maxima(self, lot_id: int, count: int) -> None:
        self._c.execute(sa.update(auction_lots).where(L.id == lot_id).values(maxima=count))

    def bids(self, lot_id: int) -> Sequence[BidRecord]:
        query = sa.select(auction_bids).where(B.lot_id == lot_id).order_by(B.id)
        return [
            BidRecord(**{name: row._mapping[name] for name in _BID_COLUMNS})
            for row in self._c.execute(query)
        ]

    # -- closing -------------------------------------------------------------------------------

    def started_without_open_lots(self, now: datetime, limit: int) -> Sequence[int]:
        open_lot = sa.select(L.id).where(L.period_id == P.id, L.state == LotState.OPEN)
        query = (
            sa.select(P.id)
            .where(P.state == PeriodState.PUBLISHED, P.starts_at <= now, ~open_lot.exists())
            .order_by(P.starts_at, P.id)
            .limit(limit)
        )
        return list(self._c.execute(query).scalars())

    def claim_due_lots(self, now: datetime, limit: int) -> Sequence[Lot]:
        rows = self._c.execute(_CLAIM_DUE, {"p_now": now, "p_limit": limit})
        return [Lot(**row._mapping) for row in rows]
