"""Staff accounts of the web console (SPEC §10): add and change members (admins only), sign in
and out, and read the audit. Passwords are hashed with Argon2id (argon2-cffi)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import argon2

from core import staff as rules
from core.clock import format_local
from core.ports import UnitOfWork
from core.staff import Audit, AuditEntry, Permission, Role, SignInRefused, StaffMember
from platebot.staff_acting import Acting

log = logging.getLogger(__name__)


class Argon2Hasher:
    """``core.staff.PasswordHasher`` with argon2-cffi's defaults (Argon2id, RFC 9106 low-memory
    profile)."""

    def __init__(self, hasher: argon2.PasswordHasher | None = None) -> None:
        self._hasher = hasher or argon2.PasswordHasher()

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, hashed: str, password: str) -> bool:
        try:
            return self._hasher.verify(hashed, password)
        except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
            return False


def member_view(member: StaffMember) -> dict[str, Any]:
    return {
        "id": member.id,
        "name": member.name,
        "role": member.role.value,
        "office": member.office_code or "",
        "active": member.active,
        "since": format_local(member.created_at),
    }


def audit_view(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": format_local(entry.at),
        "actor": entry.actor,
        "source": entry.source,
        "address": entry.address,
        "action": entry.action,
        "target": entry.target,
        "office": entry.office_code or "",
        "detail": entry.detail,
    }


@dataclass(frozen=True)
class SignedIn:
    id: int
    name: str
    role: Role
    office_code: str | None
    session_key: str


class StaffAccounts(Acting):
    def __init__(self, *args: Any, hasher: rules.PasswordHasher | None = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.hasher = hasher or Argon2Hasher()

    def add(
        self, *, name: str, password: str, role: Role, office_code: str | None = None
    ) -> dict[str, Any]:
        self.require(Permission.ADMIN)

        def add(uow: UnitOfWork) -> dict[str, Any]:
            member = rules.add_staff_member(
                uow,
                self.hasher,
                name=name,
                password=password,
                role=role,
                office_code=office_code or None,
                now=self.clock.now(),
            )
            return member_view(member)

        return self._do(
            add, lambda v: Audit("staff.add", v["name"], v["office"] or None, v["role"])
        )

    def change(
        self,
        name: str,
        *,
        role: Role | None = None,
        office_code: str | None = None,
        password: str | None = None,
        active: bool | None = None,
    ) -> dict[str, Any]:
        """``office_code=""``: no office (admins)."""
        self.require(Permission.ADMIN)
        changed = [
            k
            for k, v in (
                ("role", role),
                ("office", office_code),
                ("password", password),
                ("active", active),
            )
            if v is not None
        ]

        def change(uow: UnitOfWork) -> dict[str, Any]:
            member = rules.change_staff_member(
                uow,
                self.hasher,
                name=name,
                role=role,
                office_code=office_code,
                password=password,
                active=active,
            )
            return member_view(member)

        return self._do(
            change,
            lambda v: Audit("staff.change", v["name"], v["office"] or None, ", ".join(changed)),
        )

    def members(self) -> list[dict[str, Any]]:
        self.require(Permission.ADMIN)
        return self._do(lambda uow: [member_view(m) for m in uow.staff.all()])

    def sign_in(self, *, name: str, password: str, address: str) -> SignedIn:
        """The signed-in member; ``SignInRefused`` (a wrong name or password, said as one) or
        ``SignInThrottled``. The attempt is recorded either way."""

        def sign_in(uow: UnitOfWork) -> StaffMember | None:
            return rules.sign_in(
                uow,
                self.hasher,
                name=name,
                password=password,
                address=address,
                now=self.clock.now(),
            )

        member = self._do(sign_in)
        if member is None or member.id is None:
            log.info("staff sign-in refused for %r from %s", name[:40], address)
            raise SignInRefused()
        return SignedIn(member.id, member.name, member.role, member.office_code, member.session_key)

    def sign_out(self, member_id: int, *, address: str) -> None:
        self._do(
            lambda uow: rules.sign_out(
                uow, member_id=member_id, address=address, now=self.clock.now()
            )
        )

    def session_member(self, member_id: int, session_key: str) -> SignedIn | None:
        """The member a session cookie names, while the cookie is still good (not signed out
        since, the password not changed, the member active)."""
        with self.uow_factory() as uow:
            member = uow.staff.get(member_id)
        if member is None or not member.active or member.session_key != session_key:
            return None
        return SignedIn(member_id, member.name, member.role, member.office_code, session_key)

    def audit(self, *, limit: int = 100, before: int | None = None) -> list[dict[str, Any]]:
        """Admins see every entry; supervisors their office's."""
        self.require(Permission.OFFICE)
        actor = self.actor
        office = None if actor.role is Role.ADMIN else actor.office_code
        return self._do(
            lambda uow: [
                audit_view(e)
                for e in uow.staff.audit(office_code=office, limit=limit, before=before)
            ]
        )
