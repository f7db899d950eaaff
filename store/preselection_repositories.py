"""Repositories of pre-selection (protocols in ``core.plate_ports``). They never commit.

Locks: ``lock=True`` reads take a row lock (``FOR UPDATE``) on PostgreSQL; SQLite transactions
already run one writer at a time (``BEGIN IMMEDIATE``). Claims of due rows and random holds use
``SKIP LOCKED`` so that concurrent processes and users pass each other instead of waiting.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.info import Announcement, Contact, Guide
from core.offices import Office
from core.plates import PlateKind, has_four
from core.pools import NumberState, keys_for
from core.preselection import BlacklistEntry, Preselection, PreselectionState, SelectionSession
from core.registry import VehicleRecord
from store.preselection_tables import (
    announcements,
    blacklist,
    contacts,
    guides,
    office_holidays,
    offices,
    plate_numbers,
    preselections,
    selection_sessions,
)
from store.repositories import _insert

_CHUNK = 5000
N = plate_numbers.c


class SqlOfficeRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, office: Office) -> None:
        self.session.add(office)
        self.session.flush()

    def get(self, office_id: int) -> Office | None:
        return self.session.get(Office, office_id)

    def by_code(self, code: str) -> Office | None:
        code = code.strip().upper()
        if len(code) != 2:
            return None
        query = sa.select(Office).where(offices.c.province == code[0], offices.c.letter == code[1])
        return self.session.scalars(query).one_or_none()

    def all(self) -> Sequence[Office]:
        return list(self.session.scalars(sa.select(Office).order_by(offices.c.id)))

    def holidays(self, office_id: int, first: date, last: date) -> set[date]:
        c = office_holidays.c
        query = sa.select(c.day).where(c.office_id == office_id, c.day.between(first, last))
        return set(self.session.scalars(query))

    def set_holiday(self, office_id: int, day: date, *, on: bool) -> None:
        c = office_holidays.c
        if on:
            self.session.execute(
                _insert(self.session, office_holidays)
                .values(office_id=office_id, day=day)
                .on_conflict_do_nothing(index_elements=["office_id", "day"])
            )
        else:
            self.session.execute(
                sa.delete(office_holidays).where(c.office_id == office_id, c.day == day)
            )


class SqlPoolRepository:
    """Plain SQL: one statement per operation, each along an index."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, office_id: int, kind: PlateKind, serials: Sequence[str]) -> int:
        added = 0
        for start in range(0, len(serials), _CHUNK):
            chunk = serials[start : start + _CHUNK]
            rows = [
                {
                    "office_id": office_id,
                    "kind": kind,
                    "serial": serial,
                    "state": NumberState.POOLED,
                    "sort_key": key,
                    "no_four": not has_four(serial),
                }
                for serial, key in keys_for(chunk)
            ]
            result = self.session.execute(
                _insert(self.session, plate_numbers)
                .on_conflict_do_nothing(index_elements=["office_id", "kind", "serial"])
                .returning(N.id),
                rows,
            )
            added += len(result.all())
        return added

    def counts(self, office_id: int) -> dict[PlateKind, int]:
        query = (
            sa.select(N.kind, sa.func.count())
            .where(N.office_id == office_id, N.state == NumberState.POOLED)
            .group_by(N.kind)
        )
        return {PlateKind(kind): int(count) for kind, count in self.session.execute(query)}

    def _run(self, statement: sa.Executable, **params: Any) -> sa.CursorResult[Any]:
        """Core statements on the session's connection: no ORM work on the hot path."""
        return self.session.connection().execute(statement, params)

    def _pick(
        self, office_id: int, kind: PlateKind, count: int, *, no_four: bool, start: int, lock: bool
    ) -> list[tuple[int, str]]:
        """From ``start`` along the sort key to the end, then from the beginning."""
        found: list[tuple[int, str]] = []
        for wrapped in (False, True):
            rows = self._run(
                _pick_statement(no_four=no_four, wrapped=wrapped, lock=lock),
                p_office=office_id,
                p_kind=kind,
                p_start=start,
                p_count=count - len(found),
            )
            found += [(row.id, row.serial) for row in rows]
            if len(found) >= count:
                break
        return found

    def sample(
        self, office_id: int, kind: PlateKind, count: int, *, no_four: bool, start: int
    ) -> list[str]:
        picked = self._pick(office_id, kind, count, no_four=no_four, start=start, lock=False)
        return [serial for _id, serial in picked]

    def hold(
        self,
        office_id: int,
        kind: PlateKind,
        count: int,
        *,
        no_four: bool,
        start: int,
        session_id: int,
    ) -> list[str]:
        held: list[str] = []
        for wrapped in (False, True):  # one statement each: pick (skipping locked rows) and hold
            rows = self._run(
                _hold_statement(no_four=no_four, wrapped=wrapped),
                p_office=office_id,
                p_kind=kind,
                p_start=start,
                p_count=count - len(held),
                p_session=session_id,
            )
            held += [row.serial for row in rows]
            if len(held) >= count:
                break
        return held

    def release(self, session_id: int, *, keep: Sequence[str] = ()) -> int:
        result = self._run(_RELEASE, p_session=session_id, p_keep=list(keep) or [""])
        return int(result.rowcount)

    def states(
        self, office_id: int, kind: PlateKind, serials: Sequence[str], *, lock: bool
    ) -> dict[str, tuple[NumberState, int | None]]:
        if not serials:
            return {}
        statement = _STATES_LOCKED if lock else _STATES
        rows = self._run(statement, p_office=office_id, p_kind=kind, p_serials=list(serials))
        return {row.serial: (NumberState(row.state), row.hold_session_id) for row in rows}

    def set_state(self, office_id: int, kind: PlateKind, serial: str, state: NumberState) -> None:
        self._run(_SET_STATE, p_office=office_id, p_kind=kind, p_serial=serial, p_state=state)


