"""My orders (SPEC §5) as transcripts, zh and en, through every renderer: a pending order with its
pay link, paid (by the pay page's callback, or at the counter) and then history; cancelled from My
orders; expired; the history a page at a time; someone not signed in told how to sign in."""

from __future__ import annotations

from datetime import timedelta

from core.clock import ManualClock
from core.orders import Cause, OrderState, Purpose
from core.timers import Timers
from platebot.bootstrap import App
from tests.order_world import (
    account,
    ledger,
    order_of,
    pay_at_the_counter,
    pay_by_gateway,
    pending_order,
    refund_by_staff,
)
from tests.support import CapturingSender, Renderer, Transcript

PHONE = "+8613800138000"
SAY = {
    "zh": {
        "title": "待支付订单（北京时间）：",
        "line": "订单1：粤D·A1234 购买号牌，¥12,000，2026-11-23 10:30前支付",
        "pay": "支付订单1",
        "none": "没有待支付的订单。",
        "paid": "订单1：粤D·A1234 购买号牌，¥12,000，已支付（2026-11-23 10:05）",
        "confirm": "取消订单1（粤D·A1234 购买号牌，¥12,000）？取消后不能恢复。",
        "gives_up": "取消即放弃竞得的号牌：号牌退回车管所，保证金不予退还。",
        "signup_goes": "竞价报名将一并取消。",
        "cancelled": "订单1已取消。",
        "history_cancelled": "订单1：粤D·A1234 购买号牌，¥12,000，已取消（2026-11-23 10:00）",
        "expired": "订单1：粤D·A1234 购买号牌，¥12,000，已过期（2026-11-23 10:31）",
        "deposit": "订单2：粤D·A1234 竞价保证金，¥5,000，2026-11-23 10:30前支付",
        "sign_in": "查看订单需要先登录",
        "phone": "请输入手机号",
        "gone": "该订单当前状态（已支付）不能办理此操作。",
        "refunded": "订单1：粤D·A1234 购买号牌，¥12,000，已支付，已退¥2,000（2026-11-23 10:00）",
    },
    "en": {
        "title": "Orders to pay (China time):",
        "line": "Order 1: Yue D A1234 Plate purchase, ¥12,000, pay by 2026-11-23 10:30",
        "pay": "Pay order 1",
        "none": "No orders to pay.",
        "paid": "Order 1: Yue D A1234 Plate purchase, ¥12,000, paid (2026-11-23 10:05)",
        "confirm": "Cancel order 1 (Yue D A1234 Plate purchase, ¥12,000)? This cannot be undone.",
        "gives_up": "You give up the plate you won: it goes back to the office, and your deposit "
        "share is forfeited.",
        "signup_goes": "Your auction signup is cancelled with it.",
        "cancelled": "Order 1 cancelled.",
        "history_cancelled": (
            "Order 1: Yue D A1234 Plate purchase, ¥12,000, cancelled (2026-11-23 10:00)"
        ),
        "expired": "Order 1: Yue D A1234 Plate purchase, ¥12,000, expired (2026-11-23 10:31)",
        "deposit": "Order 2: Yue D A1234 Auction deposit, ¥5,000, pay by 2026-11-23 10:30",
        "sign_in": "Sign in to see your orders",
        "phone": "Your mobile number",
        "gone": "The order is paid: this cannot be done now.",
        "refunded": (
            "Order 1: Yue D A1234 Plate purchase, ¥12,000, paid, ¥2,000 refunded (2026-11-23 10:00)"
        ),
    },
}


def my_orders(app: App, renderer: Renderer, lang: str, phone: str = PHONE) -> Transcript:
    """The account's owner texting from its number, at My orders."""
    chat = Transcript(app, renderer=renderer, user_key=phone, channel="sms", sender_phone=phone)
    chat.say("EN" if lang == "en" else "中文")
    chat.pick("orders")
    return chat


def test_a_pending_order_shows_its_pay_link_and_once_paid_it_is_history(
    app: App, clock: ManualClock, renderer: Renderer, lang: str
) -> None:
    order = pending_order(app, account(app))
    chat = my_orders(app, renderer, lang)
    say = SAY[lang]
    assert say["title"] in chat.text and say["line"] in chat.text
    url = f"http://127.0.0.1:8000/pay/{order.pay_token}"
    assert chat.reply is not None
    assert [(link.label.key, link.url) for link in chat.reply.links] == [("orders.pay", url)]
    assert f"{say['pay']}: {url}" in chat.text  # a URL button on Telegram, "label: url" in text
    assert [c.id for c in chat.reply.choices] == ["cancel:1", "history", "menu"]

    clock.advance(timedelta(minutes=5))
    pay_by_gateway(app, order.id or 0)
    chat.say("")  # an empty message shows the screen again, as it is now
    assert say["none"] in chat.text and url not in chat.text
    chat.pick("history")
    assert say["paid"] in chat.text


def test_an_order_paid_at_the_counter_and_partly_refunded_shows_the_refund_in_history(
    app: App, renderer: Renderer, lang: str
) -> None:
    order = pending_order(app, account(app))
    pay_at_the_counter(app, order.id or 0)
    refund_by_staff(app, order.id or 0, 200_000)
    chat = my_orders(app, renderer, lang)
    chat.pick("history")
    assert SAY[lang]["refunded"] in chat.text


