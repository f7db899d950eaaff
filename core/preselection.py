"""Pre-selections for new cars (SPEC §4): one vehicle's journey from confirmed information to a
number confirmed at the counter, with its allowances; selection sessions and their holds; the
2-year blacklist of accounts that let a pre-selection lapse.

These are the entities and their rules; the use cases are in ``core.selection`` (the user),
``core.counter`` (staff) and ``core.lapses`` (due times).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.clock import as_utc
from core.plate_errors import (
    NoBatchesLeft,
    NoSelfChoiceLeft,
    PreselectionLapsed,
    PreselectionNotOpen,
    SelectionSessionEnded,
    TooManyCandidates,
)
from core.plates import PlateKind

SESSION_IDLE = timedelta(minutes=20)
BLACKLIST_YEARS = 2


class PreselectionState(enum.StrEnum):
    STARTED = "started"  # stage 1 step 2 done: information confirmed, no number yet
    SELECTED = "selected"  # a number is pre-selected until the validity deadline
    CONFIRMED = "confirmed"  # staff confirmed it at the counter
    CANCELLED = "cancelled"  # not confirmed by the deadline


@dataclass(eq=False)
class Preselection:
    """One vehicle's pre-selection and what is left of its allowances."""

    account_id: int
    office_id: int
    vin: str
    plate_kind: PlateKind
    owner_id: str
    self_choice_left: int
    batches_left: int
    created_at: datetime
    state: PreselectionState = PreselectionState.STARTED
    serial: str | None = None
    selected_at: datetime | None = None
    deadline: datetime | None = None
    confirmed_at: datetime | None = None
    cancelled_at: datetime | None = None
    id: int | None = None

    @property
    def has_chances(self) -> bool:
        return self.self_choice_left > 0 or self.batches_left > 0

    def _require_started(self) -> None:
        if self.state is not PreselectionState.STARTED:
            raise PreselectionNotOpen(state=self.state.value)

    def check_batch(self) -> None:
        """No batches left blocks random choice."""
        self._require_started()
        if self.batches_left <= 0:
            raise NoBatchesLeft()

    def spend_batch(self) -> None:
        """A random batch costs one of the vehicle's batches."""
        self.check_batch()
        self.batches_left -= 1

    def check_candidates(self, count: int, per_check: int) -> None:
        """``count`` self-chosen candidates may be checked at once (before anything is spent)."""
        self._require_started()
        if self.self_choice_left <= 0:
            raise NoSelfChoiceLeft()
        limit = min(per_check, self.self_choice_left)
        if count > limit:
            raise TooManyCandidates(maximum=limit)

    def spend_self_choice(self, count: int) -> None:
        """None of ``count`` checked candidates was available: each of them is spent."""
        self.self_choice_left = max(0, self.self_choice_left - count)

    def select(self, serial: str, *, now: datetime, deadline: datetime) -> None:
        self._require_started()
        self.state = PreselectionState.SELECTED
        self.serial = serial
        self.selected_at = now
        self.deadline = deadline

    def confirm(self, now: datetime) -> None:
        """Staff confirm at the counter, within the validity period."""
        if self.state is not PreselectionState.SELECTED or self.deadline is None:
            raise PreselectionNotOpen(state=self.state.value)
        if now >= as_utc(self.deadline):
            raise PreselectionLapsed()
        self.state = PreselectionState.CONFIRMED
        self.confirmed_at = now

    def lapse(self, now: datetime) -> None:
        """Not confirmed by the deadline: cancelled."""
        if self.state is not PreselectionState.SELECTED:
            raise PreselectionNotOpen(state=self.state.value)
        self.state = PreselectionState.CANCELLED
        self.cancelled_at = now


@dataclass(eq=False)
class SelectionSession:
    """Stage 2 after phone verification; numbers of its random batch are held for it. Ends
    after ``SESSION_IDLE`` without use, when a number is taken, or when a new one starts."""

    preselection_id: int
    account_id: int
    started_at: datetime
    expires_at: datetime
    ended_at: datetime | None = None
    id: int | None = None

    def is_active(self, now: datetime) -> bool:
        return self.ended_at is None and now < as_utc(self.expires_at)

    def touch(self, now: datetime) -> None:
        """Used now: it stays open another ``SESSION_IDLE``; an idle one has ended."""
        if not self.is_active(now):
            raise SelectionSessionEnded(minutes=int(SESSION_IDLE.total_seconds() // 60))
        self.expires_at = now + SESSION_IDLE

    def end(self, now: datetime) -> None:
        if self.ended_at is None:
            self.ended_at = now


def two_years_after(when: datetime) -> datetime:
    """The same moment two calendar years later (29 February → 28 February)."""
    try:
        return when.replace(year=when.year + BLACKLIST_YEARS)
    except ValueError:
        return when.replace(year=when.year + BLACKLIST_YEARS, day=28)


@dataclass(eq=False)
class BlacklistEntry:
    """An account (and its owner ID) barred from online pre-selection until ``lifts_at``."""

    account_id: int
    owner_id: str
    created_at: datetime
    lifts_at: datetime
    preselection_id: int | None = None
    lifted_at: datetime | None = None
    lifted_early: bool = False
    id: int | None = None

    def is_active(self, now: datetime) -> bool:
        return self.lifted_at is None and now < as_utc(self.lifts_at)

    def lift(self, now: datetime, *, early: bool = False) -> None:
        if self.lifted_at is None:
            self.lifted_at = now
            self.lifted_early = early
