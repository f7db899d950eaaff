"""Staff correct a published auction period before it starts (SPEC §7, issue 14 item 1): any
setting until signup opens; after that the opening of signup stays, its close and the start only
move later, and the deposit stays once anyone signed up. Open lots follow a new start; the
period's bidders and the reservers of its lots are told new times, once each, in one SMS
segment; a period whose signup reopens takes the reservations waiting for one."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core import auctions
from core.accounts import Language
from core.auction_errors import (
    InvalidAuctionSetting,
    LotNotOpen,
    NothingToAmend,
    PeriodNotChangeable,
    SignupAlreadyOpen,
    SignupClosed,
    TermsFixed,
)
from core.auction_signup import sign_up_with_deposit
from core.auctions import PeriodAmended, Signup, SignupState
from core.clock import ManualClock, format_local
from core.errors import DomainError
from core.orders import Order, OrderState
from core.plates import PlateKind
from core.ports import UnitOfWork
from core.reservations import Reservation, ReservationState
from dialogs.catalog import render_text
from dialogs.replies import Text
from platebot.bootstrap import App
from platebot.staff_auctions import StaffAuctions
from sms.segments import segment_count
from store.auction_tables import auction_lots
from store.staff_tables import staff_audit
from tests.auction_world import START_PRICE, vin
from tests.integration.test_notices_one_per_event import last_row, one_sms, told_since
from tests.reservation_world import (
    add_lot,
    bidder,
    pay_by_gateway,
    pending_reservation,
    publish_period,
    reservation,
    reservation_world,
    staff,
)
from tests.settlement_world import GATEWAY, SettlementWorld

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@pytest.fixture
def world(db: Engine) -> SettlementWorld:
    return SettlementWorld(db)


def lots_staff(world: SettlementWorld) -> StaffAuctions:
    return StaffAuctions(world.uow, world.clock, GATEWAY)


def refused(staff: StaffAuctions, period: int, **changes: object) -> DomainError:
    with pytest.raises(DomainError) as caught:
        staff.amend_period(period, **changes)
    return caught.value


def test_before_signup_opens_every_setting_may_change_and_the_lots_open_at_the_new_start(
    world: SettlementWorld,
) -> None:
    now = world.clock.now()
    period = world.period(signup_opens=now + HOUR / 4, signup_closes=now + HOUR / 2)
    lot = world.lot(period, "88888")
    desk = lots_staff(world)
    later = world.starts_at + DAY
    amended = desk.amend_period(
        period,
        name_en="Spring Auction",
        signup_opens=now + 3 * HOUR,
        signup_closes=later - HOUR,
        starts_at=later,
        deposit_fen=800_000,
        increments_fen=[300_000, 100_000],
        opening_countdown_s=600,
    )
    assert sorted(amended["changed"]) == sorted(
        [
            "name_en",
            "signup_opens",
            "signup_closes",
            "starts_at",
            "deposit_fen",
            "increments_fen",
            "opening_countdown_s",
        ]
    )
    assert (amended["name_en"], amended["deposit"], amended["starts_at"]) == (
        "Spring Auction",
        "¥8,000",
        format_local(later),
    )
    assert amended["increments_fen"] == [100_000, 300_000]
    moved = world.lot_now(lot)  # the lot opens at the new start, with the new countdown
    assert (moved.opens_at, moved.deadline) == (later, later + timedelta(seconds=600))
    [event] = world.of_type(PeriodAmended)
    assert event.rescheduled and event.period_id == period
    # the English name can be taken away again: English users read the start's date
    assert desk.amend_period(period, name_en="")["name_en"] is None


def test_the_lot_opens_at_the_new_start_and_not_before(world: SettlementWorld) -> None:
    period = world.period()
    lot = world.lot(period, "88888")
    alice = world.paid_bidder(period)
    lots_staff(world).amend_period(period, starts_at=world.starts_at + DAY)
    world.start()  # the old start: the lot is not open
    assert isinstance(world.bid(alice, lot, amount=START_PRICE), LotNotOpen)
    world.clock.set(world.starts_at + DAY)
    assert not isinstance(world.bid(alice, lot, amount=START_PRICE), DomainError)
    world.clock.advance(timedelta(seconds=301))  # the opening countdown, then the close
    assert world.close_due() == 1


def test_once_signup_opened_its_opening_stays_and_its_times_only_move_later(
    world: SettlementWorld,
) -> None:
    period = world.period(signup_closes=world.starts_at - HOUR / 2)
    desk = lots_staff(world)
    earlier = refused(desk, period, starts_at=world.starts_at - HOUR / 4)
    assert isinstance(earlier, SignupAlreadyOpen) and earlier.params == {"setting": "starts_at"}
    opening = refused(desk, period, signup_opens=world.opened_at + HOUR / 4)
    assert isinstance(opening, SignupAlreadyOpen)
    closing = refused(desk, period, signup_closes=world.starts_at - HOUR)
    assert isinstance(closing, SignupAlreadyOpen)
    world.clock.set(world.starts_at - HOUR / 4)  # signup has closed, bidding not started
    past = refused(desk, period, signup_closes=world.starts_at - HOUR / 3)  # later, yet past
    assert isinstance(past, InvalidAuctionSetting) and past.params["setting"] == "signup_closes"
    world.clock.set(world.opened_at)
    # later is fine: nobody who planned around the old times is caught out
    later = desk.amend_period(
        period, signup_closes=world.starts_at, starts_at=world.starts_at + DAY
    )
    assert sorted(later["changed"]) == ["signup_closes", "starts_at"]


def test_the_terms_stay_once_anyone_signed_up_and_nothing_given_is_refused(
    world: SettlementWorld,
) -> None:
    period = world.period()
    desk = lots_staff(world)
    assert desk.amend_period(period, deposit_fen=600_000)["deposit"] == "¥6,000"  # nobody yet
    world.signup(period, world.new_vins(1))  # not even paid yet
    for terms, setting in (
        ({"deposit_fen": 700_000}, "deposit"),
        ({"increments_fen": [50_000]}, "increments"),
        ({"bid_countdown_s": 30}, "bid_countdown_s"),
        ({"balance_working_days": 2}, "balance_working_days"),
    ):
        error = refused(desk, period, **terms)
        assert isinstance(error, TermsFixed) and error.params == {"setting": setting}
    assert desk.amend_period(period, name_en="Spring Auction")["changed"] == ["name_en"]
    assert isinstance(refused(desk, period), NothingToAmend)
    assert isinstance(refused(desk, period, deposit_fen=600_000), NothingToAmend)  # as it is
    blank = refused(desk, period, name="   ")
    assert isinstance(blank, InvalidAuctionSetting) and blank.params["setting"] == "name"
    world.start()
    assert isinstance(refused(desk, period, name="改名"), PeriodNotChangeable)


def test_the_audit_says_who_changed_what(world: SettlementWorld) -> None:
    period = world.period()
    lots_staff(world).amend_period(period, name="2026年第12期（改）", deposit_fen=600_000)
    with world.engine.connect() as conn:
        row = conn.execute(
            sa.select(staff_audit.c.action, staff_audit.c.target, staff_audit.c.detail).where(
                staff_audit.c.action == "auction.amend"
            )
        ).one()
    assert row.target == f"period #{period}"
    assert "name=2026年第12期（改）" in row.detail and "deposit=¥6,000" in row.detail


# -- who is told ---------------------------------------------------------------------------------

RESCHEDULED = {
    "zh": "号牌助手：竞价期“2026年第12期”改为{starts}开始，开始前均可报名。",
    "en": 'platebot: the auction period "Auction of {day}" now starts at {starts} (China time); '
    "you can sign up until then.",
}  # the period as its readers knew it: in English, by the day it was to start


@pytest.mark.parametrize("key", ["settlement.rescheduled", "settlement.rescheduled_at_start"])
def test_a_new_start_is_one_segment_in_chinese_with_a_name_of_15_characters(key: str) -> None:
    name = "2027年春季第12期号牌竞价"
    assert len(name) == 15
    times = {"starts": "2026-12-19 17:00", "signup_closes": "2026-12-19 16:00"}
    text = render_text(Text(key, {"period": name, **times}), Language.ZH, "sms")
    assert name in text and "2026-12-19 17:00" in text
    assert segment_count(text) == 1, (len(text), text)


def test_bidders_and_reservers_are_told_a_new_start_once_each_in_their_language(
    app: App, lang: str
) -> None:
    people = reservation_world(app)
    me, rival, third = people["me"], people["rival"], people["third"]
    for account in (me, rival, third):
        with app.uow() as uow:
            uow.accounts.set_language(account, Language(lang))
            uow.commit()
    period = publish_period(app)
    order_id = staff(app).approve(pending_reservation(app, me), staff="王芳")["order_id"]
    pay_by_gateway(app, order_id)  # my reserved plate is a lot of the period
    bidder(app, period, me, vin(7))  # and I bid in it too: one message all the same
    bidder(app, period, rival, vin(8))
    assert isinstance(app.clock, ManualClock)
    new_start = app.clock.now() + 3 * DAY
    mark = last_row(app.db)
    desk = StaffAuctions(app.uow, app.clock, app.payments)
    desk.amend_period(period, signup_closes=new_start, starts_at=new_start)
    old_day = format_local(app.clock.now() + DAY)[:10]
    expected = RESCHEDULED[lang].format(starts=format_local(new_start), day=old_day)
    for account in (me, rival):
        assert one_sms(told_since(app.db, mark, account)) == expected
    assert told_since(app.db, mark, third) == []  # not in this auction
    mark = last_row(app.db)
    desk.amend_period(period, name_en="Spring Auction")  # no new times: nobody is told
    assert told_since(app.db, mark, me) == told_since(app.db, mark, rival) == []


def test_a_period_whose_signup_reopens_takes_a_reservation_waiting_for_one(app: App) -> None:
    people = reservation_world(app)
    assert isinstance(app.clock, ManualClock)
    now = app.clock.now()
    with app.uow() as uow:  # signup for an hour, bidding an hour after it closed
        period = auctions.publish_period(
            uow,
            clock=app.clock,
            name="2026年第12期",
            signup_opens=now,
            signup_closes=now + HOUR,
            starts_at=now + 2 * HOUR,
        )
        uow.commit()
    assert period.id is not None
    add_lot(app, period.id, "66666")
    app.clock.advance(HOUR + timedelta(minutes=1))  # signup closed, bidding not started
    reservation_id = pending_reservation(app, people["me"])
    order_id = staff(app).approve(reservation_id, staff="王芳")["order_id"]
    pay_by_gateway(app, order_id)
    assert reservation(app, reservation_id).state is ReservationState.PAID  # waits for one
    desk = StaffAuctions(app.uow, app.clock, app.payments)
    assert desk.period(period.id)["state"] == "signup_closed"  # as staff see it
    reopened = desk.amend_period(period.id, signup_closes=now + 2 * HOUR, starts_at=now + DAY)
    assert reopened["state"] == "signup"
    placed = reservation(app, reservation_id)
    assert (placed.state, placed.period_id) == (ReservationState.PLACED, period.id)


def test_before_signup_opens_reservers_are_told_when_it_opens_and_after_it_closed_only_the_start(
    world: SettlementWorld,
) -> None:
    opens = world.opened_at + HOUR / 4
    period = world.period(signup_opens=opens, signup_closes=world.starts_at - HOUR / 2)
    lot = world.lot(period, "66666")
    reserver = world.account()
    with world.uow() as uow:  # a reservation whose plate is the period's lot
        office = uow.offices.by_code("粤D")
        assert office is not None and office.id is not None
        uow.reservations.add(
            Reservation(
                account_id=reserver,
                office_id=office.id,
                plate_kind=PlateKind.SMALL,
                serial="66666",
                plate="粤D·66666",
                vin=vin(99),
                created_at=world.clock.now(),
                state=ReservationState.PLACED,
                period_id=period,
                lot_id=lot,
            )
        )
        uow.commit()
    desk = lots_staff(world)
    mark = last_row(world.engine)
    later = world.starts_at + DAY
    desk.amend_period(period, starts_at=later)  # signup not open yet: when it opens
    expected = (
        f"号牌助手：竞价期“2026年第12期”改为{format_local(later)}开始，"
        f"{format_local(opens)}起可报名。"
    )
    assert one_sms(told_since(world.engine, mark, reserver)) == expected
    world.clock.set(world.starts_at)  # signup has closed: only the new start is news
    mark = last_row(world.engine)
    desk.amend_period(period, starts_at=later + HOUR)
    expected = f"号牌助手：竞价期“2026年第12期”改为{format_local(later + HOUR)}开始。"
    assert one_sms(told_since(world.engine, mark, reserver)) == expected


def test_a_start_is_not_moved_once_a_lot_has_taken_a_bid(world: SettlementWorld) -> None:
    """As when an amendment read the clock a moment before the start and a bid came in at it:
    the lots stay as bidding left them, and nothing of the amendment is kept."""
    period = world.period()
    lot = world.lot(period, "88888")
    with world.engine.begin() as conn:
        conn.execute(sa.update(auction_lots).where(auction_lots.c.id == lot).values(bids=1))
    before = world.lot_now(lot)
    error = refused(lots_staff(world), period, starts_at=world.starts_at + DAY, name="改")
    assert isinstance(error, PeriodNotChangeable)
    assert (world.lot_now(lot).opens_at, world.lot_now(lot).deadline) == (
        before.opens_at,
        before.deadline,
    )
    with world.uow() as uow:
        kept = uow.auctions.period(period)
    assert kept is not None and kept.name == "2026年第12期"


def waits_for(
    world: SettlementWorld, first: Callable[[UnitOfWork], object], then: Callable[[], object]
) -> object:
    """``first`` in a transaction left open while ``then`` runs beside it: ``then`` waits for it
    (PostgreSQL's row locks), and once ``first`` commits, what ``then`` returned or raised."""
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(then())
        except DomainError as error:
            outcome.append(error)

    with world.uow() as uow:
        first(uow)
        other = threading.Thread(target=run)
        other.start()
        other.join(0.5)
        assert other.is_alive()  # it waits for the open transaction
        uow.commit()
    other.join(10)
    [result] = outcome
    return result


def on_postgresql(db: Engine) -> None:
    if db.dialect.name != "postgresql":
        pytest.skip("SQLite runs one transaction at a time")


def test_a_signup_in_flight_holds_the_deposit_it_read_against_an_amendment(
    world: SettlementWorld, db: Engine
) -> None:
    on_postgresql(db)
    period = world.period()
    account = world.account()
    refusal = waits_for(
        world,
        lambda uow: auctions.sign_up(
            uow, clock=world.clock, account_id=account, period_id=period, vins=[vin(5)]
        ),
        lambda: lots_staff(world).amend_period(period, deposit_fen=800_000),
    )
    assert isinstance(refusal, TermsFixed)  # one deposit for everyone who signed up


def test_a_deposit_order_the_old_close_cut_short_runs_on_when_signup_is_extended(
    world: SettlementWorld,
) -> None:
    closes = world.opened_at + timedelta(minutes=10)
    period = world.period(signup_closes=closes)
    account = world.account()
    with world.uow() as uow:  # as the dialog signs up: the order is due in 20 minutes…
        signup, order = sign_up_with_deposit(
            uow,
            clock=world.clock,
            account_id=account,
            period_id=period,
            vins=world.new_vins(1),
            minutes=20,  # PLATEBOT_ORDER_MINUTES, as the server and the CLI are given it
        )
        uow.commit()
    assert order.deadline == closes  # …but no later than signup closes
    desk = StaffAuctions(world.uow, world.clock, GATEWAY, deposit_minutes=20)
    desk.amend_period(period, signup_closes=world.starts_at)
    assert world.order(order.id or 0).deadline == world.opened_at + timedelta(minutes=20)
    world.clock.set(closes + timedelta(minutes=1))  # the old close has passed
    world.run_timers()
    assert world.order(order.id or 0).state is OrderState.PENDING  # still payable
    with world.uow() as uow:
        still = uow.auctions.signup(signup.id or 0)
    assert still is not None and still.state is SignupState.AWAITING_DEPOSIT
    world.clock.set(world.opened_at + timedelta(minutes=21))  # its own 20 minutes are up
    world.run_timers()
    assert world.order(order.id or 0).state is OrderState.EXPIRED


def test_a_deposit_order_already_over_is_not_brought_back_by_a_reopened_signup(
    world: SettlementWorld,
) -> None:
    closes = world.opened_at + timedelta(minutes=10)
    period = world.period(signup_closes=closes)
    with world.uow() as uow:
        _, order = sign_up_with_deposit(
            uow,
            clock=world.clock,
            account_id=world.account(),
            period_id=period,
            vins=world.new_vins(1),
            minutes=20,
        )
        uow.commit()
    world.clock.set(closes + timedelta(minutes=1))  # over; the timer has not come by yet
    StaffAuctions(world.uow, world.clock, GATEWAY, deposit_minutes=20).amend_period(
        period, signup_closes=world.starts_at
    )
    assert world.order(order.id or 0).deadline == closes  # as it was: the timer ends it
    world.run_timers()
    assert world.order(order.id or 0).state is OrderState.EXPIRED


def test_a_period_cancelled_while_a_signup_is_under_way_cancels_that_signup_too(
    world: SettlementWorld, db: Engine
) -> None:
    on_postgresql(db)
    period = world.period()
    world.bidder(period)  # an earlier signup: the terms are fixed, later ones take no flag
    placed: list[tuple[Signup, Order]] = []

    def sign_up(uow: UnitOfWork) -> None:
        placed.append(
            sign_up_with_deposit(
                uow,
                clock=world.clock,
                account_id=world.account(),
                period_id=period,
                vins=world.new_vins(1),
                minutes=20,
            )
        )

    cancelled = waits_for(world, sign_up, lambda: lots_staff(world).cancel_period(period))
    assert isinstance(cancelled, dict) and cancelled["state"] == "cancelled"
    [(signup, order)] = placed
    with world.uow() as uow:
        after = uow.auctions.signup(signup.id or 0)
    assert after is not None and after.state is SignupState.CANCELLED
    assert world.order(order.id or 0).state is OrderState.CANCELLED  # nothing left to pay


def test_a_signup_that_comes_during_a_cancellation_is_refused_once_it_is_in(
    world: SettlementWorld, db: Engine
) -> None:
    on_postgresql(db)
    period = world.period()
    account = world.account()
    refusal = waits_for(
        world,
        lambda uow: auctions.cancel_period(uow, clock=world.clock, period_id=period),
        lambda: world.signup(period, world.new_vins(1), account),
    )
    assert isinstance(refusal, SignupClosed)
