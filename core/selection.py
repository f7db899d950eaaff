"""Stage 2 of pre-selection (SPEC §4), one transaction each: ``send_selection_code``,
``start_session`` (phone verified), ``draw_batch``, ``take_from_batch``, ``choose_own``. Stage 1
is in ``core.basic_information``.

Every check runs before anything is written: the dialog engine commits a turn even when a rule
refuses it (so that a wrong code is counted), and a refusal must cost nothing.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from core import verification
from core.accounts import Account, Language
from core.basic_information import check_not_blacklisted, check_open, office_of
from core.clock import Clock
from core.errors import CodeNotRequested
from core.offices import (
    Office,
    holiday_window,
    validity_deadline,
)
from core.otp import ANYONE, Requester
from core.plate_errors import (
    NoCandidates,
    NumberNotHeld,
    PoolEmpty,
    PreselectionNotFound,
    PreselectionNotOpen,
    SelectionSessionEnded,
)
from core.plates import (
    PlateKind,
    check_self_choice,
    parse_serial,
    split_candidates,
    unique_in_order,
)
from core.pools import NumberState, random_start
from core.ports import UnitOfWork
from core.preselection import (
    SESSION_IDLE,
    Preselection,
    PreselectionState,
    SelectionSession,
)
from core.timers import TimerStep
from core.wiring import Wiring

PRESELECT = "preselect"  # the purpose of the stage 2 one-time code

S = PreselectionState


def _ready_for_stage2(
    uow: UnitOfWork, account: Account, preselection_id: int, now: datetime
) -> Preselection:
    """The account's started pre-selection, locked, if it may go on to stage 2 now: not
    blacklisted, and its office within selection hours."""
    preselection = uow.preselections.get(preselection_id, lock=True)
    if preselection is None or preselection.account_id != account.id:
        raise PreselectionNotFound(vin="")
    if preselection.state is not S.STARTED:
        raise PreselectionNotOpen(state=preselection.state.value)
    check_not_blacklisted(uow, account, now)
    check_open(office_of(uow, preselection), now)
    return preselection


def send_selection_code(
    uow: UnitOfWork,
    *,
    clock: Clock,
    key: bytes,
    account: Account,
    preselection_id: int,
    language: Language,
    requester: Requester = ANYONE,
    reuse_recent: bool = False,
) -> verification.Sending:
    """Stage 2 step 1: a one-time code to the account's mobile, inside selection hours only."""
    _ready_for_stage2(uow, account, preselection_id, clock.now())
    return verification.send_code(
        uow,
        clock=clock,
        key=key,
        phone=account.phone,
        purpose=PRESELECT,
        language=language,
        requester=requester,
        reuse_recent=reuse_recent,
    )


def start_session(
    uow: UnitOfWork,
    *,
    clock: Clock,
    key: bytes,
    account: Account,
    preselection_id: int,
    entered_code: str | None,
    requester: Requester = ANYONE,
) -> SelectionSession:
    """The code is right: a selection session opens (an earlier one ends, its holds go back).
    No code (``entered_code`` None) will do when this chat verified the phone a few minutes
    ago (registering, signing in, an earlier session): the same journey goes on."""
    now = clock.now()
    _ready_for_stage2(uow, account, preselection_id, now)
    if entered_code is not None:
        verification.check_code(
            uow,
            clock=clock,
            key=key,
            phone=account.phone,
            purpose=PRESELECT,
            entered=entered_code,
            requester=requester,
        )
    elif not verification.verified_recently(
        uow, clock=clock, phone=account.phone, requester=requester
    ):
        raise CodeNotRequested()
    for earlier in uow.sessions.open_for(preselection_id):
        end_session(uow, earlier, now)
    session = SelectionSession(
        preselection_id=preselection_id,
        account_id=account.id or 0,
        started_at=now,
        expires_at=now + SESSION_IDLE,
    )
    uow.sessions.add(session)
    return session


def end_session(uow: UnitOfWork, session: SelectionSession, now: datetime) -> None:
    if session.id is not None:
        uow.pool.release(session.id)
    session.end(now)


def end_idle_sessions(uow: UnitOfWork, now: datetime, limit: int) -> int:
    """Timer step: a selection session idle for 20 minutes ends and its held numbers go back."""
    sessions = uow.sessions.claim_idle(now, limit)
    for session in sessions:
        end_session(uow, session, now)
    return len(sessions)


def wire(wiring: Wiring) -> None:
    wiring.timer(TimerStep("end idle selection sessions", end_idle_sessions))


