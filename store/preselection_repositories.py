"""Repositories of pre-selection (protocols in ``core.plate_ports``). They never commit.

Locks: ``lock=True`` reads take a row lock (``FOR UPDATE``) on PostgreSQL; SQLite transactions
already run one writer at a time (``BEGIN IMMEDIATE``). Claims of due rows and random holds use
``SKIP LOCKED`` so that concurrent processes and users pass each other instead of waiting. Every
locked read refreshes an object the session loaded earlier (``populate_existing``): the row may
have changed before the lock was granted, and the identity map would otherwise keep the old copy
(changes of this transaction not yet written are flushed first, so they are kept).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from functools import cache
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from core.info import Announcement, Contact, Guide
from core.offices import Office
from core.preselection import BlacklistEntry, Preselection, PreselectionState, SelectionSession
from core.registry import VehicleRecord
from store.pool_repository import _ASYNC_COMMIT
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
from store.repositories import _conn, _insert

_CHUNK = 5000
N = plate_numbers.c
E = TypeVar("E")


def _get(session: Session, entity: type[E], key: int, *, lock: bool) -> E | None:
    """By primary key; ``lock``: row-locked and read afresh, not the copy loaded before."""
    if not lock:
        return session.get(entity, key)
    return session.get(entity, key, with_for_update=True, populate_existing=True)


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

    def lock(self, office_id: int) -> None:
        # NO KEY UPDATE: the rows that refer to the office (numbers, orders, lots) take a key
        # share of it when written, which this does not wait for, nor makes wait
        query = sa.select(offices.c.id).where(offices.c.id == office_id)
        self.session.execute(query.with_for_update(key_share=True))

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
        return _get(self.session, Preselection, preselection_id, lock=lock)

    def open_for_vin(self, vin: str, *, lock: bool = False) -> Preselection | None:
        query = sa.select(Preselection).where(P.vin == vin, P.state != PreselectionState.CANCELLED)
        if lock:
            query = query.with_for_update().execution_options(populate_existing=True)
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
            .execution_options(populate_existing=True)
        )
        return list(self.session.scalars(query))


SS = selection_sessions.c


@cache
def _in_session_statement() -> sa.Select[SelectionSession, Preselection, Office]:
    """Built once, on first use (the entities are mapped by then): every stage 2 action runs
    it, and building it again and computing its cache key cost more than running it."""
    return (
        sa.select(SelectionSession, Preselection, Office)
        .join(Preselection, P.id == SS.preselection_id)
        .join(Office, offices.c.id == P.office_id)
        .where(SS.id == sa.bindparam("p_session", type_=sa.Integer()))
        .with_for_update(of=[selection_sessions, preselections])
        .execution_options(populate_existing=True)
    )


_EXPIRY = ("expires_at",)
_ALLOWANCES = ("batches_left", "self_choice_left")
_SAVE_EXPIRY = (
    sa.update(selection_sessions)
    .where(SS.id == sa.bindparam("p_session", type_=sa.Integer()))
    .values(expires_at=sa.bindparam("p_expires", type_=SS.expires_at.type))
)
_SAVE_ALLOWANCES = (
    sa.update(preselections)
    .where(P.id == sa.bindparam("p_preselection", type_=sa.Integer()))
    .values(
        batches_left=sa.bindparam("p_batches", type_=sa.Integer()),
        self_choice_left=sa.bindparam("p_own", type_=sa.Integer()),
    )
)
# PostgreSQL: both in one statement (WITH touched AS (UPDATE selection_sessions …) UPDATE …), in
# a turn that only looked (a batch drawn, candidates all taken): its commit need not wait for the
# disk (see ``_ASYNC_COMMIT``).
_SAVE_PROGRESS = _SAVE_ALLOWANCES.add_cte(_SAVE_EXPIRY.cte("touched")).where(_ASYNC_COMMIT)


class SqlSessionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, session: SelectionSession) -> None:
        self.session.add(session)
        self.session.flush()

    def get(self, session_id: int, *, lock: bool = False) -> SelectionSession | None:
        return _get(self.session, SelectionSession, session_id, lock=lock)

    def lock_with_preselection(
        self, session_id: int
    ) -> tuple[SelectionSession, Preselection, Office] | None:
        row = self.session.execute(_in_session_statement(), {"p_session": session_id}).first()
        return None if row is None else (row[0], row[1], row[2])

    def save_progress(self, session: SelectionSession, preselection: Preselection) -> None:
        connection = _conn(self.session)
        params = {
            "p_session": session.id,
            "p_expires": session.expires_at,
            "p_preselection": preselection.id,
            "p_batches": preselection.batches_left,
            "p_own": preselection.self_choice_left,
        }
        if connection.dialect.name == "postgresql":
            connection.execute(_SAVE_PROGRESS, params)
        else:
            connection.execute(_SAVE_EXPIRY, params)
            connection.execute(_SAVE_ALLOWANCES, params)
        # written: the unit of work has nothing left to write for them at commit
        for entity, keys in ((session, _EXPIRY), (preselection, _ALLOWANCES)):
            for key in keys:
                set_committed_value(entity, key, getattr(entity, key))

    def open_for(self, preselection_id: int) -> Sequence[SelectionSession]:
        query = (
            sa.select(SelectionSession)
            .where(SS.preselection_id == preselection_id, SS.ended_at.is_(None))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return list(self.session.scalars(query))

    def claim_idle(self, now: datetime, limit: int) -> Sequence[SelectionSession]:
        query = (
            sa.select(SelectionSession)
            .where(SS.ended_at.is_(None), SS.expires_at <= now)
            .order_by(SS.expires_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
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
            .execution_options(populate_existing=True)
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