def test_an_order_is_cancelled_from_my_orders_after_a_confirmation(
    app: App, sms: CapturingSender, renderer: Renderer, lang: str
) -> None:
    order = pending_order(app, account(app))
    chat = my_orders(app, renderer, lang)
    say = SAY[lang]
    chat.pick(f"cancel:{order.id}")
    assert say["confirm"] in chat.text
    assert say["gives_up"] not in chat.text  # a plate bought: only the order goes
    chat.pick("keep")  # changed their mind: nothing happens
    assert say["line"] in chat.text
    assert order_of(app, order.id or 0).state is OrderState.PENDING

    chat.pick(f"cancel:{order.id}")
    chat.pick("confirm")
    assert say["cancelled"] in chat.text and say["none"] in chat.text
    assert order_of(app, order.id or 0).state is OrderState.CANCELLED
    with app.uow() as uow:
        move = uow.orders.moves(order.id or 0)[-1]
    assert (move.kind.value, move.cause) == ("cancelled", Cause.USER)
    chat.pick("history")
    assert say["history_cancelled"] in chat.text
    assert sms.sent == []  # the user did it, and saw it done: no notice


def test_an_order_paid_while_the_user_confirms_the_cancel_stays_paid(
    app: App, renderer: Renderer, lang: str
) -> None:
    order = pending_order(app, account(app))
    chat = my_orders(app, renderer, lang)
    chat.pick(f"cancel:{order.id}")
    pay_by_gateway(app, order.id or 0)
    chat.pick("confirm")
    assert SAY[lang]["gone"] in chat.text and SAY[lang]["none"] in chat.text
    assert order_of(app, order.id or 0).state is OrderState.PAID
    assert ledger(app, order.id or 0) == [("placed", 0), ("paid", order.amount)]


def test_an_expired_order_is_no_longer_payable_and_shows_in_history(
    app: App, clock: ManualClock, renderer: Renderer, lang: str
) -> None:
    pending_order(app, account(app))
    clock.advance(timedelta(minutes=31))
    chat = my_orders(app, renderer, lang)  # past the deadline, before the timer came by
    assert SAY[lang]["none"] in chat.text
    assert chat.reply is not None and chat.reply.links == ()
    Timers(app.uow, clock).run_once()
    chat.pick("history")
    assert SAY[lang]["expired"] in chat.text


def test_orders_of_every_purpose_are_shown_and_other_accounts_orders_are_not(
    app: App, renderer: Renderer, lang: str
) -> None:
    owner = account(app)
    pending_order(app, owner)
    pending_order(app, owner, amount=500_000, purpose=Purpose.AUCTION_DEPOSIT, reference="lot:3")
    pending_order(app, account(app, "+8613900139001"), reference="listing:2")
    chat = my_orders(app, renderer, lang)
    assert SAY[lang]["line"] in chat.text and SAY[lang]["deposit"] in chat.text
    assert chat.reply is not None
    assert [c.id for c in chat.reply.choices] == ["cancel:2", "cancel:1", "history", "menu"]
    assert len(chat.reply.links) == 2
    chat.pick("cancel:2")  # an auction deposit: the signup goes with it, and it says so
    assert SAY[lang]["signup_goes"] in chat.text


def test_cancelling_an_auction_balance_says_the_plate_and_the_deposit_go_with_it(
    app: App, renderer: Renderer, lang: str
) -> None:
    owner = account(app)
    pending_order(app, owner, purpose=Purpose.AUCTION_BALANCE, reference="lot:3")
    chat = my_orders(app, renderer, lang)
    chat.pick("cancel:1")
    assert SAY[lang]["gives_up"] in chat.text


def test_the_history_is_shown_a_page_at_a_time(app: App, renderer: Renderer, lang: str) -> None:
    owner = account(app)
    for n in range(6):
        order = pending_order(app, owner, reference=f"listing:{n}")
        pay_at_the_counter(app, order.id or 0, f"R-{n}")
    chat = my_orders(app, renderer, lang)
    chat.pick("history")
    word = "订单" if lang == "zh" else "Order "
    assert all(f"{word}{n}" in chat.text for n in (6, 5, 4, 3))
    assert f"{word}2" not in chat.text
    chat.pick("more")
    assert f"{word}2" in chat.text and f"{word}1" in chat.text and f"{word}3" not in chat.text
    chat.pick("more")  # after the last page, the first again
    assert f"{word}6" in chat.text
    chat.pick("pending")
    assert SAY[lang]["none"] in chat.text


def test_someone_not_signed_in_is_told_how_to_sign_in_and_comes_back_signed_in(
    app: App, sms: CapturingSender, renderer: Renderer, lang: str
) -> None:
    pending_order(app, account(app))
    chat = Transcript(app, renderer=renderer, user_key="stranger", channel="console")
    chat.say("EN" if lang == "en" else "中文")
    chat.pick("orders")
    assert SAY[lang]["sign_in"] in chat.text
    chat.pick("register")
    assert SAY[lang]["phone"] in chat.text
    chat.say("13800138000")
    chat.say(sms.last_code(PHONE))
    assert SAY[lang]["line"] in chat.text  # back at My orders, signed in


def test_orders_to_pay_are_shown_three_a_page_each_with_its_link(
    app: App, renderer: Renderer, lang: str
) -> None:
    owner = account(app)
    for n in range(4):
        pending_order(app, owner, reference=f"listing:{n}")
    chat = my_orders(app, renderer, lang)
    assert chat.reply is not None
    assert [c.id for c in chat.reply.choices] == [
        "cancel:4",
        "cancel:3",
        "cancel:2",
        "more",
        "history",
        "menu",
    ]
    assert len(chat.reply.links) == 3
    chat.pick("more")
    assert [c.id for c in chat.reply.choices] == ["cancel:1", "more", "history", "menu"]
    assert [link.label.params["id"] for link in chat.reply.links] == [1]
