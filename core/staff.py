"""Staff members of the web console (SPEC §10): named people with a password and a role, the
rules of what each role may do, signing in with throttled attempts, and the audit of every staff
action (who, when, what, from where).

Roles: a **clerk** does their office's counter work, a **supervisor** everything of their
office, an **admin** everything, all offices and the staff accounts. Programs (the bearer-token
API) and the server's command line act as admins under their own names.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from core.errors import DomainError

if TYPE_CHECKING:
    from core.ports import UnitOfWork


class Role(StrEnum):
    CLERK = "clerk"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class Permission(StrEnum):
    COUNTER = "counter"  # confirm pre-selections, take counter payments, look things up
    OFFICE = "office"  # an office's settings, pool, registry, blacklist, information, refunds
    ADMIN = "admin"  # create offices, staff accounts, every office


GRANTS: dict[Role, frozenset[Permission]] = {
    Role.CLERK: frozenset({Permission.COUNTER}),
    Role.SUPERVISOR: frozenset({Permission.COUNTER, Permission.OFFICE}),
    Role.ADMIN: frozenset(Permission),
}

# Signing in: after this many failures in the window, an account (or a client address) waits
# until the oldest of them leaves the window.
ATTEMPT_WINDOW = timedelta(minutes=15)
FAILURES_PER_ACCOUNT = 5
FAILURES_PER_ADDRESS = 20
MIN_PASSWORD = 10
NAME = re.compile(r"^[\w.\-]{2,40}$")


class StaffUnknown(DomainError):
    code = "staff.unknown"


class StaffExists(DomainError):
    code = "staff.exists"


class StaffNameInvalid(DomainError):
    code = "staff.name_invalid"


class PasswordTooShort(DomainError):
    code = "staff.password_short"


class OfficeRequired(DomainError):
    """Clerks and supervisors belong to an office."""

    code = "staff.office_required"


class NotAllowed(DomainError):
    code = "staff.not_allowed"


class SignInThrottled(DomainError):
    code = "staff.throttled"


class SignInRefused(DomainError):
    code = "staff.sign_in_refused"


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...
    def verify(self, hashed: str, password: str) -> bool:
        """True when ``password`` is the one ``hashed`` was made of (never raises for a wrong
        one)."""
        ...


@dataclass
class StaffMember:
    name: str
    role: Role
    office_code: str | None
    password_hash: str
    created_at: datetime
    active: bool = True
    # Changes on sign-out and password change: a session cookie names it, so an older copy of
    # the cookie stops working.
    session_key: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    id: int | None = None


@dataclass(frozen=True)
class Actor:
    """Who does a staff action, from where: a signed-in staff member (``web``), a program with
    the bearer token (``api``) or the server's command line (``cli``)."""

    name: str
    source: str
    address: str
    role: Role = Role.ADMIN
    office_code: str | None = None

    def may(self, permission: Permission, office_code: str | None = None) -> bool:
        if permission not in GRANTS[self.role]:
            return False
        if self.role is Role.ADMIN or office_code is None:
            return True
        return office_code == self.office_code

    def require(self, permission: Permission, office_code: str | None = None) -> None:
        if not self.may(permission, office_code):
            raise NotAllowed(permission=permission.value, office=office_code or "")

    def own_office(self) -> str | None:
        """The office whose work this actor does: None for an admin (every office's). A clerk
        or supervisor without one (they belong to one) is refused rather than given all."""
        if self.role is Role.ADMIN:
            return None
        if not self.office_code:
            raise NotAllowed(permission=Permission.OFFICE.value, office="")
        return self.office_code


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor: str
    source: str
    address: str
    action: str
    target: str
    office_code: str | None = None
    detail: str = ""
    id: int | None = None


@dataclass(frozen=True)
class Audit:
    """What a use case is, for the audit: ``action`` (``preselection.confirm``), its target (a
    VIN, an office code) and the office it concerns."""

    action: str
    target: str = ""
    office_code: str | None = None
    detail: str = ""


class StaffRepository(Protocol):
    def add(self, member: StaffMember) -> None: ...
    def by_name(self, name: str) -> StaffMember | None: ...
    def get(self, member_id: int) -> StaffMember | None: ...
    def all(self) -> list[StaffMember]: ...
    def save(self, member: StaffMember) -> None: ...
    def count_admins(self) -> int: ...
    def failures_since(self, *, since: datetime, name: str | None, address: str | None) -> int: ...
    def oldest_failure_since(
        self, *, since: datetime, name: str | None, address: str | None
    ) -> datetime | None: ...
    def add_attempt(self, *, at: datetime, name: str, address: str, succeeded: bool) -> None: ...
    def add_audit(self, entry: AuditEntry) -> None: ...
    def audit(self, *, office_code: str | None, limit: int, before: int | None) -> list[AuditEntry]:
        """Newest first; ``office_code``: only that office's entries; ``before``: ids below."""
        ...


