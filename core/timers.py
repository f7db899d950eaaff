"""Timers of pre-selection, run from due times kept in the database (SPEC §4):

- a selection session idle for 20 minutes ends and its held numbers go back to the pool;
- a pre-selection not confirmed by its deadline is cancelled, its number goes back to the pool
  and the account is blacklisted from online pre-selection for 2 years (and told by SMS);
- a blacklist lifts itself when its two years are over.

Each step claims due rows with row locks that other processes skip (``FOR UPDATE SKIP LOCKED``
on PostgreSQL; SQLite runs one writer at a time), re-checks them under the lock and commits in
small batches, so any number of server processes can run the timers at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from core import outbox
from core.basic_information import local_day
from core.clock import Clock, as_utc
from core.pools import NumberState
from core.ports import UnitOfWork
from core.preselection import BlacklistEntry, PreselectionState, two_years_after
from core.selection import end_session

log = logging.getLogger(__name__)

BATCH = 100


def end_idle_sessions(uow: UnitOfWork, now: datetime, limit: int = BATCH) -> int:
    sessions = uow.sessions.claim_idle(now, limit)
    for session in sessions:
        end_session(uow, session, now)
    return len(sessions)


def lapse_preselections(uow: UnitOfWork, now: datetime, limit: int = BATCH) -> int:
    lapsed = uow.preselections.claim_lapsed(now, limit)
    for preselection in lapsed:
        if preselection.state is not PreselectionState.SELECTED or preselection.serial is None:
            continue  # pragma: no cover - the claim only returns selected ones
        preselection.lapse(now)
        uow.pool.set_state(
            preselection.office_id, preselection.plate_kind, preselection.serial, NumberState.POOLED
        )
        deadline = as_utc(preselection.deadline or now)
        entry = BlacklistEntry(
            account_id=preselection.account_id,
            owner_id=preselection.owner_id,
            created_at=now,
            lifts_at=two_years_after(deadline),
            preselection_id=preselection.id,
        )
        uow.blacklist.add(entry)
        account = uow.accounts.get(preselection.account_id)
        office = uow.offices.get(preselection.office_id)
        if account is not None and office is not None:
            uow.outbox.add(
                outbox.sms(
                    phone=account.phone,
                    key="sms.preselection_lapsed",
                    params={
                        "plate": office.plate(preselection.serial),
                        "until": local_day(entry.lifts_at).isoformat(),
                    },
                    language=account.language,
                    now=now,
                )
            )
        log.info(
            "pre-selection %s lapsed, account %s blacklisted", preselection.id, entry.account_id
        )
    return len(lapsed)


def lift_blacklists(uow: UnitOfWork, now: datetime, limit: int = BATCH) -> int:
    due = uow.blacklist.claim_due(now, limit)
    for entry in due:
        entry.lift(now)
    return len(due)


Step = Callable[[UnitOfWork, datetime, int], int]
STEPS: tuple[Step, ...] = (end_idle_sessions, lapse_preselections, lift_blacklists)


class Timers:
    """The background job: everything due now, in batches of ``batch`` rows per transaction."""

    def __init__(
        self, uow_factory: Callable[[], UnitOfWork], clock: Clock, batch: int = BATCH
    ) -> None:
        self.uow_factory = uow_factory
        self.clock = clock
        self.batch = batch

    def run_once(self) -> int:
        done = 0
        for step in STEPS:
            while True:
                with self.uow_factory() as uow:
                    count = step(uow, self.clock.now(), self.batch)
                    uow.commit()
                done += count
                if count < self.batch:
                    break
        return done
