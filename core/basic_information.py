"""Stage 1 of pre-selection (SPEC §4): where a user coming back stands, the offices they may
choose, and ``begin`` — the VIN and certificate number checked against the registry, the vehicle
given its allowances. Also the look-ups stage 2 shares (offices, hours, the blacklist).

One transaction each; every check runs before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from core.accounts import Account
from core.clock import OFFICE_TZ, as_utc
from core.offices import Office, check_may_choose, offices_for
from core.plate_errors import (
    Blacklisted,
    OfficeUnknown,
    OutsideSelectionHours,
    PreselectionNotFound,
    VehicleAlreadyPreselected,
)
from core.ports import UnitOfWork
from core.preselection import BlacklistEntry, Preselection, PreselectionState
from core.registry import find_vehicle, owner_id_of
from core.sale import SaleVinHasPlate

S = PreselectionState


def local_day(when: datetime) -> date:
    return as_utc(when).astimezone(OFFICE_TZ).date()


@dataclass(frozen=True, slots=True)
class Standing:
    """Where an account stands when it opens pre-selection again."""

    blacklist: BlacklistEntry | None
    preselection: Preselection | None


def standing(uow: UnitOfWork, *, account: Account, now: datetime) -> Standing:
    if account.id is None:
        return Standing(None, None)
    entry = uow.blacklist.active(account_id=account.id, owner_id=owner_id_of(account), now=now)
    latest = uow.preselections.latest_for_account(account.id, [S.STARTED, S.SELECTED])
    return Standing(entry, latest)


def check_not_blacklisted(uow: UnitOfWork, account: Account, now: datetime) -> None:
    if account.id is None:
        return
    entry = uow.blacklist.active(account_id=account.id, owner_id=owner_id_of(account), now=now)
    if entry is not None:
        raise Blacklisted(until=local_day(entry.lifts_at).isoformat())


def offices_open_to(uow: UnitOfWork, account: Account) -> list[Office]:
    return offices_for(account, uow.offices.all())


def office_by_code(uow: UnitOfWork, code: str) -> Office:
    office = uow.offices.by_code(code)
    if office is None or office.id is None:
        raise OfficeUnknown(office=code[:8])
    return office


def office_of(uow: UnitOfWork, preselection: Preselection) -> Office:
    office = uow.offices.get(preselection.office_id)
    if office is None:  # pragma: no cover - offices are never deleted
        raise OfficeUnknown(office=str(preselection.office_id))
    return office


def check_open(office: Office, now: datetime) -> None:
    if not office.is_open(now):
        raise OutsideSelectionHours(
            opens=office.opens.strftime("%H:%M"), closes=office.closes.strftime("%H:%M")
        )


def begin(
    uow: UnitOfWork,
    *,
    now: datetime,
    account: Account,
    office_code: str,
    vin: str,
    certificate_no: str,
) -> Preselection:
    """Stage 1 step 2: the vehicle is checked against the registry and gets its allowances.
    Coming back with the same vehicle continues where it stood."""
    if account.id is None:  # pragma: no cover - flows require an account
        raise PreselectionNotFound(vin=vin)
    check_not_blacklisted(uow, account, now)
    office = office_by_code(uow, office_code)
    check_may_choose(account, office)
    record = find_vehicle(uow, vin)
    record.check_claim(certificate_no=certificate_no, account=account)
    if uow.sales.for_vin(record.vin) is not None:  # bought a plate, or an order holds one
        raise SaleVinHasPlate(vin=record.vin)
    existing = uow.preselections.open_for_vin(vin, lock=True)
    if existing is not None:
        if existing.state is S.STARTED and existing.account_id == account.id:
            existing.office_id = office.id or existing.office_id
            return existing
        raise VehicleAlreadyPreselected()
    preselection = Preselection(
        account_id=account.id,
        office_id=office.id or 0,
        vin=record.vin,
        plate_kind=record.plate_kind,
        owner_id=record.owner_id,
        self_choice_left=office.self_choice_allowance,
        batches_left=office.batch_allowance,
        created_at=now,
    )
    uow.preselections.add(preselection)
    return preselection
