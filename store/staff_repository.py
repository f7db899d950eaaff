"""The staff repository (``core.staff.StaffRepository``): plain SQL on the unit of work's
connection. It never commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from core.clock import as_utc
from core.staff import AuditEntry, Role, StaffMember
from store.repositories import Scope
from store.staff_tables import staff_audit, staff_members, staff_sign_ins

_M = staff_members.c
_S = staff_sign_ins.c
_A = staff_audit.c
_FIELDS = ("name", "role", "office_code", "password_hash", "active", "session_key", "created_at")


def _member(row: Any) -> StaffMember:
    return StaffMember(
        id=row.id,
        name=row.name,
        role=Role(row.role),
        office_code=row.office_code,
        password_hash=row.password_hash,
        active=row.active,
        session_key=row.session_key,
        created_at=row.created_at,
    )


def _audit_entry(row: Any) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        at=row.at,
        actor=row.actor,
        source=row.source,
        address=row.address,
        action=row.action,
        target=row.target,
        office_code=row.office_code,
        detail=row.detail,
    )


class SqlStaffRepository:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    @property
    def _db(self) -> Connection:
        return self.scope.connection

    def _values(self, member: StaffMember) -> dict[str, Any]:
        return {name: getattr(member, name) for name in _FIELDS}

    def add(self, member: StaffMember) -> None:
        inserted = self._db.execute(
            sa.insert(staff_members).values(**self._values(member)).returning(_M.id)
        )
        member.id = int(inserted.scalar_one())

    def save(self, member: StaffMember) -> None:
        self._db.execute(
            sa.update(staff_members).where(_M.id == member.id).values(**self._values(member))
        )

    def by_name(self, name: str) -> StaffMember | None:
        row = self._db.execute(sa.select(staff_members).where(_M.name == name)).one_or_none()
        return _member(row) if row is not None else None

    def get(self, member_id: int) -> StaffMember | None:
        row = self._db.execute(sa.select(staff_members).where(_M.id == member_id)).one_or_none()
        return _member(row) if row is not None else None

    def all(self) -> list[StaffMember]:
        rows = self._db.execute(sa.select(staff_members).order_by(_M.name))
        return [_member(row) for row in rows]

    def count_admins(self) -> int:
        query = sa.select(sa.func.count()).where(_M.role == Role.ADMIN, _M.active.is_(True))
        return int(self._db.execute(query).scalar_one())

    def _failures(
        self, since: datetime, name: str | None, address: str | None
    ) -> sa.Select[int, Any]:
        query = sa.select(sa.func.count(), sa.func.min(_S.at)).where(
            _S.at > since, _S.succeeded.is_(False)
        )
        if name is not None:
            query = query.where(_S.name == name)
        if address is not None:
            query = query.where(_S.address == address)
        return query

    def failures_since(self, *, since: datetime, name: str | None, address: str | None) -> int:
        return int(self._db.execute(self._failures(since, name, address)).one()[0])

    def oldest_failure_since(
        self, *, since: datetime, name: str | None, address: str | None
    ) -> datetime | None:
        oldest = self._db.execute(self._failures(since, name, address)).one()[1]
        return as_utc(oldest) if oldest is not None else None

    def add_attempt(self, *, at: datetime, name: str, address: str, succeeded: bool) -> None:
        self._db.execute(
            sa.insert(staff_sign_ins).values(
                at=at, name=name, address=address[:64], succeeded=succeeded
            )
        )

    def add_audit(self, entry: AuditEntry) -> None:
        self._db.execute(
            sa.insert(staff_audit).values(
                at=entry.at,
                actor=entry.actor[:80],
                source=entry.source,
                address=entry.address[:64],
                action=entry.action,
                target=entry.target[:120],
                office_code=entry.office_code,
                detail=entry.detail[:200],
            )
        )

    def audit(self, *, office_code: str | None, limit: int, before: int | None) -> list[AuditEntry]:
        query = sa.select(staff_audit).order_by(_A.id.desc()).limit(limit)
        if office_code is not None:
            query = query.where(_A.office_code == office_code)
        if before is not None:
            query = query.where(_A.id < before)
        return [_audit_entry(row) for row in self._db.execute(query)]
