"""Demo data for trying platebot at once (``platebot demo-data``); loading it twice is harmless."""

from __future__ import annotations

from dataclasses import dataclass

from core.accounts import Account, Category, Language, PersonDetails, UnitDetails
from core.clock import Clock
from store.uow import UnitOfWorkFactory

DEMO_PERSON_PHONE = "+8613800138000"
DEMO_UNIT_PHONE = "+8613900139000"


@dataclass(frozen=True)
class DemoSummary:
    created: list[str]
    existing: list[str]


def load_demo_data(uow_factory: UnitOfWorkFactory, clock: Clock) -> DemoSummary:
    now = clock.now()
    wanted = [
        Account.for_person(
            phone=DEMO_PERSON_PHONE,
            details=PersonDetails(
                real_name="张三",
                id_number="440304199001011233",
                region_code="4405",
                address="广东省汕头市龙湖区长平路1号",
                category=Category.NEW_CAR_OWNER,
            ),
            language=Language.ZH,
            now=now,
        ),
        Account.for_unit(
            phone=DEMO_UNIT_PHONE,
            details=UnitDetails(
                unit_name="汕头市示例运输有限公司",
                unit_code="91440300MA5F0A0B1X",
                address="广东省汕头市金平区示例路8号",
                legal_rep_name="李四",
                legal_rep_id_number="440511198512315677",
                region_code="4405",
            ),
            language=Language.ZH,
            now=now,
        ),
    ]
    created, existing = [], []
    with uow_factory() as uow:
        for account in wanted:
            if uow.accounts.by_phone(account.phone) is None:
                uow.accounts.add(account)
                created.append(account.phone)
            else:
                existing.append(account.phone)
        uow.commit()
    return DemoSummary(created, existing)
