"""Broadcasts respect the staff member's office (SPEC §10: a supervisor does everything of their
office, an admin all offices): what a supervisor may send to, the broadcasts they see and act on,
and an announcement sent as a broadcast; through the staff services that the CLI, the HTTP API,
the web console and the Telegram staff commands all call."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from core import office_admin
from core.auction_signup import sign_up_with_deposit
from core.auctions import add_lot
from core.broadcast_ports import (
    Audience,
    AudienceKind,
    BroadcastNotFound,
    Channels,
    EveryoneNotForAnOffice,
    PeriodNotYours,
    RegionNotYours,
)
from core.broadcasts import start_due
from core.clock import ManualClock
from core.orders import Purpose
from core.payments import place_order
from core.plates import PlateKind
from core.reservations import Reservation
from core.sale import list_plate
from core.staff import Actor, NotAllowed, Role
from platebot.staff_broadcasts import StaffBroadcasts
from platebot.staff_service import StaffService, message_of
from sms.render import broadcast_segments
from store import migrate
from store.broadcast_tables import broadcasts
from store.db import create_engine
from store.tables import metadata
from store.uow import UnitOfWorkFactory
from tests.auction_world import AuctionWorld
from tests.broadcast_world import EVERYONE, BroadcastWorld

SUPERVISOR_D = Actor("wang", "web", "10.0.0.1", Role.SUPERVISOR, "粤D")  # 汕头, region 4405
SUPERVISOR_A = Actor("li", "web", "10.0.0.2", Role.SUPERVISOR, "粤A")  # 广州, region 4401
CLERK_D = Actor("lina", "web", "10.0.0.3", Role.CLERK, "粤D")
ADMIN = Actor("zhao", "web", "10.0.0.4", Role.ADMIN)


@pytest.fixture
def auction(db: Engine) -> AuctionWorld:
    """Office 粤D (region 4405, 汕头), auction periods, lots and bidders."""
    return AuctionWorld(db)


@pytest.fixture
def world(db: Engine, clock: ManualClock, auction: AuctionWorld) -> BroadcastWorld:
    """粤D, and 粤A (region 4401, 广州)."""
    broadcasting = BroadcastWorld(db, clock)
    with broadcasting.app.uow() as uow:
        office_admin.create_office(uow, code="粤A", name="广州市车辆管理所", region_code="4401")
        uow.commit()
    return broadcasting


def staff(world: BroadcastWorld, actor: Actor) -> StaffBroadcasts:
    return world.staff.acting(actor)


def compose(world: BroadcastWorld, actor: Actor, audience: Audience) -> dict[str, Any]:
    return staff(world, actor).compose(
        text_zh="本周六照常办公。",
        text_en="Open this Saturday.",
        audience=audience,
        channels=Channels.SMS,
        created_by=actor.name,
    )


def region(code: str) -> Audience:
    return Audience(AudienceKind.REGION, region_code=code)


def bidders(period: int) -> Audience:
    return Audience(AudienceKind.BIDDERS, period_id=period)


def lot(auction: AuctionWorld, period: int, office: str, serial: str) -> int:
    with auction.uow() as uow:
        added = add_lot(
            uow,
            clock=auction.clock,
            period_id=period,
            office_code=office,
            kind=PlateKind.SMALL,
            serial=serial,
            starting_price_fen=1_000_000,
        )
        uow.commit()
    assert added.id is not None
    return added.id


def recorded(world: BroadcastWorld) -> list[tuple[str, str | None]]:
    """(action, office) of the audit's broadcast entries, oldest first."""
    with world.app.uow() as uow:
        entries = uow.staff.audit(office_code=None, limit=100, before=None)
    return [(e.action, e.office_code) for e in reversed(entries) if "broadcast" in e.action]


# -- what a supervisor may send to -----------------------------------------------------------


def test_a_supervisor_broadcasts_to_the_region_their_office_serves_as_their_office(
    world: BroadcastWorld,
) -> None:
    here = [world.person(region="4405")[1] for _ in range(2)]
    world.person(region="4401")
    for named in ("4405", "汕头"):
        draft = compose(world, SUPERVISOR_D, region(named))
        assert (draft["recipients"], draft["office_code"]) == (2, "粤D")
    staff(world, SUPERVISOR_D).send(draft["id"])
    world.dispatch()
    assert sorted(phone for phone, _ in world.sms.sent) == sorted(here)
    assert staff(world, SUPERVISOR_D).progress(draft["id"])["status"] == "finished"
    assert ("broadcast.send", "粤D") in recorded(world)


