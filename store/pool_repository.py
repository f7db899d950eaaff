"""The number pools (``core.plate_ports.PoolRepository``): plain SQL on the hot path.

A random batch is the next pooled numbers after a random point of the sort key, read along
``ix_plate_numbers_draw`` (``…_no_four`` without the digit 4), skipping numbers held for another
session (``number_holds``) and, on PostgreSQL, rows another transaction is taking right now
(``FOR UPDATE SKIP LOCKED``). A hold is a row of the small ``number_holds`` table, so drawing and
releasing batches writes a few pages whatever the pool's size. Statements are built once; they
run on the session's connection without ORM work. Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.plates import PlateKind, has_four
from core.pools import NumberState, keys_for
from store.preselection_tables import number_holds, plate_numbers
from store.repositories import _conn, _insert

_CHUNK = 5000
N = plate_numbers.c
H = number_holds.c


def _add_as_arrays_statement() -> sa.Executable:
    rows = (
        sa.func.unnest(
            sa.bindparam("serials", type_=postgresql.ARRAY(N.serial.type)),
            sa.bindparam("sort_keys", type_=postgresql.ARRAY(N.sort_key.type)),
            sa.bindparam("no_fours", type_=postgresql.ARRAY(N.no_four.type)),
        )
        .table_valued("serial", "sort_key", "no_four")
        .render_derived(name="numbers")
    )
    given = sa.select(
        sa.bindparam("office_id", type_=N.office_id.type),
        sa.bindparam("kind", type_=N.kind.type),
        rows.c.serial,
        sa.bindparam("state", type_=N.state.type),
        rows.c.sort_key,
        rows.c.no_four,
    )
    columns = ["office_id", "kind", "serial", "state", "sort_key", "no_four"]
    return (
        postgresql.insert(plate_numbers)
        .from_select(columns, given)
        .on_conflict_do_nothing(index_elements=["office_id", "kind", "serial"])
        .returning(N.id)
    )


_ADD_AS_ARRAYS = _add_as_arrays_statement()


class SqlPoolRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    @property
    def _postgres(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    def _run(self, statement: sa.Executable, params: Any = None) -> sa.CursorResult[Any]:
        return _conn(self.session).execute(statement, params)

    def add(self, office_id: int, kind: PlateKind, serials: Sequence[str]) -> int:
        if self._postgres:
            return self._add_as_arrays(office_id, kind, serials)
        added = 0
        for start in range(0, len(serials), _CHUNK):
            rows = [
                {
                    "office_id": office_id,
                    "kind": kind,
                    "serial": serial,
                    "state": NumberState.POOLED,
                    "sort_key": key,
                    "no_four": not has_four(serial),
                }
                for serial, key in keys_for(serials[start : start + _CHUNK])
            ]
            statement = (
                _insert(self.session, plate_numbers)
                .on_conflict_do_nothing(index_elements=["office_id", "kind", "serial"])
                .returning(N.id)
            )
            added += len(self._run(statement, rows).all())
        return added

    def _add_as_arrays(self, office_id: int, kind: PlateKind, serials: Sequence[str]) -> int:
        """PostgreSQL: a chunk's serials, sort keys and digit-4 flags as three arrays, one
        statement of six parameters. Rows of six parameters each (SQLAlchemy's
        ``insertmanyvalues``, 1,000 rows a statement) had psycopg parse 6,000 placeholders a
        statement, in Python: half of a pool load's time (80,000 numbers by ``platebot staff pool
        load``: 9.5 s, now 4.9 s)."""
        added = 0
        for start in range(0, len(serials), _CHUNK):
            keyed = keys_for(serials[start : start + _CHUNK])
            params = {
                "office_id": office_id,
                "kind": kind,
                "state": NumberState.POOLED,
                "serials": [serial for serial, _key in keyed],
                "sort_keys": [key for _serial, key in keyed],
                "no_fours": [not has_four(serial) for serial, _key in keyed],
            }
            added += len(self._run(_ADD_AS_ARRAYS, params).all())
        return added

    def counts(self, office_id: int) -> dict[PlateKind, int]:
        """Pooled numbers per kind, less those held in someone's batch right now."""
        params = {"p_office": office_id}
        pooled = {PlateKind(row.kind): int(row.n) for row in self._run(_COUNT_POOLED, params)}
        for row in self._run(_COUNT_HELD, params):
            kind = PlateKind(row.kind)
            pooled[kind] = pooled.get(kind, 0) - int(row.n)
        return pooled

    def _pick(
        self, office_id: int, kind: PlateKind, count: int, *, no_four: bool, start: int, lock: bool
    ) -> list[tuple[int, str]]:
        """From ``start`` along the sort key to the end, then from the beginning."""
        found: list[tuple[int, str]] = []
        for wrapped in (False, True):
            params = {"p_office": office_id, "p_kind": kind, "p_start": start}
            params["p_count"] = count - len(found)
            statement = _pick_statement(no_four=no_four, wrapped=wrapped, lock=lock)
            found += [(row.id, row.serial) for row in self._run(statement, params)]
            if len(found) >= count:
                break
        return found

    def sample(
        self, office_id: int, kind: PlateKind, count: int, *, no_four: bool, start: int
    ) -> list[str]:
        picked = self._pick(office_id, kind, count, no_four=no_four, start=start, lock=False)
        return [serial for _id, serial in picked]

    def hold_batch(
        self,
        office_id: int,
        kind: PlateKind,
        count: int,
        *,
        no_four: bool,
        start: int,
        session_id: int,
    ) -> list[str]:
        postgres = self._postgres
        held: list[str] = []
        released = False
        for wrapped in (False, True):  # one statement each: pick (skipping locked rows), hold
            params = {"p_office": office_id, "p_kind": kind, "p_start": start}
            params |= {"p_count": count - len(held), "p_session": session_id}
            statement = _hold_statement(postgres, no_four=no_four, wrapped=wrapped)
            found = list(self._run(statement, params).scalars())
            # On PostgreSQL the first statement gives the earlier batch back too, if it holds the
            # whole batch (nearly always): then nothing more is picked in this transaction.
            released = postgres and not wrapped and len(found) == count
            held += found
            if len(held) >= count:
                break
        if held and not released:
            self._run(_RELEASE_OTHERS, {"p_session": session_id, "p_keep": held})
        return held

    def release(self, session_id: int) -> int:
        return int(self._run(_RELEASE, {"p_session": session_id}).rowcount)

    def states(
        self, office_id: int, kind: PlateKind, serials: Sequence[str], *, lock: bool
    ) -> dict[str, tuple[NumberState, int | None]]:
        if not serials:
            return {}
        params = {"p_office": office_id, "p_kind": kind, "p_serials": list(serials)}
        postgres = self._postgres
        if lock:
            # Two statements. On PostgreSQL (READ COMMITTED) a statement that waited for a row
            # lock re-reads only the locked rows; a joined table is still seen as it was when
            # the statement began. A number just held by the transaction we waited for (a draw
            # locks the number, then adds its hold) would look free. The holds are read after
            # the lock, by a statement of their own, which sees what that transaction committed
            # (only for pooled numbers: a hold means nothing on a number in any other state).
            numbers = self._run(_lock_numbers_statement(postgres), params).all()
            ids = [row.id for row in numbers if NumberState(row.state) is NumberState.POOLED]
            held = self._run(_holders_statement(postgres), {"p_ids": ids}) if ids else ()
            holders = {row.number_id: row.session_id for row in held}
            rows = [(row.serial, row.state, holders.get(row.id)) for row in numbers]
        else:
            found = self._run(_states_statement(postgres), params)
            rows = [(row.serial, row.state, row.session_id) for row in found]
        result: dict[str, tuple[NumberState, int | None]] = {}
        for serial, value, session_id in rows:
            state = NumberState(value)
            if state is NumberState.POOLED and session_id is not None:
                result[serial] = (NumberState.HELD, session_id)
            else:
                result[serial] = (state, None)
        return result

    def set_state(self, office_id: int, kind: PlateKind, serial: str, state: NumberState) -> None:
        params = {"p_office": office_id, "p_kind": kind, "p_serial": serial, "p_state": state}
        self._run(_SET_STATE, params)

    def remove(self, office_id: int, kind: PlateKind, serial: str) -> None:
        params = {"p_office": office_id, "p_kind": kind, "p_serial": serial}
        self._run(_REMOVE, params)


