"""Buying a plate at a fixed price as transcripts (SPEC §6): what the user types and sees, in zh
and en, through every renderer, on every database under test."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core import basic_information
from core.clock import ManualClock
from core.orders import Order, OrderState
from core.payments import receive_payment
from core.plates import PlateKind
from core.pools import NumberState
from core.sale import Listing, ListingState
from core.timers import Timers
from platebot.bootstrap import App
from tests.order_world import ledger, order_of
from tests.preselect_world import (
    OTHER_PHONE,
    PERSON_ID,
    PERSON_PHONE,
    UNIT_PHONE,
    add_vehicles,
    cert,
    number_state,
    standard_world,
    vin,
)
from tests.sale_world import list_plate, sale_world, shenzhen_buyer
from tests.support import Renderer, Transcript, choice_ids
from web.sandbox import SandboxGateway

SAY = {
    "zh": {
        "regions": "请选择地区",
        "shantou": "汕头市（2个）",
        "shenzhen": "深圳市（1个）",
        "tiers": "请选择价格",
        "tier_t2": "¥10,000至¥50,000（1个）",
        "list": "在售号牌（第1/1页，共{n}个）",
        "plate": "粤D·16666（小型汽车）",
        "price": "价格：¥12,000",
        "personalised": "个性号牌",
        "ask_vin": "请输入要使用粤D·16666的车辆识别代号",
        "confirm": "购买粤D·16666，¥12,000，用于车辆{vin}",
        "ordered": "已下单：粤D·16666，应付¥12,000。请在2026-11-23 10:30（北京时间）前付款",
        "pay": "付款",
        "sold": "付款成功：粤D·16666已归车辆{vin}所有",
        "cancelled": "订单已取消，粤D·16666已重新上架",
        "expired": "订单逾期未付款已作废，粤D·16666已重新上架",
        "vin_invalid": "车辆识别代号为17位字母或数字",
        "vin_checksum": "校验位（第9位）不正确",
        "not_found": "合格证信息库中没有车辆识别代号",
        "not_yours": "所有人不是您本人",
        "registered": "已登记，不能再购买号牌",
        "preselected": "已在预选号牌",
        "has_plate": "已购买或正在购买号牌",
        "kind": "应使用大型汽车号牌",
        "taken": "粤D·16666刚被其他用户下单或已售出",
        "gone": "该号牌已不在售",
        "empty": "现在没有在售号牌",
        "vin_help": "印在合格证",
        "page2": "在售号牌（第2/2页，共8个）",
    },
    "en": {
        "regions": "Choose a region",
        "shantou": "Shantou, Guangdong (2)",
        "shenzhen": "Shenzhen, Guangdong (1)",
        "tiers": "Choose a price range",
        "tier_t2": "¥10,000 to ¥50,000 (1)",
        "list": "Plates for sale (page 1/1, {n} in all)",
        "plate": "Yue D 16666 (Small car)",
        "price": "Price: ¥12,000",
        "personalised": "Personalised plate",
        "ask_vin": "Enter the VIN (17 characters) of the vehicle Yue D 16666 is for",
        "confirm": "Buy Yue D 16666 for ¥12,000, for vehicle {vin}.",
        "ordered": "Ordered: Yue D 16666, ¥12,000 to pay by 2026-11-23 10:30 (China time)",
        "pay": "Pay",
        "sold": "Paid: Yue D 16666 now belongs to vehicle {vin}",
        "cancelled": "Order cancelled; Yue D 16666 is back on sale",
        "expired": "The order lapsed unpaid; Yue D 16666 is back on sale",
        "vin_invalid": "A VIN has 17 letters and digits",
        "vin_checksum": "check digit (9th character) is wrong",
        "not_found": "is not in the vehicle certificate registry",
        "not_yours": "is not registered to you",
        "registered": "is registered already",
        "preselected": "has a plate pre-selection",
        "has_plate": "has bought a plate already, or an order for one is open",
        "kind": "takes a Large vehicle plate",
        "taken": "Yue D 16666 has just been ordered by another buyer or sold",
        "gone": "That plate is no longer for sale",
        "empty": "No plates are for sale now",
        "vin_help": "it is on the vehicle certificate",
        "page2": "Plates for sale (page 2/2, 8 in all)",
    },
}


@pytest.fixture
def ids(app: App) -> dict[str, int]:
    return sale_world(app)


def start(app: App, renderer: Renderer, lang: str, phone: str = PERSON_PHONE) -> Transcript:
    """An SMS user of ``phone`` (known to the channel), in ``lang``, at the main menu."""
    chat = Transcript(app, renderer=renderer, user_key=phone, channel="sms", sender_phone=phone)
    chat.say("EN" if lang == "en" else "中文")
    return chat


def to_vin(chat: Transcript, ids: dict[str, int], serial: str = "16666") -> None:
    """From the main menu to the VIN question of ``serial`` (a plate of 汕头, ¥10,000–50,000
    for 16666)."""
    chat.pick("buy")
    chat.pick("region:4405")
    chat.pick("tier:any")
    chat.pick(f"plate:{ids[serial]}")
    chat.pick("buy")


def ordered(chat: Transcript, ids: dict[str, int], say: dict[str, str], n: int = 1) -> Order:
    to_vin(chat, ids)
    chat.say(vin(n))
    assert say["confirm"].format(vin=vin(n)) in chat.text
    chat.pick("confirm")
    assert say["ordered"] in chat.text
    return the_order(chat.app)


def the_order(app: App) -> Order:
    with app.uow() as uow:
        orders = uow.orders.listed()
    assert orders
    return orders[0]


def listing(app: App, listing_id: int) -> Listing:
    with app.uow() as uow:
        found = uow.sales.get(listing_id)
        assert found is not None
        return found


def pay(app: App, order: Order) -> None:
    """Money arrives through the sandbox gateway's signed callback."""
    sandbox = app.payments
    assert isinstance(sandbox, SandboxGateway)
    body, headers = sandbox.callback_for(order, app.clock.now())
    notice = sandbox.verify_callback(body, headers, app.clock.now())
    with app.uow() as uow:
        receive_payment(uow, sandbox, notice, app.clock.now())
        uow.commit()