def test_everyone_is_an_admins_audience_and_the_supervisor_is_told_their_region(
    world: BroadcastWorld,
) -> None:
    world.person(region="4405")
    with pytest.raises(EveryoneNotForAnOffice) as refused:
        compose(world, SUPERVISOR_D, EVERYONE)
    assert message_of(refused.value.code, refused.value.params) == (
        "Everyone means every office's users: only an admin sends to everyone. For your "
        "office's (粤D) users, choose the region 4405; nothing was sent."
    )
    assert staff(world, ADMIN).recent() == [] and recorded(world) == []


def test_another_offices_region_is_refused_by_code_and_by_city(world: BroadcastWorld) -> None:
    world.person(region="4401")
    for named in ("4401", "广州"):
        with pytest.raises(RegionNotYours) as refused:
            compose(world, SUPERVISOR_D, region(named))
        assert message_of(refused.value.code, refused.value.params) == (
            "Region 4401 is not the one your office (粤D) serves (4405): only an admin sends "
            "there; nothing was sent."
        )
    assert compose(world, SUPERVISOR_A, region("广州"))["recipients"] == 1
    assert [b["office_code"] for b in staff(world, ADMIN).recent()] == ["粤A"]


def test_a_supervisor_sends_to_the_bidders_of_a_period_whose_lots_are_all_their_offices(
    auction: AuctionWorld, world: BroadcastWorld
) -> None:
    own, mixed, empty, theirs = (auction.period(name=f"第{n}期") for n in range(1, 5))
    lot(auction, own, "粤D", "10001")
    lot(auction, mixed, "粤D", "10002")
    lot(auction, mixed, "粤A", "10003")
    lot(auction, theirs, "粤A", "10004")
    for period in (own, mixed, empty, theirs):
        auction.bidder(period)
    assert compose(world, SUPERVISOR_D, bidders(own))["recipients"] == 1
    for period in (mixed, empty, theirs):
        with pytest.raises(PeriodNotYours) as refused:
            compose(world, SUPERVISOR_D, bidders(period))
        assert message_of(refused.value.code, refused.value.params) == (
            f"Period {period} has lots of other offices, or none yet: its bidders are not your "
            "office's (粤D) alone, so only an admin sends to them; nothing was sent."
        )
    assert compose(world, SUPERVISOR_A, bidders(theirs))["recipients"] == 1
    assert compose(world, ADMIN, bidders(mixed))["recipients"] == 1


def test_a_period_given_another_offices_lot_after_it_was_composed_is_refused_at_sending(
    auction: AuctionWorld, world: BroadcastWorld
) -> None:
    period = auction.period()
    lot(auction, period, "粤D", "10001")
    auction.bidder(period)
    draft = compose(world, SUPERVISOR_D, bidders(period))
    lot(auction, period, "粤A", "10002")
    with pytest.raises(PeriodNotYours):
        staff(world, SUPERVISOR_D).send(draft["id"])
    assert staff(world, SUPERVISOR_D).progress(draft["id"])["status"] == "draft"


def test_a_scheduled_broadcast_whose_period_was_given_another_offices_lot_is_not_sent(
    auction: AuctionWorld, world: BroadcastWorld
) -> None:
    period = auction.period()
    lot(auction, period, "粤D", "10001")
    auction.bidder(period)
    draft = compose(world, SUPERVISOR_D, bidders(period))
    staff(world, SUPERVISOR_D).send(draft["id"], at=world.clock.now() + timedelta(minutes=5))
    lot(auction, period, "粤A", "10002")  # 粤A's lot, and a bidder who came for it
    auction.bidder(period)
    world.clock.advance(timedelta(minutes=6))
    with world.app.uow() as uow:
        assert start_due(uow, world.clock.now(), 10) == 1
        uow.commit()
    shown = staff(world, SUPERVISOR_D).progress(draft["id"])
    assert (shown["status"], shown["total"]) == ("cancelled", 0)
    with world.app.uow() as uow:
        why = uow.staff.audit(office_code="粤D", limit=10, before=None)[0]
    assert (why.actor, why.action, why.target) == (
        "platebot",
        "broadcast.cancel",
        f"#{draft['id']}",
    )
    assert "broadcast.period_not_yours" in why.detail


