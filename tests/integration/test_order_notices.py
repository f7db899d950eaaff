"""The user is told what happened to their order (SPEC §5, §12): paid, expired, cancelled by the
office, refunded (whole or share by share), forfeited, late money given back. Each notice once, in
the account's language, in one SMS segment."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from core import order_notices
from core.accounts import Language
from core.clock import ManualClock
from core.orders import Cause, OrderPaid, about
from core.payments import (
    cancel_order,
    forfeit_order,
)
from core.ports import UnitOfWork
from core.timers import Timers
from platebot.bootstrap import App
from sms.segments import Encoding, encoding_of, segment_count
from tests.integration.test_notices import link_chat, rows
from tests.order_world import (
    account,
    order_of,
    pay_at_the_counter,
    pay_by_gateway,
    pending_order,
    refund_by_staff,
)
from tests.support import CapturingSender

PHONE = "+8613800138000"
Step = Callable[[App, int], None]


def _in(app: App, work: Callable[[UnitOfWork], object]) -> None:
    with app.uow() as uow:
        work(uow)
        uow.commit()


def refund(amount: int | None) -> Step:
    def step(app: App, order_id: int) -> None:
        refund_by_staff(app, order_id, amount, receipt=None)

    return step


def expire(app: App, order_id: int) -> None:
    assert isinstance(app.clock, ManualClock)
    app.clock.advance(timedelta(minutes=31))
    Timers(app.uow, app.clock).run_once()


def past_the_deadline(app: App, order_id: int) -> None:
    """The deadline passes; the timer has not come by yet."""
    assert isinstance(app.clock, ManualClock)
    app.clock.advance(timedelta(minutes=31))


def staff_cancel(app: App, order_id: int) -> None:
    _in(
        app,
        lambda uow: cancel_order(
            uow, order_id=order_id, now=app.clock.now(), cause=Cause.STAFF, actor="王芳"
        ),
    )


def forfeit(app: App, order_id: int) -> None:
    _in(
        app,
        lambda uow: forfeit_order(
            uow, order_id=order_id, now=app.clock.now(), cause=Cause.STAFF, actor="王芳"
        ),
    )


PAID = {
    "zh": "号牌助手：订单1（粤D·A1234）已支付¥12,000，谢谢。",
    "en": "platebot: order 1 (Yue D A1234) is paid, ¥12,000. Thank you.",
}
CASES: dict[str, tuple[list[Step], dict[str, list[str]]]] = {
    "paid": ([pay_by_gateway], {lang: [text] for lang, text in PAID.items()}),
    "expired": (
        [expire],
        {
            "zh": ["号牌助手：订单1（粤D·A1234）未在期限内支付，已过期。"],
            "en": ["platebot: order 1 (Yue D A1234) expired unpaid."],
        },
    ),
    "cancelled by staff": (
        [staff_cancel],
        {
            "zh": ["号牌助手：订单1（粤D·A1234）已被车管所取消。"],
            "en": ["platebot: order 1 (Yue D A1234) was cancelled by the office."],
        },
    ),
    "refunded whole": (
        [pay_by_gateway, refund(None)],
        {
            "zh": [PAID["zh"], "号牌助手：订单1（粤D·A1234）已全额退款¥12,000。"],
            "en": [PAID["en"], "platebot: order 1 (Yue D A1234): ¥12,000 refunded in full."],
        },
    ),
    "refunded share by share": (
        [pay_by_gateway, refund(200_000), refund(None)],
        {
            "zh": [
                PAID["zh"],
                "号牌助手：订单1（粤D·A1234）退款¥2,000，累计已退¥2,000。",
                "号牌助手：订单1（粤D·A1234）退款¥10,000，累计已退¥12,000。",
            ],
            "en": [
                PAID["en"],
                "platebot: order 1 (Yue D A1234): ¥2,000 refunded, ¥2,000 so far.",
                "platebot: order 1 (Yue D A1234): ¥10,000 refunded, ¥12,000 so far.",
            ],
        },
    ),
    "forfeited": (
        [pay_at_the_counter, forfeit],
        {
            "zh": [PAID["zh"], "号牌助手：订单1（粤D·A1234）的¥12,000按规定不予退还。"],
            "en": [PAID["en"], "platebot: order 1 (Yue D A1234): ¥12,000 is forfeited."],
        },
    ),
    "paid after it expired": (
        [expire, pay_by_gateway],
        {
            "zh": [
                "号牌助手：订单1（粤D·A1234）未在期限内支付，已过期。",
                "号牌助手：您为订单1（粤D·A1234）付的¥12,000到账时订单已过期，已原路退回。",
            ],
            "en": [
                "platebot: order 1 (Yue D A1234) expired unpaid.",
                "platebot: order 1 (Yue D A1234) was expired; your ¥12,000 went back.",
            ],
        },
    ),
    "paid after its deadline, before the timer came by": (
        [past_the_deadline, pay_by_gateway, expire],  # expired by the payment: one message
        {
            "zh": ["号牌助手：您为订单1（粤D·A1234）付的¥12,000到账时订单已过期，已原路退回。"],
            "en": ["platebot: order 1 (Yue D A1234) was expired; your ¥12,000 went back."],
        },
    ),
    "paid twice": (
        [pay_by_gateway, pay_by_gateway],
        {
            "zh": [
                PAID["zh"],
                "号牌助手：您为订单1（粤D·A1234）付的¥12,000到账时订单已支付，已原路退回。",
            ],
            "en": [PAID["en"], "platebot: order 1 (Yue D A1234) was paid; your ¥12,000 went back."],
        },
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_user_is_told_each_move_of_an_order_once_in_their_language(
    app: App, sms: CapturingSender, lang: str, case: str
) -> None:
    owner = account(app)
    _in(app, lambda uow: uow.accounts.set_language(owner, Language(lang)))
    # A plate purchase: the holders of the other purposes tell their orders' payments and unpaid
    # ends themselves, with what they mean (tests/integration/test_payment_notices.py).
    order = pending_order(app, owner)
    steps, told = CASES[case]
    for step in steps:
        step(app, order.id or 0)
        app.dispatcher.run_once()
    app.dispatcher.run_once()
    assert sms.sent == [(PHONE, text) for text in told[lang]]
    assert all(segment_count(text) == 1 for _, text in sms.sent)
    # the plate as English writes it (Yue D A1234): nothing makes an English notice UCS-2
    assert lang == "zh" or all(encoding_of(text) is Encoding.GSM7 for _, text in sms.sent)


def test_a_notice_handled_again_is_not_sent_again(app: App, sms: CapturingSender) -> None:
    order = pending_order(app, account(app))
    pay_by_gateway(app, order.id or 0)
    paid = order_of(app, order.id or 0)
    again = OrderPaid(**about(paid, app.clock.now()), amount=paid.amount, cause=Cause.GATEWAY)
    _in(app, lambda uow: order_notices.tell_paid(uow, again))  # a step retried, a timer rerun
    app.dispatcher.run_once()
    assert sms.sent == [(PHONE, PAID["zh"])]


def test_a_user_who_cancels_on_the_pay_page_is_not_told(app: App, sms: CapturingSender) -> None:
    order = pending_order(app, account(app))
    _in(
        app,
        lambda uow: cancel_order(
            uow, order_id=order.id or 0, now=app.clock.now(), cause=Cause.USER
        ),
    )
    app.dispatcher.run_once()
    assert sms.sent == []


def test_an_order_notice_goes_to_the_linked_telegram_chat_rather_than_by_sms(
    app: App, sms: CapturingSender
) -> None:
    owner = account(app)
    link_chat(app, owner, "4242")
    order = pending_order(app, owner)
    pay_by_gateway(app, order.id or 0)
    app.dispatcher.run_once()
    assert sms.sent == []
    assert rows(app) == [("telegram", "4242", f"order:{order.id}:paid")]