def test_a_buyer_browses_by_region_and_price_buys_pays_and_the_plate_is_theirs(
    app: App, ids: dict[str, int], renderer: Renderer, lang: str
) -> None:
    say = SAY[lang]
    chat = start(app, renderer, lang)
    chat.pick("buy")
    # 汕头's own plates and the personalised one of 深圳; 深圳's 99999 is not for a 汕头 buyer.
    assert say["regions"] in chat.text
    assert say["shantou"] in chat.text and say["shenzhen"] in chat.text
    assert choice_ids(chat) == ["region:4403", "region:4405", "region:all", "menu"]
    chat.pick("region:4405")
    assert say["tiers"] in chat.text and say["tier_t2"] in chat.text
    assert choice_ids(chat)[:2] == ["tier:t2", "tier:t3"]
    chat.pick("tier:t2")
    assert say["list"].format(n=1) in chat.text and "¥12,000" in chat.text
    chat.pick(f"plate:{ids['16666']}")
    assert say["plate"] in chat.text and say["price"] in chat.text
    chat.pick("buy")
    assert say["ask_vin"] in chat.text
    chat.say(vin(1).lower())
    assert say["confirm"].format(vin=vin(1)) in chat.text
    chat.pick("confirm")
    assert say["ordered"] in chat.text
    order = the_order(app)
    assert (order.amount, order.subject, order.state) == (
        1_200_000,
        "粤D·16666",
        OrderState.PENDING,
    )
    assert (order.deadline - order.created_at) == timedelta(minutes=30)
    pay_url = app.payments.pay_url(order)
    assert pay_url in chat.text  # a URL button on Telegram, "Pay: url" by SMS and console
    assert say["pay"] in chat.text
    held = listing(app, ids["16666"])
    assert (held.state, held.order_id, held.vin) == (ListingState.HELD, order.id, vin(1))
    # Held: no longer in anyone's list.
    other = start(app, renderer, lang, phone=UNIT_PHONE)
    other.pick("buy")
    other.pick("region:4405")
    other.pick("tier:any")
    assert f"plate:{ids['16666']}" not in choice_ids(other)

    pay(app, order)
    chat.pick("check")

    assert say["sold"].format(vin=vin(1)) in chat.text
    sold = listing(app, ids["16666"])
    assert (sold.state, sold.vin, sold.account_id) == (ListingState.SOLD, vin(1), order.account_id)
    assert number_state(app, "16666") == NumberState.ISSUED
    assert order_of(app, order.id or 0).state is OrderState.PAID
    other.pick("tiers")
    assert say["tiers"] in other.text
    assert say["tier_t2"] not in other.text  # 16666 was the only plate of that price


