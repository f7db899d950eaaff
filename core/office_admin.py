"""Staff use cases for offices (SPEC §10): create one, change its settings, list holidays."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from core.offices import Office, parse_hours
from core.plate_errors import InvalidOfficeSetting, OfficeExists, OfficeUnknown
from core.ports import UnitOfWork

# What staff may change after creation (the code, i.e. province and letter, stays).
CHANGEABLE = frozenset(
    {
        "name",
        "region_code",
        "address",
        "notice",
        "notice_en",
        "name_en",
        "address_en",
        "self_choice_allowance",
        "batch_allowance",
        "batch_size",
        "candidates_per_check",
        "validity_working_days",
        "patterns",
    }
)


def _apply(office: Office, values: dict[str, Any]) -> None:
    for name, value in values.items():
        if value is None:
            continue
        if name == "hours":
            office.opens, office.closes = parse_hours(str(value))
        elif name in CHANGEABLE:
            setattr(office, name, list(value) if name == "patterns" else value)
        else:
            raise InvalidOfficeSetting(setting=name, value="")


def create_office(
    uow: UnitOfWork, *, code: str, name: str, region_code: str, **settings: Any
) -> Office:
    """A new office, e.g. ``粤D`` 汕头市车辆管理所 in region 4405; other settings default."""
    code = code.strip().upper()
    if len(code) != 2:
        raise InvalidOfficeSetting(setting="code", value=code[:8])
    if uow.offices.by_code(code) is not None:
        raise OfficeExists(office=code)
    office = Office(province=code[0], letter=code[1], name=name.strip(), region_code=region_code)
    _apply(office, settings)
    office.validate()
    uow.offices.add(office)
    return office


def change_office(uow: UnitOfWork, *, code: str, **changes: Any) -> Office:
    """Change some settings; all of them are checked again before anything is kept."""
    office = get_office(uow, code)
    _apply(office, changes)
    office.validate()
    return office


def get_office(uow: UnitOfWork, code: str) -> Office:
    office = uow.offices.by_code(code.strip().upper())
    if office is None:
        raise OfficeUnknown(office=code[:8])
    return office


def set_holidays(uow: UnitOfWork, *, code: str, days: Iterable[date], on: bool = True) -> Office:
    """Add (or with ``on=False`` remove) office holidays: no working day for deadlines."""
    office = get_office(uow, code)
    for day in days:
        uow.offices.set_holiday(office.id or 0, day, on=on)
    return office