def _in_session(
    uow: UnitOfWork, account: Account, session_id: int, now: datetime
) -> tuple[SelectionSession, Preselection, Office]:
    found = uow.sessions.lock_with_preselection(session_id)
    if found is None or found[0].account_id != account.id:
        raise SelectionSessionEnded(minutes=int(SESSION_IDLE.total_seconds() // 60))
    session, preselection, office = found
    if preselection.state is not S.STARTED:  # a number was taken (maybe from another chat)
        raise PreselectionNotOpen(state=preselection.state.value)
    if not session.is_active(now):
        end_session(uow, session, now)  # kept: the engine commits a refused turn
        raise SelectionSessionEnded(minutes=int(SESSION_IDLE.total_seconds() // 60))
    check_open(office, now)
    session.touch(now)
    return session, preselection, office


@dataclass(frozen=True, slots=True)
class Batch:
    serials: list[str]
    batches_left: int


def draw_batch(
    uow: UnitOfWork, *, now: datetime, account: Account, session_id: int, no_four: bool
) -> Batch:
    """A random batch, held for this session (the previous batch goes back); costs one batch."""
    session, preselection, office = _in_session(uow, account, session_id, now)
    preselection.check_batch()
    serials = uow.pool.hold_batch(
        office.id or 0,
        preselection.plate_kind,
        office.batch_size,
        no_four=no_four,
        start=random_start(),
        session_id=session_id,
    )
    if not serials:
        raise PoolEmpty()
    preselection.spend_batch()
    uow.sessions.save_progress(session, preselection)
    return Batch(sorted(serials), preselection.batches_left)


def take_from_batch(
    uow: UnitOfWork, *, now: datetime, account: Account, session_id: int, serial: str
) -> Preselection:
    """The user picks a number of their batch: it is theirs until the validity deadline."""
    session, preselection, office = _in_session(uow, account, session_id, now)
    kind = preselection.plate_kind
    found = uow.pool.states(office.id or 0, kind, [serial], lock=True).get(serial)
    if found != (NumberState.HELD, session_id):
        raise NumberNotHeld(serial=serial)
    select_number(uow, preselection, office, serial, now=now, session=session)
    return preselection


def deadline_for(uow: UnitOfWork, office: Office, now: datetime) -> datetime:
    first, last = holiday_window(now, office.validity_working_days)
    holidays = uow.offices.holidays(office.id or 0, first, last)
    return validity_deadline(now, office.validity_working_days, holidays)


def select_number(
    uow: UnitOfWork,
    preselection: Preselection,
    office: Office,
    serial: str,
    *,
    now: datetime,
    session: SelectionSession,
) -> None:
    deadline = deadline_for(uow, office, now)
    preselection.select(serial, now=now, deadline=deadline)
    uow.pool.set_state(office.id or 0, preselection.plate_kind, serial, NumberState.PRESELECTED)
    end_session(uow, session, now)


def parse_candidates(office: Office, kind: PlateKind, typed: str, pre: Preselection) -> list[str]:
    """Up to ``candidates_per_check`` self-chosen serials, in order of preference, each of the
    right format and matching the office's patterns; refused whole before anything is spent."""
    candidates = unique_in_order(parse_serial(kind, text) for text in split_candidates(typed))
    if not candidates:
        raise NoCandidates(maximum=office.candidates_per_check)
    pre.check_candidates(len(candidates), office.candidates_per_check)
    for serial in candidates:
        check_self_choice(kind, serial, office.patterns)
    return candidates


def is_available(found: tuple[NumberState, int | None] | None, session_id: int | None) -> bool:
    if found is None:
        return False
    state, holder = found
    return state is NumberState.POOLED or (
        state is NumberState.HELD and session_id is not None and holder == session_id
    )


class Unavailable(enum.StrEnum):
    """Why a self-chosen candidate was not taken (the user is told, number by number)."""

    NOT_RELEASED = "not_released"  # not in the pool: held back by the office, or never released
    HELD = "held"  # shown to another user in a random batch right now
    TAKEN = "taken"  # pre-selected or issued


def why_unavailable(found: tuple[NumberState, int | None] | None) -> Unavailable:
    if found is None:
        return Unavailable.NOT_RELEASED
    state = found[0]
    if state is NumberState.HELD:
        return Unavailable.HELD
    if state in (NumberState.PRESELECTED, NumberState.ISSUED):
        return Unavailable.TAKEN
    return Unavailable.NOT_RELEASED  # for sale, in auction, reserved: not for selection


@dataclass(frozen=True, slots=True)
class OwnCheck:
    """The outcome of checking self-chosen candidates: the one taken, or what it cost, and
    why each candidate before the one taken was not."""

    taken: str | None
    checked: list[str]
    spent: int
    left: int
    skipped: tuple[tuple[str, Unavailable], ...] = ()


def first_available(
    uow: UnitOfWork,
    office: Office,
    kind: PlateKind,
    candidates: Sequence[str],
    *,
    session_id: int | None,
    lock: bool,
) -> tuple[str | None, tuple[tuple[str, Unavailable], ...]]:
    """The first candidate that may be taken, and why each one before it may not."""
    found = uow.pool.states(office.id or 0, kind, candidates, lock=lock)
    skipped: list[tuple[str, Unavailable]] = []
    for candidate in candidates:
        if is_available(found.get(candidate), session_id):
            return candidate, tuple(skipped)
        skipped.append((candidate, why_unavailable(found.get(candidate))))
    return None, tuple(skipped)


def choose_own(
    uow: UnitOfWork, *, now: datetime, account: Account, session_id: int, typed: str
) -> OwnCheck:
    """Self-chosen candidates: the first available one is taken and selection is complete; if
    none is, each candidate checked costs one of the self-chosen allowance."""
    session, preselection, office = _in_session(uow, account, session_id, now)
    kind = preselection.plate_kind
    candidates = parse_candidates(office, kind, typed, preselection)
    taken, skipped = first_available(
        uow, office, kind, candidates, session_id=session_id, lock=True
    )
    if taken is not None:
        select_number(uow, preselection, office, taken, now=now, session=session)
        return OwnCheck(taken, candidates, 0, preselection.self_choice_left, skipped)
    preselection.spend_self_choice(len(candidates))
    uow.sessions.save_progress(session, preselection)
    return OwnCheck(None, candidates, len(candidates), preselection.self_choice_left, skipped)
