"""One payment, one message (SPEC §5, §7, §8, §12; every SMS costs the office money): an auction
deposit paid brings the bidder number and code with the deposit received, an auction balance paid
the plate issued with the balance received, a reservation deposit paid where the plate goes with
the deposit received, and an auction deposit not paid (expired, or its order cancelled) the
signup cancelled with the deposit's amount; never the order's own notice beside it. Paid on the
pay page (the gateway's callback) or at the counter alike; in the user's language, in one SMS
segment (an English period name of 30 characters, an English plate `Yue D 12345`). The bidder
number stays a code: by SMS, at the codes' priority, with its copy in a linked Telegram chat."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core import auctions
from core.accounts import Language
from core.auction_signup import tell_bidder_number
from core.auctions import YUAN, SignupActivated
from core.clock import ManualClock
from core.money import format_yuan
from core.orders import Cause, Order
from core.outbox import Priority
from core.payments import cancel_order, pay_at_counter
from dialogs.catalog import render_text
from dialogs.replies import Text
from platebot.bootstrap import App
from sms.segments import Encoding, encoding_of, segment_count
from store.tables import outbox
from tests.integration.test_notices_one_per_event import (
    ENGLISH_PLATE,
    KEY,
    LONGEST_NAME,
    PLATE,
    TIME,
    last_row,
    make_refunds,
    one_sms,
    period_in,
    reserver,
    speaks,
    told_since,
    won_auction,
)
from tests.reservation_world import (
    order,
    pay_by_gateway,
    pending_reservation,
    publish_period,
    reservation,
    staff,
)
from tests.settlement_world import SettlementWorld

CHAT = "4242"
VIN = "LGBH52E00NY000001"


@pytest.fixture
def world(db: Engine) -> SettlementWorld:
    return SettlementWorld(db)


# -- how the money came: the pay page's gateway, or a clerk at the counter ---------------------


def by_gateway(world: SettlementWorld, paid: Order) -> None:
    world.pay(paid)


def at_the_counter(world: SettlementWorld, paid: Order) -> None:
    with world.uow() as uow:
        pay_at_counter(
            uow, order_id=paid.id or 0, receipt="R-7", staff="王芳", now=world.clock.now()
        )
        uow.commit()


PAYS = pytest.mark.parametrize("pay", [by_gateway, at_the_counter], ids=["pay page", "counter"])
Pay = Callable[[SettlementWorld, Order], None]


def rows_since(engine: Engine, mark: int, account_id: int) -> list[tuple[str, str, int, str]]:
    """(channel, key, priority, unique key) of the account's outbox rows written after ``mark``."""
    query = (
        sa.select(outbox.c.channel, outbox.c.key, outbox.c.priority, outbox.c.dedupe_key)
        .where(outbox.c.id > mark, outbox.c.account_id == account_id)
        .order_by(outbox.c.id)
    )
    with engine.connect() as conn:
        return [(str(c), k, int(p), d) for c, k, p, d in conn.execute(query)]


# -- every text of a payment in one segment ------------------------------------------------------


PERIOD = "the period's name"  # as the user's language shows it


