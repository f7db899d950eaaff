"""Demo data for trying platebot at once (``platebot demo-data``); loading it twice is harmless.

Two accounts of 汕头 (a person, a unit), the office 粤D with selection hours all day (so the
journey can be tried at any time), a pool of about 13,000 numbers, vehicles of both accounts in
the certificate registry, guides, contact details, an announcement, four plates for sale and two
auction periods, timed from the clock when the data is loaded: one in its signup window for three
days, one whose bidding starts in ten minutes (signup open until then), with held-back numbers of
粤D as lots.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from core import auctions, info, office_admin, pools, sale, staff
from core.accounts import Account, Category, Language, PersonDetails, UnitDetails
from core.auction_errors import PlateAlreadyInAuction
from core.auctions import YUAN, PeriodState
from core.clock import OFFICE_TZ, Clock
from core.errors import DomainError
from core.plates import PlateKind
from core.ports import UnitOfWork
from core.registry import import_registry_csv
from core.staff import Role
from platebot.staff_accounts import Argon2Hasher
from store.uow import UnitOfWorkFactory

DEMO_PERSON_PHONE = "+8613800138000"
DEMO_UNIT_PHONE = "+8613900139000"
DEMO_PERSON_ID = "440304199001011233"
DEMO_UNIT_CODE = "91440300MA5F0A0B1X"
DEMO_OFFICE = "粤D"

# (VIN, certificate number, owner, plate kind): check digits are right.
DEMO_VEHICLES = (
    ("LGBH52E08NY000001", "WAC000000000001", DEMO_PERSON_ID, PlateKind.SMALL),
    ("LGBH52E0XNY000002", "WAC000000000002", DEMO_PERSON_ID, PlateKind.SMALL),
    ("LFV2A21KXN3000006", "WAC000000000006", DEMO_PERSON_ID, PlateKind.SMALL_NEV),
    ("LGBH52E01NY000003", "WAC000000000003", DEMO_UNIT_CODE, PlateKind.SMALL),
    ("LGBH52E03NY000004", "WAC000000000004", DEMO_UNIT_CODE, PlateKind.LARGE),
)

DEMO_POOL: tuple[tuple[PlateKind, tuple[str, ...]], ...] = (
    (PlateKind.SMALL, ("10000-19999", "A0000-A0999", "AB000-AB999")),
    (PlateKind.LARGE, ("50000-50999",)),
    (PlateKind.SMALL_NEV, ("D10000-D10999",)),
    (PlateKind.LARGE_NEV, ("00001D-00100D",)),
)
# Plates for sale: (kind, serial, price in yuan, personalised); all of 汕头 (4405).
DEMO_LISTINGS = (
    (PlateKind.SMALL, "16666", 12_000, False),
    (PlateKind.SMALL, "18888", 60_000, False),
    (PlateKind.SMALL, "AB888", 8_800, True),
    (PlateKind.SMALL_NEV, "D16666", 30_000, False),
)
HELD_BACK = ("11111", "16666", "18888", "88888", "99999")  # kept for auction or sale: not pooled
# (name, English name, signup opens, starts (from now), lots: (held-back number, starting
# price in yuan))
DEMO_PERIODS = (
    (
        "演示竞价期（报名中）",
        "Demo auction (signup open)",
        timedelta(hours=-1),
        timedelta(days=3),
        (("88888", 20_000), ("99999", 8_000)),
    ),
    (
        "演示竞价期（即将开始）",
        "Demo auction (starting soon)",
        timedelta(hours=-1),
        timedelta(minutes=10),
        (("11111", 10_000),),
    ),
)

NOTICE = (
    "1. 新车车主、学生和单位只能预选证件所在地号牌。"
    "2. 自编号码每次最多验证5个，都不可用则扣相应次数。"
    "3. 预选号牌须在3个工作日内到车管所确认，逾期作废，2年内不能网上预选。"
)
NOTICE_EN = (
    "1. New-car owners, students and units pre-select only in their own region. 2. Up to 5 own "
    "numbers per check; each costs one if none is free. 3. Confirm within 3 working days, or the "
    "plate lapses and online pre-selection is barred for 2 years."
)
GUIDES = (
    (
        "如何网上预选号牌",
        "主菜单选“新车预选号牌”：选车管所，阅读须知，输入车辆识别代号和合格证编号；短信验证后随机选号或自编号码。",
        "How to pre-select a plate online",
        "Main menu, 'Pre-select a plate': choose the office, read the notice, enter the VIN and "
        "certificate number; after the SMS code, draw random numbers or enter your own.",
    ),
    (
        "到车管所确认要带什么",
        "身份证明（单位带营业执照和经办人身份证）、合格证或货物进口证明书、购车发票、交强险保单。",
        "What to bring to the office",
        "ID (units: business licence and the agent's ID), the vehicle or import certificate, the "
        "purchase invoice and the compulsory insurance policy.",
    ),
)


DEMO_STAFF = (  # name, role, office: the staff console's demo members
    ("demo-admin", Role.ADMIN, None),
    ("demo-supervisor", Role.SUPERVISOR, DEMO_OFFICE),
    ("demo-clerk", Role.CLERK, DEMO_OFFICE),
)


@dataclass(frozen=True)
class DemoSummary:
    created: list[str]
    existing: list[str]
    staff_password: str = ""


def _staff(uow: UnitOfWork, clock: Clock, created: list[str], existing: list[str]) -> str:
    """The demo staff members, all with one new random password (each run sets a new one, so
    that it can be printed: only its hash is kept)."""
    password = secrets.token_urlsafe(9)
    hasher = Argon2Hasher()
    for name, role, office in DEMO_STAFF:
        if uow.staff.by_name(name) is None:
            staff.add_staff_member(
                uow,
                hasher,
                name=name,
                password=password,
                role=role,
                office_code=office,
                now=clock.now(),
            )
            created.append(name)
        else:
            staff.change_staff_member(uow, hasher, name=name, password=password, active=True)
            existing.append(name)
    return password


def _accounts(now: datetime) -> list[Account]:
    return [
        Account.for_person(
            phone=DEMO_PERSON_PHONE,
            details=PersonDetails(
                real_name="张三",
                id_number=DEMO_PERSON_ID,
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
                unit_code=DEMO_UNIT_CODE,
                address="广东省汕头市金平区示例路8号",
                legal_rep_name="李四",
                legal_rep_id_number="440511198512315677",
                region_code="4405",
            ),
            language=Language.ZH,
            now=now,
        ),
    ]


def _office_and_pool(uow: UnitOfWork, created: list[str], existing: list[str]) -> None:
    if uow.offices.by_code(DEMO_OFFICE) is None:
        office_admin.create_office(
            uow,
            code=DEMO_OFFICE,
            name="汕头市车辆管理所",
            region_code="4405",
            address="汕头市龙湖区泰山路1号",
            name_en="Shantou Vehicle Management Office",
            address_en="1 Taishan Road, Longhu, Shantou",
            hours="00:00-23:59",
            notice=NOTICE,
            notice_en=NOTICE_EN,
        )
        created.append(f"office {DEMO_OFFICE}")
    else:
        existing.append(f"office {DEMO_OFFICE}")
    added = 0
    for kind, ranges in DEMO_POOL:
        exclude = HELD_BACK if kind is PlateKind.SMALL else ()
        report = pools.load_pool(
            uow, office_code=DEMO_OFFICE, kind=kind, ranges=ranges, exclude=exclude
        )
        added += report.added
    (created if added else existing).append("pool")


def _registry_and_info(
    uow: UnitOfWork, clock: Clock, created: list[str], existing: list[str]
) -> None:
    now = clock.now()
    rows = ["vin,certificate_no,owner_id,plate_kind"]
    rows += [f"{vin},{cert},{owner},{kind.value}" for vin, cert, owner, kind in DEMO_VEHICLES]
    report = import_registry_csv(
        uow, text="\n".join(rows), now=now, today=now.astimezone(OFFICE_TZ).date()
    )
    (created if report.added else existing).append("vehicles")
    known = {guide.title for guide in uow.info.guides()}
    for title, body, title_en, body_en in GUIDES:
        if title not in known:
            info.add_guide(uow, title=title, body=body, title_en=title_en, body_en=body_en, now=now)
    if not uow.info.contacts():
        info.add_contact(
            uow,
            name="汕头市车辆管理所",
            name_en="Shantou vehicle management office",
            phone="0754-12345678",
            address="汕头市龙湖区泰山路1号",
            hours="周一至周五 9:00-17:00",
            office_code=DEMO_OFFICE,
        )
    if not uow.info.announcements(now=None):
        info.announce(
            uow,
            title="网上预选号牌开通",
            body="粤D号牌可通过短信或聊天网上预选，详见办事指南。",
            title_en="Online plate pre-selection is open",
            body_en="粤D plates can be pre-selected by SMS or chat; see the guides.",
            now=now,
        )


def _listings(uow: UnitOfWork, clock: Clock, created: list[str], existing: list[str]) -> None:
    """The plates for sale, each listed once (one sold or on sale already is left alone)."""
    listed = 0
    for kind, serial, yuan, personalised in DEMO_LISTINGS:
        try:
            sale.list_plate(
                uow,
                now=clock.now(),
                office_code=DEMO_OFFICE,
                kind=kind,
                serial=serial,
                price=yuan * 100,
                personalised=personalised,
            )
        except DomainError:
            continue  # listed (or sold) before; nothing of this one was written
        listed += 1
    (created if listed else existing).append("plates for sale")


def _auction_periods(
    uow: UnitOfWork, clock: Clock, created: list[str], existing: list[str]
) -> None:
    """Each demo period unless one of that name is still to start (timed from now)."""
    now = clock.now()
    waiting = {
        period.name
        for period in uow.auctions.periods()
        if period.state is PeriodState.PUBLISHED and not period.started(now)
    }
    for name, name_en, opens, starts, lots in DEMO_PERIODS:
        if name in waiting:
            existing.append(f"auction period {name}")
            continue
        period = auctions.publish_period(
            uow,
            clock=clock,
            name=name,
            name_en=name_en,
            signup_opens=now + opens,
            signup_closes=now + starts,
            starts_at=now + starts,
        )
        created.append(f"auction period {name}")
        for serial, price in lots:
            try:
                auctions.add_lot(
                    uow,
                    clock=clock,
                    period_id=auctions.stored_id(period.id),
                    office_code=DEMO_OFFICE,
                    kind=PlateKind.SMALL,
                    serial=serial,
                    starting_price_fen=price * YUAN,
                )
            except PlateAlreadyInAuction:  # still a lot of an earlier demo period's bidding
                continue


def load_demo_data(uow_factory: UnitOfWorkFactory, clock: Clock) -> DemoSummary:
    created: list[str] = []
    existing: list[str] = []
    with uow_factory() as uow:
        for account in _accounts(clock.now()):
            if uow.accounts.by_phone(account.phone) is None:
                uow.accounts.add(account)
                created.append(account.phone)
            else:
                existing.append(account.phone)
        _office_and_pool(uow, created, existing)
        _registry_and_info(uow, clock, created, existing)
        _listings(uow, clock, created, existing)
        _auction_periods(uow, clock, created, existing)
        password = _staff(uow, clock, created, existing)
        uow.commit()
    return DemoSummary(created, existing, password)


def how_to_try(summary: DemoSummary) -> list[str]:
    """What ``platebot demo-data`` prints after loading."""
    person_vin, person_cert = DEMO_VEHICLES[0][:2]
    unit_vin, unit_cert = DEMO_VEHICLES[3][:2]
    return [
        f"demo data: {len(summary.created)} added, {len(summary.existing)} already there",
        "Pre-select a number plate for a new car (office 粤D, open all day in the demo):",
        f"  as the demo person:  platebot chat --phone {DEMO_PERSON_PHONE}",
        "    menu 1 (新车预选号牌) > 1 提交信息 > 1 粤D > 1 下一步 > 1 已阅读并同意,",
        f"    then VIN {person_vin} and certificate {person_cert};",
        "    the SMS code shows as [SMS to …]. Practice selection: menu 1 > 2.",
        f"  as the demo unit:    platebot chat --phone {DEMO_UNIT_PHONE}"
        f"  (VIN {unit_vin}, certificate {unit_cert})",
        "  a newcomer:          platebot chat   (registers first; codes show as [SMS to …])",
        "Buy a plate at a fixed price (4 plates for sale in 粤D):",
        f"  platebot chat --phone {DEMO_PERSON_PHONE}: menu 4 (购买号牌), pick a plate, VIN"
        f" {DEMO_VEHICLES[1][0]};",
        "    open the pay link with `platebot serve` running to pay in the sandbox.",
        "Staff: platebot staff preselections --state selected;"
        f" platebot staff confirm {person_vin}",
        "Plate auctions: the same chat, menu 5 (号牌竞买) > 演示竞价期（即将开始） > 报名, VIN"
        f" {person_vin}; pay the deposit on the pay page (platebot serve running) and bid once it"
        " starts (ten minutes after demo-data; the README walks through it).",
        "Auctions (staff): platebot staff auction period list; platebot staff auction lot list 1",
        "Staff web console: platebot serve, then open http://127.0.0.1:8000/staff/ and sign in as",
        f"  demo-admin (or demo-supervisor, demo-clerk of {DEMO_OFFICE}) with the password"
        f" {summary.staff_password}",
        "  (a new one at every run of demo-data; add your own: platebot staff user add NAME)",
    ]
