"""Repositories of offices, number pools, the vehicle registry, pre-selections and the
information pages, as protocols. ``store/preselection_repositories.py`` implements them; the
unit of work (``core.ports.UnitOfWork``) carries one of each.

Entity types are imported for type checking only: the modules that define them use the unit of
work, so importing them here at run time would go round in a circle.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from core.info import Announcement, Contact, Guide
    from core.offices import Office
    from core.plates import PlateKind
    from core.pools import NumberState
    from core.preselection import (
        BlacklistEntry,
        Preselection,
        PreselectionState,
        SelectionSession,
    )
    from core.registry import VehicleRecord


class OfficeRepository(Protocol):
    def add(self, office: Office) -> None: ...
    def get(self, office_id: int) -> Office | None: ...
    def by_code(self, code: str) -> Office | None: ...
    def all(self) -> Sequence[Office]: ...
    def holidays(self, office_id: int, first: date, last: date) -> set[date]: ...
    def set_holiday(self, office_id: int, day: date, *, on: bool) -> None: ...
    def lock(self, office_id: int) -> None:
        """Hold the office until commit. What decides whether one of its numbers is free (a
        reservation, a pool load, a sale listing, a lot added) takes it before it looks, so
        two of them never both find the same number free and both take it."""
        ...


class PoolRepository(Protocol):
    """Plate numbers of the offices' pools. Rows are reached by (office, kind, serial)."""

    def add(self, office_id: int, kind: PlateKind, serials: Sequence[str]) -> int:
        """Pool the serials not known yet; how many were added."""
        ...

    def counts(self, office_id: int) -> dict[PlateKind, int]:
        """Pooled numbers per kind."""
        ...

    def sample(
        self, office_id: int, kind: PlateKind, count: int, *, no_four: bool, start: int
    ) -> list[str]:
        """Up to ``count`` pooled numbers from ``start`` along the sort key; nothing changes."""
        ...

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
        """Like ``sample``, and the numbers become held for ``session_id`` (numbers another
        transaction is holding right now are skipped) in place of those it held before, which go
        back to the pool (when no number could be held, the earlier ones stay held)."""
        ...

    def release(self, session_id: int) -> int:
        """Numbers held for ``session_id`` go back to the pool."""
        ...

    def states(
        self, office_id: int, kind: PlateKind, serials: Sequence[str], *, lock: bool
    ) -> dict[str, tuple[NumberState, int | None]]:
        """State and holding session of each serial the pool knows (locked if ``lock``)."""
        ...

    def set_state(
        self, office_id: int, kind: PlateKind, serial: str, state: NumberState
    ) -> None: ...
    def remove(self, office_id: int, kind: PlateKind, serial: str) -> None:
        """Forget a number that is in no state the pool keeps (a sale withdrawn of a number
        that was never pooled)."""
        ...


class RegistryRepository(Protocol):
    def add(self, record: VehicleRecord) -> None: ...
    def get(self, vin: str) -> VehicleRecord | None: ...


class PreselectionRepository(Protocol):
    def add(self, preselection: Preselection) -> None: ...
    def get(self, preselection_id: int, *, lock: bool = False) -> Preselection | None: ...
    def open_for_vin(self, vin: str, *, lock: bool = False) -> Preselection | None:
        """The vehicle's pre-selection that is not cancelled, if any."""
        ...

    def latest_for_account(
        self, account_id: int, states: Sequence[PreselectionState]
    ) -> Preselection | None: ...

    def listed(
        self, *, state: PreselectionState | None, office_id: int | None, limit: int
    ) -> Sequence[Preselection]: ...

    def claim_lapsed(self, now: datetime, limit: int) -> Sequence[Preselection]:
        """Selected ones past their deadline, locked for this transaction (others skip them)."""
        ...


class SessionRepository(Protocol):
    def add(self, session: SelectionSession) -> None: ...
    def get(self, session_id: int, *, lock: bool = False) -> SelectionSession | None: ...
    def open_for(self, preselection_id: int) -> Sequence[SelectionSession]: ...
    def lock_with_preselection(
        self, session_id: int
    ) -> tuple[SelectionSession, Preselection, Office] | None:
        """The session and its pre-selection, both locked, and their office: in one query, as
        every stage 2 action starts with them."""
        ...

    def save_progress(self, session: SelectionSession, preselection: Preselection) -> None:
        """Write the session's expiry and the pre-selection's allowances now (one statement on
        PostgreSQL; at commit the unit of work would write them with one statement a table), in
        a turn that only looked (a batch drawn, candidates all taken): a crash of the database
        may lose such a turn whole, never part of it."""
        ...

    def claim_idle(self, now: datetime, limit: int) -> Sequence[SelectionSession]:
        """Open sessions past their idle time, locked for this transaction."""
        ...


class BlacklistRepository(Protocol):
    def add(self, entry: BlacklistEntry) -> None: ...
    def active(self, *, account_id: int, owner_id: str, now: datetime) -> BlacklistEntry | None: ...
    def listed(self, now: datetime) -> Sequence[BlacklistEntry]: ...
    def claim_due(self, now: datetime, limit: int) -> Sequence[BlacklistEntry]:
        """Entries whose two years are over and not lifted yet, locked for this transaction."""
        ...


class InfoRepository(Protocol):
    def add(self, item: Guide | Contact | Announcement) -> None: ...
    def remove(self, item: Guide | Contact | Announcement) -> None: ...
    def guide(self, guide_id: int) -> Guide | None: ...
    def guides(self) -> Sequence[Guide]: ...
    def contact(self, contact_id: int) -> Contact | None: ...
    def contacts(self) -> Sequence[Contact]: ...
    def announcement(self, announcement_id: int) -> Announcement | None: ...
    def announcements(self, *, now: datetime | None) -> Sequence[Announcement]:
        """Newest first; with ``now``, only those published and not withdrawn by then."""
        ...
