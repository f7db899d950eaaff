"""Pre-selections that lapse and blacklists that lift (SPEC §4), as timer steps:

- a pre-selection not confirmed at the counter by its deadline is cancelled, its number goes back
  to the pool and the account is barred from online pre-selection for 2 years; the owner is told
  by SMS (a handler of ``PreselectionLapsed``, in the same transaction);
- a blacklist lifts itself when its two years are over.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from core.basic_information import local_day
from core.clock import as_utc
from core.events import Event
from core.notices import NoticeKind, notify
from core.pools import NumberState
from core.ports import UnitOfWork
from core.preselection import BlacklistEntry, PreselectionState, two_years_after
from core.timers import TimerStep
from core.wiring import Wiring

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PreselectionLapsed(Event):
    preselection_id: int
    account_id: int
    office_id: int
    serial: str
    lapsed_at: datetime
    barred_until: datetime


def lapse_preselections(uow: UnitOfWork, now: datetime, limit: int) -> int:
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
        if preselection.id is not None:
            uow.record(
                PreselectionLapsed(
                    preselection_id=preselection.id,
                    account_id=preselection.account_id,
                    office_id=preselection.office_id,
                    serial=preselection.serial,
                    lapsed_at=now,
                    barred_until=entry.lifts_at,
                )
            )
        log.info(
            "pre-selection %s lapsed, account %s blacklisted", preselection.id, entry.account_id
        )
    return len(lapsed)


def lift_blacklists(uow: UnitOfWork, now: datetime, limit: int) -> int:
    due = uow.blacklist.claim_due(now, limit)
    for entry in due:
        entry.lift(now)
    return len(due)


def tell_owner_of_lapse(uow: UnitOfWork, event: PreselectionLapsed) -> None:
    """The owner learns by SMS that the number is gone and until when they are barred."""
    office = uow.offices.get(event.office_id)
    if office is None:
        return
    notify(
        uow,
        account_id=event.account_id,
        kind=NoticeKind.LAPSE,
        key="sms.preselection_lapsed",
        params={
            "plate": office.plate(event.serial),
            "until": local_day(event.barred_until).isoformat(),
        },
        dedupe_key=f"lapse:{event.preselection_id}",  # written once, whatever runs it again
        now=event.lapsed_at,
    )


def wire(wiring: Wiring) -> None:
    wiring.timer(TimerStep("lapse unconfirmed pre-selections", lapse_preselections))
    wiring.timer(TimerStep("lift blacklists", lift_blacklists))
    wiring.bus.subscribe(PreselectionLapsed, tell_owner_of_lapse)