def _check_new(name: str, password: str, role: Role, office_code: str | None) -> None:
    if not NAME.match(name):
        raise StaffNameInvalid(name=name)
    if len(password) < MIN_PASSWORD:
        raise PasswordTooShort(minimum=MIN_PASSWORD)
    if role is not Role.ADMIN and not office_code:
        raise OfficeRequired(role=role.value)


def add_staff_member(
    uow: UnitOfWork,
    hasher: PasswordHasher,
    *,
    name: str,
    password: str,
    role: Role,
    office_code: str | None,
    now: datetime,
) -> StaffMember:
    _check_new(name, password, role, office_code)
    if office_code is not None:
        _known_office(uow, office_code)
    if uow.staff.by_name(name) is not None:
        raise StaffExists(name=name)
    member = StaffMember(
        name=name,
        role=role,
        office_code=office_code or None,
        password_hash=hasher.hash(password),
        created_at=now,
    )
    uow.staff.add(member)
    return member


def _known_office(uow: UnitOfWork, office_code: str) -> None:
    from core.plate_errors import OfficeUnknown  # noqa: PLC0415 - plate errors import much

    if uow.offices.by_code(office_code) is None:
        raise OfficeUnknown(office=office_code)


def member_named(uow: UnitOfWork, name: str) -> StaffMember:
    member = uow.staff.by_name(name)
    if member is None:
        raise StaffUnknown(name=name)
    return member


def change_staff_member(
    uow: UnitOfWork,
    hasher: PasswordHasher,
    *,
    name: str,
    role: Role | None = None,
    office_code: str | None = None,
    password: str | None = None,
    active: bool | None = None,
) -> StaffMember:
    member = member_named(uow, name)
    if role is not None:
        member.role = role
    if office_code is not None:
        if office_code:
            _known_office(uow, office_code)
        member.office_code = office_code or None
    if member.role is not Role.ADMIN and not member.office_code:
        raise OfficeRequired(role=member.role.value)
    if password is not None:
        if len(password) < MIN_PASSWORD:
            raise PasswordTooShort(minimum=MIN_PASSWORD)
        member.password_hash = hasher.hash(password)
        member.session_key = secrets.token_urlsafe(16)
    if active is not None:
        member.active = active
        member.session_key = secrets.token_urlsafe(16)
    uow.staff.save(member)
    return member


def check_throttle(uow: UnitOfWork, *, name: str, address: str, now: datetime) -> None:
    """Refuse a sign-in while the account or the client address has had too many failures in
    the window; says in how many minutes to try again."""
    since = now - ATTEMPT_WINDOW
    for limit, by_name, by_address in (
        (FAILURES_PER_ACCOUNT, name, None),
        (FAILURES_PER_ADDRESS, None, address),
    ):
        if uow.staff.failures_since(since=since, name=by_name, address=by_address) >= limit:
            oldest = uow.staff.oldest_failure_since(since=since, name=by_name, address=by_address)
            wait = (oldest or now) + ATTEMPT_WINDOW - now
            minutes = max(1, -(-int(wait.total_seconds()) // 60))
            raise SignInThrottled(minutes=minutes)


def sign_in(
    uow: UnitOfWork,
    hasher: PasswordHasher,
    *,
    name: str,
    password: str,
    address: str,
    now: datetime,
) -> StaffMember | None:
    """The member whose name and password these are (None: wrong, unknown or inactive, which
    counts as a failure). Raises ``SignInThrottled`` before looking at the password."""
    check_throttle(uow, name=name, address=address, now=now)
    member = uow.staff.by_name(name)
    if member is None:
        hasher.verify(_DUMMY.get(hasher), password)  # the same time for an unknown name
    ok = member is not None and member.active and hasher.verify(member.password_hash, password)
    uow.staff.add_attempt(at=now, name=name[:40], address=address, succeeded=ok)
    if not ok or member is None:
        return None
    _audit_own(uow, member, "sign_in", address, now)
    return member


def sign_out(uow: UnitOfWork, *, member_id: int, address: str, now: datetime) -> None:
    """Every copy of the member's session cookie stops working."""
    member = uow.staff.get(member_id)
    if member is None:
        return
    member.session_key = secrets.token_urlsafe(16)
    uow.staff.save(member)
    _audit_own(uow, member, "sign_out", address, now)


def _audit_own(
    uow: UnitOfWork, member: StaffMember, action: str, address: str, now: datetime
) -> None:
    """A member's own signing in or out, in the audit."""
    uow.staff.add_audit(
        AuditEntry(
            at=now,
            actor=member.name,
            source="web",
            address=address,
            action=action,
            target=member.name,
            office_code=member.office_code,
        )
    )


class _Dummies:
    """A hash per hasher to verify against when the name is unknown."""

    def __init__(self) -> None:
        self._made: dict[int, str] = {}

    def get(self, hasher: PasswordHasher) -> str:
        key = id(hasher)
        if key not in self._made:
            self._made[key] = hasher.hash(secrets.token_urlsafe(12))
        return self._made[key]


_DUMMY = _Dummies()