@pytest.mark.parametrize(
    ("key", "params"),
    [
        (
            "auction.notice.deposit_paid",
            {"period": PERIOD, "amount": "¥100,000", "bidder": "12345678", "code": "123456"},
        ),
        ("auction.notice.deposit_expired", {"period": PERIOD, "amount": "¥100,000"}),
        ("auction.notice.deposit_cancelled", {"period": PERIOD, "amount": "¥100,000"}),
        ("settlement.balance_issued", {"amount": "¥1,234,000", "plate": ENGLISH_PLATE, "vin": VIN}),
        ("reservation.notice.paid_waiting", {"amount": 10_000 * YUAN, "plate": ENGLISH_PLATE}),
        (
            "reservation.notice.paid_placed_at_start",
            {"period": PERIOD, "amount": 10_000 * YUAN, "plate": ENGLISH_PLATE, "starts": TIME},
        ),
        (
            "reservation.notice.paid_placed",
            {
                "period": PERIOD,
                "amount": 10_000 * YUAN,
                "plate": ENGLISH_PLATE,
                "signup_closes": TIME,
                "starts": TIME,
            },
        ),
    ],
)
def test_a_payments_one_message_is_one_segment_in_either_language(
    key: str, params: dict[str, str | int]
) -> None:
    """In English with the longest period name (GSM-7); in Chinese with a plate and a period as
    staff name them. Only a reservation's plate in a period whose signup closes before its start
    (two times to tell) takes two segments in Chinese."""
    for language, period, plate in (
        (Language.EN, LONGEST_NAME, ENGLISH_PLATE),
        (Language.ZH, "2026年第12期", "粤D·12345"),
    ):
        mine = {"period": period, "plate": plate}
        shown = {name: mine.get(name, value) for name, value in params.items()}
        text = render_text(Text(key, shown), language, "sms")
        values = [format_yuan(v) if isinstance(v, int) else v for v in shown.values()]
        assert all(value in text for value in values), text
        assert "{" not in text and (language is Language.ZH or encoding_of(text) is Encoding.GSM7)
        two_times = key == "reservation.notice.paid_placed" and language is Language.ZH
        assert segment_count(text) == (2 if two_times else 1), (language, len(text), text)
        on_telegram = render_text(Text(key, shown), language, "telegram")
        assert "回复" not in on_telegram and "reply" not in on_telegram.lower()


# -- an auction deposit -------------------------------------------------------------------------

DEPOSIT_PAID = {
    "zh": "{period}保证金¥10,000已收到。竞买号{bidder}，验证码{code}，请妥善保管。",
    "en": "{period}: deposit ¥10,000 received, you are signed up. Bidder number {bidder}, code "
    "{code}. Keep them safe.",
}


@dataclass(frozen=True)
class Awaiting:
    """A bidder signed up, the deposit order pending."""

    period_id: int
    account_id: int
    signup_id: int
    deposit: Order

    def signup(self, world: SettlementWorld) -> auctions.Signup:
        with world.uow() as uow:
            signup = uow.auctions.signup(self.signup_id)
        assert signup is not None
        return signup


def awaiting_deposit(world: SettlementWorld, lang: str, shares: int = 2) -> Awaiting:
    """A bidder of ``lang`` signed up with ``shares`` VINs (¥5,000 a share), the deposit order
    pending."""
    period = world.period()
    world.lot(period, "88888")
    account_id = world.account()
    speaks(world, account_id, lang)
    signup_id = world.signup(period, world.new_vins(shares), account_id)
    return Awaiting(period, account_id, signup_id, world.deposit_order(account_id, signup_id))


@PAYS
def test_a_paid_auction_deposit_is_one_code_by_sms_with_the_amount_and_the_bidder_number(
    world: SettlementWorld, lang: str, pay: Pay
) -> None:
    bidder = awaiting_deposit(world, lang)
    account_id = bidder.account_id
    mark = last_row(world.engine)
    pay(world, bidder.deposit)
    signup = bidder.signup(world)
    assert signup.state is auctions.SignupState.ACTIVE
    code = auctions.room_code(KEY, signup)
    expected = DEPOSIT_PAID[lang].format(
        period=period_in(world, bidder.period_id, lang), bidder=signup.bidder_number, code=code
    )
    assert one_sms(told_since(world.engine, mark, account_id)) == expected
    # still a code: before every other notice; under the key it always had (written once)
    assert rows_since(world.engine, mark, account_id) == [
        ("sms", "auction.notice.deposit_paid", Priority.CODE, f"auction:activated:{signup.id}:sms")
    ]
    [activated] = [e for e in world.events if isinstance(e, SignupActivated)]
    with world.uow() as uow:  # the step handled again (a retried handler)
        tell_bidder_number(uow, activated)
        uow.commit()
    assert len(told_since(world.engine, mark, account_id)) == 1


