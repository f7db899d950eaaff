"""Who acts in a staff operation, and its audit: the staff services (``StaffService``,
``StaffOrders``, ``StaffAccounts``) run each operation as one transaction that also writes the
audit entry (who, when, what, from where), so the web console, the HTTP API and the command
line are all recorded in one place, and refused by the actor's role before anything is done.

The actor is given explicitly (``service.acting(actor)``: the web console's signed-in member)
or by the context (``ACTING``: the HTTP API sets it per request); otherwise it is the server's
command line."""

from __future__ import annotations

import copy
import getpass
from collections.abc import Callable
from contextvars import ContextVar
from typing import Self, TypeVar

from core.clock import Clock
from core.ports import UnitOfWork
from core.staff import Actor, Audit, AuditEntry, Permission

T = TypeVar("T")

ACTING: ContextVar[Actor | None] = ContextVar("platebot_staff_actor", default=None)


def command_line_actor() -> Actor:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no user name in this container
        user = "?"
    return Actor(name=f"cli:{user}", source="cli", address="local")


def program_actor(address: str) -> Actor:
    """A program holding the staff API's bearer token."""
    return Actor(name="api", source="api", address=address)


class Acting:
    """What the staff services share: the unit of work, the clock, the actor and the audit."""

    def __init__(
        self, uow_factory: Callable[[], UnitOfWork], clock: Clock, actor: Actor | None = None
    ) -> None:
        self.uow_factory = uow_factory
        self.clock = clock
        self._actor = actor

    @property
    def actor(self) -> Actor:
        return self._actor or ACTING.get() or command_line_actor()

    def acting(self, actor: Actor) -> Self:
        """This service, acting for ``actor``."""
        other = copy.copy(self)
        other._actor = actor
        return other

    def require(self, permission: Permission, office_code: str | None = None) -> None:
        self.actor.require(permission, office_code)

    def _do(
        self, action: Callable[[UnitOfWork], T], audit: Callable[[T], Audit] | None = None
    ) -> T:
        """``action`` in one transaction; ``audit``: what to record of it, in the same one."""
        with self.uow_factory() as uow:
            result = action(uow)
            if audit is not None:
                self._record(uow, audit(result))
            uow.commit()
            return result

    def _record(self, uow: UnitOfWork, audit: Audit) -> None:
        actor = self.actor
        uow.staff.add_audit(
            AuditEntry(
                at=self.clock.now(),
                actor=actor.name,
                source=actor.source,
                address=actor.address,
                action=audit.action,
                target=audit.target,
                office_code=audit.office_code or actor.office_code,
                detail=audit.detail,
            )
        )