def test_a_supervisors_unfinished_orders_are_the_orders_at_their_office(
    auction: AuctionWorld, world: BroadcastWorld
) -> None:
    """A plate for sale, a lot's balance, a reservation's deposit at the office, and the deposit
    of a period whose lots are all the office's; not what is owed to another office."""
    own_period, other_period = auction.period(name="第1期"), auction.period(name="第2期")
    lots = {
        "粤D": lot(auction, own_period, "粤D", "10001"),
        "粤A": lot(auction, other_period, "粤A", "10002"),
    }
    owing: dict[str, list[int]] = {}
    now = world.clock.now()
    for office in ("粤D", "粤A"):
        buyer, bidder, reserver = (world.person()[0] for _ in range(3))
        with world.app.uow() as uow:
            found = uow.offices.by_code(office)
            assert found is not None and found.id is not None
            listing = list_plate(
                uow, now=now, office_code=office, kind=PlateKind.SMALL, serial="20001", price=500
            )
            reservation = Reservation(
                account_id=reserver,
                office_id=found.id,
                plate_kind=PlateKind.SMALL,
                serial="30001",
                plate=f"{office}·30001",
                vin="LSVAM4187C2184847",
                created_at=now,
            )
            uow.reservations.add(reservation)
            for account_id, purpose, reference in (
                (buyer, Purpose.PLATE_PURCHASE, f"listing:{listing.id}"),
                (bidder, Purpose.AUCTION_BALANCE, f"lot:{lots[office]}"),
                (reserver, Purpose.RESERVATION_DEPOSIT, reservation.reference),
            ):
                place_order(
                    uow,
                    account_id=account_id,
                    purpose=purpose,
                    reference=reference,
                    subject=f"{office}·20001",
                    amount=500,
                    now=now,
                )
            uow.commit()
        owing[office] = [buyer, bidder, reserver]
    depositors = {"粤D": auction.account(), "粤A": auction.account()}
    with world.app.uow() as uow:  # signed up: the deposit is an order to pay
        for office, period in (("粤D", own_period), ("粤A", other_period)):
            sign_up_with_deposit(
                uow,
                clock=world.clock,
                account_id=depositors[office],
                period_id=period,
                vins=auction.new_vins(1),
                minutes=30,
            )
        uow.commit()
    unfinished = Audience(AudienceKind.UNFINISHED_ORDERS)
    for actor, expected in (
        (SUPERVISOR_D, [*owing["粤D"], depositors["粤D"]]),
        (SUPERVISOR_A, [*owing["粤A"], depositors["粤A"]]),
        (ADMIN, [*owing["粤D"], *owing["粤A"], *depositors.values()]),
    ):
        draft = compose(world, actor, unfinished)
        staff(world, actor).send(draft["id"])
        reached = [row["account_id"] for row in staff(world, actor).report(draft["id"])]
        assert sorted(reached) == sorted(expected), actor.name
    assert compose(world, SUPERVISOR_D, unfinished)["audience"] == "unfinished orders at 粤D"


def test_a_supervisor_sends_to_a_list_of_numbers_as_their_office(world: BroadcastWorld) -> None:
    _, phone = world.person(region="4401")  # a list is whoever staff put on it
    listed = Audience(AudienceKind.NUMBERS, phones=(phone, "+8613800138000"))
    draft = compose(world, SUPERVISOR_D, listed)
    assert (draft["recipients"], draft["office_code"]) == (2, "粤D")
    assert [b["id"] for b in staff(world, SUPERVISOR_D).recent()] == [draft["id"]]


def test_a_clerk_is_refused_broadcasts_even_to_look(world: BroadcastWorld) -> None:
    draft = compose(world, SUPERVISOR_D, region("4405"))
    clerk = staff(world, CLERK_D)
    with pytest.raises(NotAllowed):
        compose(world, CLERK_D, Audience(AudienceKind.NUMBERS, phones=("+8613800138000",)))
    for look in (clerk.recent, lambda: clerk.progress(draft["id"])):
        with pytest.raises(NotAllowed):
            look()
    with pytest.raises(NotAllowed):
        clerk.cancel(draft["id"])
    assert staff(world, SUPERVISOR_D).progress(draft["id"])["status"] == "draft"


# -- whose broadcasts a supervisor sees and acts on --------------------------------------------