# -- statements, built once (SQLAlchemy also caches their compiled form) -----------------------

_OFFICE_KIND = (
    N.office_id == sa.bindparam("p_office", type_=sa.Integer()),
    N.kind == sa.bindparam("p_kind", type_=N.kind.type),
)
_COUNT_POOLED = (
    sa.select(N.kind, sa.func.count().label("n"))
    .where(N.office_id == sa.bindparam("p_office", type_=sa.Integer()))
    .where(N.state == NumberState.POOLED)
    .group_by(N.kind)
)
_COUNT_HELD = (
    sa.select(N.kind, sa.func.count().label("n"))
    .select_from(number_holds.join(plate_numbers, N.id == H.number_id))
    .where(N.office_id == sa.bindparam("p_office", type_=sa.Integer()))
    .group_by(N.kind)
)


_COUNT: sa.BindParameter[int] = sa.bindparam("p_count", type_=sa.Integer())


@cache
def _pick_statement(*, no_four: bool, wrapped: bool, lock: bool) -> sa.Select[Any]:
    """Pooled, unheld numbers from the random start to the end of the sort key (``wrapped``:
    from the beginning up to it)."""
    start: sa.BindParameter[int] = sa.bindparam("p_start", type_=sa.Integer())
    held = sa.exists().where(H.number_id == N.id)
    query = sa.select(N.id, N.serial).where(*_OFFICE_KIND, N.state == NumberState.POOLED, ~held)
    if no_four:
        query = query.where(N.no_four == sa.true())  # "= true": indexable, unlike "IS true"
    query = query.where(N.sort_key < start if wrapped else N.sort_key >= start)
    query = query.order_by(N.sort_key).limit(_COUNT)
    return query.with_for_update(skip_locked=True) if lock else query