def test_a_paid_auction_deposit_reaches_a_linked_chat_as_the_codes_copy_only(
    world: SettlementWorld,
) -> None:
    """With a Telegram chat, the code goes by SMS as ever and a copy to the chat; the order's
    "paid" notice, which went to the chat, is not sent."""
    bidder = awaiting_deposit(world, "zh", shares=1)
    account_id = bidder.account_id
    with world.uow() as uow:
        uow.contacts.link(
            channel="telegram", address=CHAT, account_id=account_id, now=world.clock.now()
        )
        uow.commit()
    mark = last_row(world.engine)
    world.pay(bidder.deposit)
    signup = bidder.signup(world)
    rows = rows_since(world.engine, mark, account_id)
    assert [(where, key, priority) for where, key, priority, _ in rows] == [
        ("sms", "auction.notice.deposit_paid", Priority.CODE),
        ("telegram", "auction.notice.deposit_paid", Priority.URGENT),
    ]
    sms_text, chat_text = (text for _, text in told_since(world.engine, mark, account_id))
    assert sms_text == chat_text and "¥5,000已收到" in sms_text
    assert str(signup.bidder_number) in sms_text


DEPOSIT_UNPAID = {
    "expired": {
        "zh": "{period}的保证金¥10,000未按时支付，报名已取消，车辆识别代号可再次使用。",
        "en": "{period}: the deposit of ¥10,000 was not paid in time, so your signup is cancelled; "
        "its VINs are free again.",
    },
    "cancelled": {
        "zh": "{period}的保证金订单（¥10,000）已取消，报名随之取消，车辆识别代号可再次使用。",
        "en": "{period}: the deposit order of ¥10,000 was cancelled, and your signup with it; its "
        "VINs are free again.",
    },
}


def past_its_deadline(world: SettlementWorld, deposit: Order) -> None:
    world.clock.set(deposit.deadline + timedelta(seconds=1))
    world.run_timers()


def cancelled_by(cause: Cause) -> Callable[[SettlementWorld, Order], None]:
    def cancel(world: SettlementWorld, deposit: Order) -> None:
        with world.uow() as uow:
            cancel_order(uow, order_id=deposit.id or 0, now=world.clock.now(), cause=cause)
            uow.commit()

    return cancel


@pytest.mark.parametrize(
    ("end", "told"),
    [
        (past_its_deadline, "expired"),
        (cancelled_by(Cause.STAFF), "cancelled"),
    ],
    ids=["expired", "office cancels"],
)
def test_an_unpaid_auction_deposit_cancels_the_signup_with_one_notice(
    world: SettlementWorld,
    lang: str,
    end: Callable[[SettlementWorld, Order], None],
    told: str,
) -> None:
    bidder = awaiting_deposit(world, lang)
    mark = last_row(world.engine)
    end(world, bidder.deposit)
    assert bidder.signup(world).state is auctions.SignupState.CANCELLED
    expected = DEPOSIT_UNPAID[told][lang].format(period=period_in(world, bidder.period_id, lang))
    assert one_sms(told_since(world.engine, mark, bidder.account_id)) == expected
    [(_, _, _, unique)] = rows_since(world.engine, mark, bidder.account_id)
    assert unique == f"auction:signup-cancelled:{bidder.signup_id}"


def test_a_bidder_who_cancels_their_own_deposit_order_is_not_told_what_they_just_did(
    world: SettlementWorld, lang: str
) -> None:
    """Cancelling it in My orders (or on the pay page) said first what it gives up: the signup
    is cancelled, and no SMS repeats it (nor the order's own notice)."""
    bidder = awaiting_deposit(world, lang)
    mark = last_row(world.engine)
    cancelled_by(Cause.USER)(world, bidder.deposit)
    assert bidder.signup(world).state is auctions.SignupState.CANCELLED
    assert rows_since(world.engine, mark, bidder.account_id) == []


# -- an auction balance --------------------------------------------------------------------------

ISSUED = {
    "zh": "号牌助手：余款¥6,000已收到，号牌{plate}已登记给车架号{vin}的车辆。",
    "en": "platebot: balance of ¥6,000 received. Plate {plate} is issued to the vehicle with VIN "
    "{vin}.",
}