def test_a_buyer_cancels_the_order_and_the_plate_is_back_on_sale(
    app: App, ids: dict[str, int], renderer: Renderer, lang: str
) -> None:
    say = SAY[lang]
    chat = start(app, renderer, lang)
    order = ordered(chat, ids, say)

    chat.pick("cancel_order")

    assert say["cancelled"] in chat.text
    assert order_of(app, order.id or 0).state is OrderState.CANCELLED
    back = listing(app, ids["16666"])
    assert (back.state, back.order_id, back.vin) == (ListingState.LISTED, None, None)
    assert number_state(app, "16666") == NumberState.FOR_SALE
    assert ledger(app, order.id or 0) == [("placed", 0), ("cancelled", 0)]
    # The same vehicle may order again.
    chat.pick("regions")
    chat.pick("region:4405")
    chat.pick("tier:any")
    chat.pick(f"plate:{ids['16666']}")
    chat.pick("buy")
    chat.say(vin(1))
    assert say["confirm"].format(vin=vin(1)) in chat.text


@pytest.mark.parametrize("typed", ["Cancel.", "取消。", "cancel!"])
def test_the_cancel_keyword_with_punctuation_leaves_the_order_as_it_is(
    app: App, ids: dict[str, int], renderer: Renderer, lang: str, typed: str
) -> None:
    """The order's screen has "Cancel the order", but "Cancel." is the keyword (stop what you
    are doing, nothing saved), not that option: the order stays to be paid."""
    say = SAY[lang]
    chat = start(app, renderer, lang)
    order = ordered(chat, ids, say)

    chat.say(typed)

    assert say["cancelled"] not in chat.text
    assert order_of(app, order.id or 0).state is OrderState.PENDING
    assert listing(app, ids["16666"]).state is ListingState.HELD


def test_an_unpaid_order_expires_and_the_plate_is_back_on_sale(
    app: App, clock: ManualClock, ids: dict[str, int], renderer: Renderer, lang: str
) -> None:
    say = SAY[lang]
    chat = start(app, renderer, lang)
    order = ordered(chat, ids, say)
    timers = Timers(app.uow, app.clock)
    clock.advance(timedelta(minutes=15))
    chat.pick("check")
    assert say["ordered"] in chat.text  # still waiting for the money
    clock.advance(timedelta(minutes=15))
    timers.run_once()
    assert listing(app, ids["16666"]).state is ListingState.HELD  # not past the deadline yet

    clock.advance(timedelta(seconds=1))
    timers.run_once()
    chat.pick("check")

    assert say["expired"] in chat.text
    assert order_of(app, order.id or 0).state is OrderState.EXPIRED
    assert listing(app, ids["16666"]).state is ListingState.LISTED
    # Money that arrives now goes back (payments does that); the plate stays on sale.
    pay(app, order)
    assert order_of(app, order.id or 0).refunded == order.amount
    assert listing(app, ids["16666"]).state is ListingState.LISTED