# Statements of the hot path, built once (SQLAlchemy caches their compiled form too).
_POOLED = (
    N.office_id == sa.bindparam("p_office"),
    N.kind == sa.bindparam("p_kind", type_=N.kind.type),
    N.state == NumberState.POOLED,
)


@cache
def _pick_statement(*, no_four: bool, wrapped: bool, lock: bool) -> sa.Select[Any]:
    """Pooled numbers from the random start to the end of the sort key (``wrapped``: from the
    beginning up to it), along ``ix_plate_numbers_draw`` (``…_no_four`` with the filter)."""
    start: sa.BindParameter[int] = sa.bindparam("p_start", type_=sa.Integer())
    query = sa.select(N.id, N.serial).where(*_POOLED)
    if no_four:
        query = query.where(N.no_four == sa.true())  # "= true": indexable, unlike "IS true"
    query = query.where(N.sort_key < start if wrapped else N.sort_key >= start)
    query = query.order_by(N.sort_key).limit(sa.bindparam("p_count"))
    return query.with_for_update(skip_locked=True) if lock else query


@cache
def _hold_statement(*, no_four: bool, wrapped: bool) -> sa.Update:
    picked = _pick_statement(no_four=no_four, wrapped=wrapped, lock=True).with_only_columns(N.id)
    return (
        sa.update(plate_numbers)
        .where(N.id.in_(picked.scalar_subquery()))
        .values(state=NumberState.HELD, hold_session_id=sa.bindparam("p_session"))
        .returning(N.serial)
    )


_RELEASE = (
    sa.update(plate_numbers)
    .where(
        N.hold_session_id == sa.bindparam("p_session"),
        N.state == NumberState.HELD,
        N.serial.not_in(sa.bindparam("p_keep", expanding=True)),
    )
    .values(state=NumberState.POOLED, hold_session_id=None)
)
_STATES = (
    sa.select(N.serial, N.state, N.hold_session_id)
    .where(
        N.office_id == sa.bindparam("p_office"),
        N.kind == sa.bindparam("p_kind", type_=N.kind.type),
        N.serial.in_(sa.bindparam("p_serials", expanding=True)),
    )
    .order_by(N.id)  # rows locked in one order: two users never wait on each other
)
_STATES_LOCKED = _STATES.with_for_update()
_SET_STATE = (
    sa.update(plate_numbers)
    .where(
        N.office_id == sa.bindparam("p_office"),
        N.kind == sa.bindparam("p_kind", type_=N.kind.type),
        N.serial == sa.bindparam("p_serial"),
    )
    .values(state=sa.bindparam("p_state", type_=N.state.type), hold_session_id=None)
)


class SqlRegistryRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, record: VehicleRecord) -> None:
        self.session.add(record)

    def get(self, vin: str) -> VehicleRecord | None:
        return self.session.get(VehicleRecord, vin)


P = preselections.c


class SqlPreselectionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, preselection: Preselection) -> None:
        self.session.add(preselection)
        self.session.flush()

    def get(self, preselection_id: int, *, lock: bool = False) -> Preselection | None:
        return self.session.get(Preselection, preselection_id, with_for_update=lock or None)

    def open_for_vin(self, vin: str, *, lock: bool = False) -> Preselection | None:
        query = sa.select(Preselection).where(P.vin == vin, P.state != PreselectionState.CANCELLED)
        if lock:
            query = query.with_for_update()
        return self.session.scalars(query).one_or_none()

    def latest_for_account(
        self, account_id: int, states: Sequence[PreselectionState]
    ) -> Preselection | None:
        query = (
            sa.select(Preselection)
            .where(P.account_id == account_id, P.state.in_(list(states)))
            .order_by(P.created_at.desc(), P.id.desc())
            .limit(1)
        )
        return self.session.scalars(query).first()

    def listed(
        self, *, state: PreselectionState | None, office_id: int | None, limit: int
    ) -> Sequence[Preselection]:
        query = sa.select(Preselection).order_by(P.id.desc()).limit(limit)
        if state is not None:
            query = query.where(P.state == state)
        if office_id is not None:
            query = query.where(P.office_id == office_id)
        return list(self.session.scalars(query))

    def claim_lapsed(self, now: datetime, limit: int) -> Sequence[Preselection]:
        query = (
            sa.select(Preselection)
            .where(P.state == PreselectionState.SELECTED, P.deadline <= now)
            .order_by(P.deadline, P.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list(self.session.scalars(query))


SS = selection_sessions.c


class SqlSessionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, session: SelectionSession) -> None:
        self.session.add(session)
        self.session.flush()

    def get(self, session_id: int, *, lock: bool = False) -> SelectionSession | None:
        return self.session.get(SelectionSession, session_id, with_for_update=lock or None)

    def lock_with_preselection(
        self, session_id: int
    ) -> tuple[SelectionSession, Preselection, Office] | None:
        query = (
            sa.select(SelectionSession, Preselection, Office)
            .join(Preselection, P.id == SS.preselection_id)
            .join(Office, offices.c.id == P.office_id)
            .where(SS.id == session_id)
            .with_for_update(of=[selection_sessions, preselections])
        )
        row = self.session.execute(query).first()
        return None if row is None else (row[0], row[1], row[2])

    def open_for(self, preselection_id: int) -> Sequence[SelectionSession]:
        query = (
            sa.select(SelectionSession)
            .where(SS.preselection_id == preselection_id, SS.ended_at.is_(None))
            .with_for_update()
        )
        return list(self.session.scalars(query))

    def claim_idle(self, now: datetime, limit: int) -> Sequence[SelectionSession]:
        query = (
            sa.select(SelectionSession)
            .where(SS.ended_at.is_(None), SS.expires_at <= now)
            .order_by(SS.expires_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list(self.session.scalars(query))


B = blacklist.c


class SqlBlacklistRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, entry: BlacklistEntry) -> None:
        self.session.add(entry)
        self.session.flush()

    def active(self, *, account_id: int, owner_id: str, now: datetime) -> BlacklistEntry | None:
        query = (
            sa.select(BlacklistEntry)
            .where(
                sa.or_(B.account_id == account_id, B.owner_id == owner_id),
                B.lifted_at.is_(None),
                B.lifts_at > now,
            )
            .order_by(B.lifts_at.desc())
            .limit(1)
        )
        return self.session.scalars(query).first()

    def listed(self, now: datetime) -> Sequence[BlacklistEntry]:
        query = (
            sa.select(BlacklistEntry)
            .where(B.lifted_at.is_(None), B.lifts_at > now)
            .order_by(B.lifts_at)
        )
        return list(self.session.scalars(query))

    def claim_due(self, now: datetime, limit: int) -> Sequence[BlacklistEntry]:
        query = (
            sa.select(BlacklistEntry)
            .where(B.lifted_at.is_(None), B.lifts_at <= now)
            .order_by(B.lifts_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list(self.session.scalars(query))


class SqlInfoRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, item: Guide | Contact | Announcement) -> None:
        self.session.add(item)
        self.session.flush()

    def remove(self, item: Guide | Contact | Announcement) -> None:
        self.session.delete(item)

    def guide(self, guide_id: int) -> Guide | None:
        return self.session.get(Guide, guide_id)

    def guides(self) -> Sequence[Guide]:
        query = sa.select(Guide).order_by(guides.c.position, guides.c.id)
        return list(self.session.scalars(query))

    def contact(self, contact_id: int) -> Contact | None:
        return self.session.get(Contact, contact_id)

    def contacts(self) -> Sequence[Contact]:
        return list(self.session.scalars(sa.select(Contact).order_by(contacts.c.id)))

    def announcement(self, announcement_id: int) -> Announcement | None:
        return self.session.get(Announcement, announcement_id)

    def announcements(self, *, now: datetime | None) -> Sequence[Announcement]:
        a = announcements.c
        query = sa.select(Announcement).order_by(a.published_at.desc(), a.id.desc())
        if now is not None:
            query = query.where(
                a.published_at <= now, sa.or_(a.withdrawn_at.is_(None), a.withdrawn_at > now)
            )
        return list(self.session.scalars(query))