_SESSION: sa.BindParameter[int] = sa.bindparam("p_session", type_=sa.Integer())
_RELEASE = sa.delete(number_holds).where(H.session_id == _SESSION)
_RELEASE_OTHERS = _RELEASE.where(H.serial.not_in(sa.bindparam("p_keep", expanding=True)))
# A turn that only looks (a batch drawn; self-chosen candidates that were all taken) does not wait
# for the WAL to reach the disk (``SET LOCAL``, as a function, inside a statement; other
# transactions still see it at once). If PostgreSQL itself crashed within a moment of it, that
# turn would be gone whole: the batch or the check, its count and the conversation's step. The
# user is then at the step before, the allowance unspent, and asks again; nothing is half-written.
# A turn that takes a number, and every other transaction, waits for the disk.
_ASYNC_COMMIT = sa.text("set_config('synchronous_commit', 'off', true) = 'off'")


@cache
def _hold_statement(postgres: bool, *, no_four: bool, wrapped: bool) -> Any:
    """``INSERT INTO number_holds SELECT …`` the picked numbers, in one statement; a number
    another session holds meanwhile is passed over (``ON CONFLICT DO NOTHING``).

    On PostgreSQL, ``WITH held AS (INSERT … RETURNING) SELECT …`` that also makes the commit
    asynchronous (see ``_ASYNC_COMMIT``); and from the random start
    (not ``wrapped``), when the whole batch is held, ``DELETE`` the holds the session had
    before. Every part of one statement sees the holds as they were when it began: the numbers
    just held are not the ones deleted, and the earlier batch, held until the statement ends, is
    not picked again."""
    picked = _pick_statement(no_four=no_four, wrapped=wrapped, lock=True)
    rows = picked.with_only_columns(N.id, _SESSION, N.serial)
    insert: Any = postgresql.insert if postgres else sqlite.insert
    statement = (
        insert(number_holds)
        .from_select(["number_id", "session_id", "serial"], rows)
        .on_conflict_do_nothing(index_elements=["number_id"])
        .returning(H.serial)
    )
    if not postgres:
        return statement
    held = statement.cte("held")
    query = sa.select(held.c.serial).where(_ASYNC_COMMIT)
    if wrapped:
        return query
    whole = sa.select(sa.func.count()).select_from(held).scalar_subquery() == _COUNT
    return query.add_cte(_RELEASE.where(whole).cte("released"))


def _one_of(column: sa.Column[Any], name: str, postgres: bool) -> sa.ColumnElement[bool]:
    """``column = ANY(:name)``, one array parameter, on PostgreSQL: the statement's text stays
    the same whatever the number of values (``IN (…)`` is rendered again for each execution)."""
    if postgres:
        return column == sa.any_(sa.bindparam(name, type_=postgresql.ARRAY(column.type)))
    return column.in_(sa.bindparam(name, expanding=True))


@cache
def _states_statement(postgres: bool) -> sa.Select[Any]:
    return (
        sa.select(N.serial, N.state, H.session_id)
        .select_from(plate_numbers.outerjoin(number_holds, H.number_id == N.id))
        .where(*_OFFICE_KIND, _one_of(N.serial, "p_serials", postgres))
    )


@cache
def _lock_numbers_statement(postgres: bool) -> sa.Select[Any]:
    return (
        sa.select(N.id, N.serial, N.state)
        .where(*_OFFICE_KIND, _one_of(N.serial, "p_serials", postgres))
        .order_by(N.id)  # rows locked in one order: two users never wait on each other
        .with_for_update()
    )


@cache
def _holders_statement(postgres: bool) -> sa.Select[Any]:
    return sa.select(H.number_id, H.session_id).where(_one_of(H.number_id, "p_ids", postgres))


_SET_STATE = (
    sa.update(plate_numbers)
    .where(*_OFFICE_KIND, N.serial == sa.bindparam("p_serial"))
    .values(state=sa.bindparam("p_state", type_=N.state.type))
)
_REMOVE = sa.delete(plate_numbers).where(*_OFFICE_KIND, N.serial == sa.bindparam("p_serial"))