def test_a_buyer_sees_plates_of_their_certificate_location_and_personalised_ones(
    app: App, ids: dict[str, int], renderer: Renderer, lang: str
) -> None:
    say = SAY[lang]
    shenzhen_buyer(app)
    shantou = start(app, renderer, lang)
    shantou.pick("buy")
    shantou.pick("region:all")
    shantou.pick("tier:any")
    shown = [c for c in choice_ids(shantou) if c.startswith("plate:")]
    assert shown == [f"plate:{ids[s]}" for s in ("AB888", "16666", "18888")]  # cheapest first
    assert say["list"].format(n=3) in shantou.text

    shenzhen = start(app, renderer, lang, phone=OTHER_PHONE)
    shenzhen.pick("buy")
    # Only 深圳 has plates this buyer may see: the region is not asked.
    assert say["tiers"] in shenzhen.text
    shenzhen.pick("tier:any")
    shown = [c for c in choice_ids(shenzhen) if c.startswith("plate:")]
    assert shown == [f"plate:{ids[s]}" for s in ("AB888", "99999")]
    shenzhen.pick(f"plate:{ids['AB888']}")
    assert say["personalised"] in shenzhen.text


@pytest.mark.parametrize(
    "typed",
    [
        "Yue D 16666",  # as English screens show it
        "yue d 18888",
        "粤D·16666",  # as Chinese screens show it
        "粤d·18888",
        "ab888",  # the serial alone, where it is not a number
    ],
)
def test_a_plate_is_picked_by_typing_it_as_either_language_writes_it(
    app: App, ids: dict[str, int], renderer: Renderer, lang: str, typed: str
) -> None:
    chat = start(app, renderer, lang)
    chat.pick("buy")
    chat.pick("region:all")
    chat.pick("tier:any")
    assert ("Yue D 16666 ¥12,000" if lang == "en" else "粤D·16666 ¥12,000") in chat.text
    chat.say(typed)
    serial = typed[-5:].upper()
    shown = f"Yue D {serial} (" if lang == "en" else f"粤D·{serial}（"
    assert shown in chat.text and "buy" in choice_ids(chat)


def test_a_plate_of_another_region_cannot_be_reached_by_its_number(
    app: App, ids: dict[str, int], renderer: Renderer, lang: str
) -> None:
    chat = start(app, renderer, lang)
    chat.pick("buy")
    chat.pick("region:4405")
    chat.pick("tier:any")
    chat.say(f"plate:{ids['99999']}")  # typed, not offered
    assert listing(app, ids["99999"]).state is ListingState.LISTED
    assert "99999" not in chat.text


@pytest.mark.parametrize(
    "case", ["vin_invalid", "vin_checksum", "not_found", "not_yours", "registered", "kind"]
)
def test_a_wrong_vin_is_refused_with_the_reason_and_asked_again(
    app: App, ids: dict[str, int], renderer: Renderer, lang: str, case: str
) -> None:
    say = SAY[lang]
    add_vehicles(
        app,
        [
            (vin(4), cert(4), PERSON_ID, PlateKind.LARGE),
        ],
    )
    with app.uow() as uow:
        record = uow.registry.get(vin(2))
        assert record is not None
        record.registered = True
        uow.commit()
    typed = {
        "vin_invalid": "LGBH52E0",
        "vin_checksum": vin(1)[:8] + ("1" if vin(1)[8] != "1" else "2") + vin(1)[9:],
        "not_found": vin(99),
        "not_yours": vin(11),  # the unit's
        "registered": vin(2),
        "kind": vin(4),  # a large vehicle, and 16666 is a small car's plate
    }[case]
    chat = start(app, renderer, lang)
    to_vin(chat, ids)
    chat.say("?")
    assert say["vin_help"] in chat.text

    chat.say(typed)

    assert say[case] in chat.text
    assert say["ask_vin"] in chat.text  # asked again
    assert listing(app, ids["16666"]).state is ListingState.LISTED
    with app.uow() as uow:
        assert not uow.orders.listed()