@PAYS
def test_a_paid_auction_balance_is_one_notice_of_the_plate_issued_and_the_balance_received(
    world: SettlementWorld, lang: str, pay: Pay
) -> None:
    _, _, bob, lot = won_auction(world, lang)  # ¥11,000, a ¥5,000 deposit share counted
    make_refunds(world)
    balance = world.settlement(lot).balance_order_id
    assert balance is not None
    mark = last_row(world.engine)
    pay(world, world.order(balance))
    assert world.pool_state("88888") == "issued"
    expected = ISSUED[lang].format(plate=PLATE[lang], vin=bob.vins[0])
    assert one_sms(told_since(world.engine, mark, bob.account_id)) == expected
    [(_, _, _, unique)] = rows_since(world.engine, mark, bob.account_id)
    assert unique == f"settlement:{lot}:issued"


# -- a reservation deposit ------------------------------------------------------------------------

RESERVATION_PAID = {
    "placed": {
        "zh": "号牌助手：预约保证金¥5,000已收到，粤D·A8888已进入2026年第12期竞买，"
        "{starts}开拍前可报名。",
        "en": 'platebot: deposit ¥5,000 received: Yue D A8888 is a lot of "{period}". Sign up '
        "before bidding starts at {starts} (China time).",
    },
    "placed, signup closing earlier": {
        "zh": "号牌助手：保证金¥5,000已收到，粤D·A8888进入2026年第12期，{closes}前报名，"
        "{starts}开拍。",
        "en": 'platebot: deposit ¥5,000 received. Yue D A8888 is in "{period}": sign up by '
        "{closes}, bidding from {starts} (China time).",
    },
    "waiting": {
        "zh": "号牌助手：已收到粤D·A8888的预约保证金¥5,000，号牌将进入下一期竞买，届时通知您。",
        "en": "platebot: reservation deposit of ¥5,000 for Yue D A8888 received. The plate goes "
        "into the next auction period; you will be told when.",
    },
}
# A period whose signup is open (as the reservation world publishes them) starts on the 24th
# at 10:00 China time; the other's signup closes two hours before that.
STARTS, CLOSES = "2026-11-24 10:00", "2026-11-24 08:00"


def a_period(app: App, case: str) -> int | None:
    """The period the paid plate will join, if any."""
    if case == "waiting":
        return None
    if case == "placed":
        return publish_period(app)
    now = app.clock.now()
    with app.uow() as uow:
        period = auctions.publish_period(
            uow,
            clock=app.clock,
            name="2026年第12期",
            signup_opens=now,
            signup_closes=now + timedelta(hours=22),
            starts_at=now + timedelta(hours=24),
        )
        uow.commit()
    return period.id


def paid_at_the_counter(app: App, order_id: int) -> None:
    with app.uow() as uow:
        pay_at_counter(uow, order_id=order_id, receipt="R-9", staff="王芳", now=app.clock.now())
        uow.commit()


@pytest.mark.parametrize("case", list(RESERVATION_PAID))
@pytest.mark.parametrize("pay", [pay_by_gateway, paid_at_the_counter], ids=["pay page", "counter"])
def test_a_paid_reservation_deposit_is_one_notice_of_where_the_plate_goes(
    app: App, lang: str, case: str, pay: Callable[[App, int], None]
) -> None:
    me = reserver(app, lang)
    period_id = a_period(app, case)
    reservation_id = pending_reservation(app, me)
    order_id = staff(app).approve(reservation_id, staff="王芳")["order_id"]
    assert isinstance(app.clock, ManualClock)
    mark = last_row(app.db)
    pay(app, order_id)
    assert order(app, order_id).amount == 5_000 * YUAN
    assert reservation(app, reservation_id).period_id == period_id
    name = ""
    if period_id is not None:
        with app.uow() as uow:
            period = uow.auctions.period(period_id)
        assert period is not None
        name = period.name_in(Language(lang))
    expected = RESERVATION_PAID[case][lang].format(period=name, starts=STARTS, closes=CLOSES)
    told = told_since(app.db, mark, me)
    if case == "placed, signup closing earlier" and lang == "zh":  # two times: two segments
        assert [(where, text) for where, text in told] == [("sms", expected)]
    else:
        assert one_sms(told) == expected
    what = "waiting" if case == "waiting" else "placed"
    [(_, _, _, unique)] = rows_since(app.db, mark, me)
    assert unique == f"reservation:{reservation_id}:{what}:{period_id or 0}"
