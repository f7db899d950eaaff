"""A small world for pre-selection tests, built with the staff use cases: an office (粤D,
汕头), accounts of a person and a unit of that region, vehicles in the registry and a pool."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from core import office_admin, pools
from core.accounts import Account, Category, Language, PersonDetails, UnitDetails
from core.clock import ManualClock
from core.plates import PlateKind
from core.registry import import_registry_csv, vin_check_digit
from platebot.bootstrap import App
from store.tables import metadata

PERSON_PHONE = "+8613800138000"
PERSON_ID = "440304199001011233"
UNIT_PHONE = "+8613900139000"
UNIT_CODE = "91440300MA5F0A0B1X"
OTHER_PHONE = "+8613700137000"
OTHER_ID = "440511198512315677"
OFFICE = "粤D"


def vin(n: int, wmi: str = "LGBH52E0") -> str:
    """A VIN with a right check digit: ``wmi`` + check digit + ``NY`` + 6 digits."""
    body = f"{wmi}0NY{n:06d}"
    return body[:8] + vin_check_digit(body) + body[9:]


def cert(n: int) -> str:
    return f"WAC{n:012d}"


def person(phone: str = PERSON_PHONE, id_number: str = PERSON_ID, **details: Any) -> Account:
    values: dict[str, Any] = {
        "real_name": "张三",
        "id_number": id_number,
        "region_code": "4405",
        "address": "广东省汕头市龙湖区长平路1号",
        "category": Category.NEW_CAR_OWNER,
        **details,
    }
    return Account.for_person(
        phone=phone, details=PersonDetails(**values), language=Language.ZH, now=_now()
    )


def unit(phone: str = UNIT_PHONE) -> Account:
    details = UnitDetails(
        unit_name="汕头市示例运输有限公司",
        unit_code=UNIT_CODE,
        address="广东省汕头市金平区示例路8号",
        legal_rep_name="李四",
        legal_rep_id_number=OTHER_ID,
        region_code="4405",
    )
    return Account.for_unit(phone=phone, details=details, language=Language.ZH, now=_now())


def _now() -> datetime:
    return ManualClock().now()


def add_accounts(app: App, *accounts: Account) -> list[int]:
    ids = []
    with app.uow() as uow:
        for account in accounts:
            uow.accounts.add(account)
            ids.append(account.id or 0)
        uow.commit()
    return ids


def add_office(app: App, code: str = OFFICE, region: str = "4405", **settings: Any) -> None:
    defaults: dict[str, Any] = {
        "name": "汕头市车辆管理所",
        "region_code": region,
        "address": "汕头市龙湖区泰山路1号",
        "notice": "请如实填写车辆信息。",
    }
    defaults.update(settings)
    with app.uow() as uow:
        office_admin.create_office(uow, code=code, **defaults)
        uow.commit()


def add_numbers(
    app: App, serials: Sequence[str], kind: PlateKind = PlateKind.SMALL, office: str = OFFICE
) -> None:
    with app.uow() as uow:
        pools.load_pool(uow, office_code=office, kind=kind, serials=serials)
        uow.commit()


def add_vehicles(app: App, rows: Iterable[tuple[str, str, str, PlateKind]]) -> None:
    lines = ["vin,certificate_no,owner_id,plate_kind"]
    lines += [f"{v},{c},{o},{k.value}" for v, c, o, k in rows]
    with app.uow() as uow:
        report = import_registry_csv(
            uow, text="\n".join(lines), now=app.clock.now(), today=date(2026, 11, 23)
        )
        assert not report.errors, report.errors
        uow.commit()


def standard_world(app: App, numbers: Sequence[str] = ()) -> None:
    """粤D with a pool (``numbers`` or 30 defaults), the person and the unit, 3 vehicles each."""
    add_office(app)
    add_numbers(app, numbers or [f"{10000 + i}" for i in range(30)])
    add_accounts(app, person(), unit())
    add_vehicles(app, [(vin(i), cert(i), PERSON_ID, PlateKind.SMALL) for i in (1, 2, 3)])
    add_vehicles(app, [(vin(i), cert(i), UNIT_CODE, PlateKind.SMALL) for i in (11, 12, 13)])


def snapshot(app: App, skip: Iterable[str] = ()) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (but ``skip``), to compare before and after."""
    skipped = set(skip)
    rows: dict[str, list[tuple[Any, ...]]] = {}
    with app.db.connect() as conn:
        for table in metadata.sorted_tables:
            if table.name in skipped:
                continue
            order = list(table.primary_key.columns) or list(table.columns)
            rows[table.name] = [tuple(r) for r in conn.execute(sa.select(table).order_by(*order))]
    return rows


def number_state(app: App, serial: str, kind: PlateKind = PlateKind.SMALL) -> str | None:
    """The number's state as SPEC §3 names it (a pooled number in someone's batch is held)."""
    with app.uow() as uow:
        office = uow.offices.by_code(OFFICE)
        assert office is not None and office.id is not None
        found = uow.pool.states(office.id, kind, [serial], lock=False).get(serial)
    return None if found is None else str(found[0])