def test_a_vehicle_with_a_pre_selection_or_a_plate_bought_is_refused(
    app: App, ids: dict[str, int], renderer: Renderer, lang: str
) -> None:
    say = SAY[lang]
    chat = start(app, renderer, lang)
    order = ordered(chat, ids, say, n=1)
    pay(app, order)
    chat.pick("check")
    chat.pick("regions")
    chat.pick("region:4405")
    chat.pick("tier:any")
    chat.pick(f"plate:{ids['18888']}")
    chat.pick("buy")
    chat.say(vin(1))
    assert say["has_plate"] in chat.text
    # a vehicle with a pre-selection started
    with app.uow() as uow:
        account = uow.accounts.by_phone(PERSON_PHONE)
        assert account is not None
        basic_information.begin(
            uow,
            now=app.clock.now(),
            account=account,
            office_code="粤D",
            vin=vin(3),
            certificate_no=cert(3),
        )
        uow.commit()
    chat.say(vin(3))
    assert say["preselected"] in chat.text


def test_a_plate_taken_meanwhile_is_refused_and_the_buyer_chooses_another(
    app: App, ids: dict[str, int], renderer: Renderer, lang: str
) -> None:
    say = SAY[lang]
    first = start(app, renderer, lang)
    to_vin(first, ids)
    first.say(vin(1))
    second = start(app, renderer, lang, phone=UNIT_PHONE)
    to_vin(second, ids)
    second.say(vin(11))
    assert say["confirm"].format(vin=vin(11)) in second.text

    first.pick("confirm")
    assert say["ordered"] in first.text
    second.pick("confirm")

    assert say["taken"] in second.text and say["gone"] in second.text
    assert choice_ids(second) == ["list", "menu"]
    with app.uow() as uow:
        orders = uow.orders.listed()
        unit = uow.accounts.by_phone(UNIT_PHONE)
    assert len(orders) == 1 and unit is not None and orders[0].account_id != unit.id
    second.pick("list")
    assert f"plate:{ids['16666']}" not in choice_ids(second)
    assert f"plate:{ids['18888']}" in choice_ids(second)


def test_a_long_list_comes_a_page_of_five_at_a_time_cheapest_first(
    app: App, ids: dict[str, int], renderer: Renderer, lang: str
) -> None:
    more = [list_plate(app, f"6666{n}", (20_000 + n) * 100) for n in range(5)]
    chat = start(app, renderer, lang)
    chat.pick("buy")
    chat.pick("region:all")
    chat.pick("tier:any")
    first = [c for c in choice_ids(chat) if c.startswith("plate:")]
    cheapest = [ids["AB888"], ids["16666"], *more[:3]]
    assert first == [f"plate:{i}" for i in cheapest]

    chat.pick("more")

    assert SAY[lang]["page2"] in chat.text
    second = [c for c in choice_ids(chat) if c.startswith("plate:")]
    assert second == [f"plate:{i}" for i in (*more[3:], ids["18888"])]


def test_nothing_for_sale_says_so(app: App, renderer: Renderer, lang: str) -> None:
    standard_world(app)
    chat = start(app, renderer, lang)
    chat.pick("buy")
    assert SAY[lang]["empty"] in chat.text
    assert choice_ids(chat) == ["menu"]


def test_a_newcomer_is_asked_to_register_first(app: App, ids: dict[str, int]) -> None:
    chat = Transcript(app, user_key="+8613600136000", channel="sms", sender_phone="+8613600136000")
    chat.say("EN")
    chat.pick("buy")
    assert "You need an account for that" in chat.text