def test_a_supervisor_neither_sees_nor_acts_on_another_offices_broadcasts(
    world: BroadcastWorld,
) -> None:
    world.person(region="4401")
    theirs = compose(world, SUPERVISOR_A, region("4401"))
    admins = compose(world, ADMIN, EVERYONE)
    ours = compose(world, SUPERVISOR_D, region("4405"))
    mine = staff(world, SUPERVISOR_D)
    assert [b["id"] for b in mine.recent()] == [ours["id"]]
    assert [b["id"] for b in staff(world, SUPERVISOR_A).recent()] == [theirs["id"]]
    for other in (theirs, admins):
        for act in (
            mine.preview,
            mine.progress,
            mine.report,
            mine.send,
            mine.pause,
            mine.resume,
            mine.cancel,
        ):
            with pytest.raises(BroadcastNotFound):
                act(other["id"])
    staff(world, ADMIN).send(theirs["id"])
    with pytest.raises(BroadcastNotFound):
        mine.pause(theirs["id"])
    assert world.rows(admins["id"]) == []  # the admin's draft was not sent
    everyone = staff(world, ADMIN)
    assert [(b["id"], b["office_code"]) for b in everyone.recent()] == [
        (ours["id"], "粤D"),
        (admins["id"], None),
        (theirs["id"], "粤A"),
    ]
    assert everyone.pause(theirs["id"])["status"] == "paused"  # an admin acts on any
    assert everyone.cancel(ours["id"])["status"] == "cancelled"


def test_what_a_supervisor_does_is_in_their_offices_audit_and_an_admin_in_the_broadcasts(
    world: BroadcastWorld,
) -> None:
    draft = compose(world, SUPERVISOR_D, region("4405"))
    staff(world, ADMIN).cancel(draft["id"])
    assert recorded(world) == [("broadcast.compose", "粤D"), ("broadcast.cancel", "粤D")]


# -- announcements sent as a broadcast ---------------------------------------------------------


def test_an_announcement_sent_as_a_broadcast_follows_the_same_rules(
    world: BroadcastWorld,
) -> None:
    world.person(region="4405")
    texts = {"title": "停电通知", "body": "周六停电。", "title_en": "", "body_en": ""}
    desk = StaffService(world.app.uow, world.clock).acting(SUPERVISOR_D)
    for refused, audience in ((EveryoneNotForAnOffice, EVERYONE), (RegionNotYours, region("4401"))):
        with pytest.raises(refused):
            staff(world, SUPERVISOR_D).preview_announcement(
                audience=audience, channels=Channels.SMS, **texts
            )
        with pytest.raises(refused):
            desk.announce(broadcast=(audience, Channels.SMS, "wang"), **texts)
    assert desk.items("announcement") == []  # nothing published without its broadcast
    shown = desk.announce(broadcast=(region("4405"), Channels.SMS, "wang"), **texts)
    assert shown["broadcast_recipients"] == 1
    assert staff(world, SUPERVISOR_D).progress(shown["broadcast_id"])["office_code"] == "粤D"
    sent = (
        StaffService(world.app.uow, world.clock)
        .acting(ADMIN)
        .announce(broadcast=(EVERYONE, Channels.SMS, "zhao"), **texts)
    )
    assert staff(world, ADMIN).progress(sent["broadcast_id"])["office_code"] is None
    with pytest.raises(BroadcastNotFound):
        staff(world, SUPERVISOR_D).progress(sent["broadcast_id"])


# -- the store -------------------------------------------------------------------------------


def test_the_migrations_keep_each_broadcasts_office_as_the_code_does(db: Engine) -> None:
    with db.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert [d for d in differences if f"'{broadcasts.name}'" in repr(d)] == []
    inspector = sa.inspect(db)
    columns = {c["name"]: c for c in inspector.get_columns(broadcasts.name)}
    assert columns["office_code"]["nullable"] is True
    indexes = {i["name"]: i["column_names"] for i in inspector.get_indexes(broadcasts.name)}
    assert indexes["ix_broadcasts_office"] == ["office_code", "id"]


def test_a_broadcast_composed_before_offices_were_kept_is_every_offices(tmp_path: Path) -> None:
    """An admin's, then: admins see and act on it, a supervisor does not see it."""
    db = create_engine(f"sqlite:///{tmp_path}/old.db")
    script = ScriptDirectory.from_config(migrate.alembic_config(db))
    before = script.get_revision("0023_broadcast_office").down_revision
    assert isinstance(before, str)
    migrate.upgrade(db, before)
    with db.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO broadcasts (id, text_zh, text_en, audience_kind, phones, channels, "
                "created_by, created_at, state) VALUES (1, '通知', 'Notice', 'everyone', '[]', "
                "'sms', '王科长', '2026-11-20 00:00:00.000000', 'draft')"
            )
        )
    migrate.upgrade(db)
    service = StaffBroadcasts(UnitOfWorkFactory(db), ManualClock(), broadcast_segments)
    assert [b["office_code"] for b in service.acting(ADMIN).recent()] == [None]
    assert service.acting(SUPERVISOR_D).recent() == []
    with pytest.raises(BroadcastNotFound):
        service.acting(SUPERVISOR_D).cancel(1)
    assert service.acting(ADMIN).cancel(1)["status"] == "cancelled"
    db.dispose()
