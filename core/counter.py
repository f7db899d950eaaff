"""Staff use cases of pre-selection (SPEC §4, §10): confirm at the counter by VIN, list
pre-selections by state, lift a blacklist early."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from core.accounts import Account
from core.masking import mask_phone
from core.phone import normalise_phone
from core.plate_errors import AccountUnknown, NotBlacklisted, OfficeUnknown, PreselectionNotFound
from core.pools import NumberState
from core.ports import UnitOfWork
from core.preselection import BlacklistEntry, Preselection, PreselectionState
from core.registry import owner_id_of, validate_vin

log = logging.getLogger(__name__)


def confirm_at_counter(uow: UnitOfWork, *, now: datetime, vin: str) -> Preselection:
    """The owner came to the office in time: the pre-selected number is issued to the vehicle."""
    vin = validate_vin(vin)
    preselection = uow.preselections.open_for_vin(vin, lock=True)
    if preselection is None or preselection.serial is None:
        raise PreselectionNotFound(vin=vin)
    preselection.confirm(now)
    uow.pool.set_state(
        preselection.office_id, preselection.plate_kind, preselection.serial, NumberState.ISSUED
    )
    record = uow.registry.get(vin)
    if record is not None:
        record.registered = True
    log.info("pre-selection %s confirmed at the counter", preselection.id)
    return preselection


def list_preselections(
    uow: UnitOfWork,
    *,
    state: PreselectionState | None = None,
    office_code: str | None = None,
    limit: int = 200,
) -> Sequence[Preselection]:
    office_id = None
    if office_code:
        office = uow.offices.by_code(office_code)
        if office is None:
            raise OfficeUnknown(office=office_code)
        office_id = office.id
    return uow.preselections.listed(state=state, office_id=office_id, limit=limit)


def account_by_phone(uow: UnitOfWork, phone: str) -> Account:
    account = uow.accounts.by_phone(normalise_phone(phone))
    if account is None:
        raise AccountUnknown(phone=mask_phone(phone))
    return account


def lift_blacklist_early(uow: UnitOfWork, *, now: datetime, phone: str) -> BlacklistEntry:
    """Staff lift an account's blacklist before its two years are over."""
    account = account_by_phone(uow, phone)
    entry = uow.blacklist.active(account_id=account.id or 0, owner_id=owner_id_of(account), now=now)
    if entry is None:
        raise NotBlacklisted(phone=mask_phone(account.phone))
    entry.lift(now, early=True)
    log.info("blacklist %s lifted early for %s", entry.id, mask_phone(account.phone))
    return entry
