"""The first bid of a lot may be its starting price (SPEC §7), by hand as by a maximum: while the
lot has no bid the room offers it, and ``B`` / ``出价`` alone bids it; once someone has bid it
is refused with the price and the raises, never turned into a raise. Transcripts in zh and en,
through every renderer, on every database under test."""

from __future__ import annotations

import pytest

from core.auctions import YUAN
from platebot.bootstrap import App
from tests.auction_journey_world import JourneyWorld, Rival
from tests.auction_world import vin
from tests.support import Renderer, Transcript, choice_ids, flat

SAY = {
    "zh": {
        "ask": "按起拍价出价，或选择加价",
        "choice": "按起拍价¥10,000出价",
        "bare": "出价",
        "accepted": "出价成功：粤D·88888 ¥10,000，您领先",
        "has_price": "已有人出价，现价¥11,000",
        "raises": "加价须为¥1,000 ¥2,000 ¥3,000 ¥4,000 ¥5,000之一，如B 1000",
        "telegram_raises": "请选择加价",
    },
    "en": {
        "ask": "Bid the starting price, or raise it by:",
        "choice": "Bid the starting price ¥10,000",
        "bare": "B",
        "accepted": "Bid accepted: Yue D 88888 ¥10,000, you lead",
        "has_price": "The lot has a bid already: the price is ¥11,000.",
        "raises": "Raise by one of ¥1,000 ¥2,000 ¥3,000 ¥4,000 ¥5,000, e.g. B 1000.",
        "telegram_raises": "Press a raise.",
    },
}
START = "bid:start"
RAISES = [f"bid:{n * 1_000 * YUAN}" for n in range(1, 6)]


@pytest.fixture
def world(app: App) -> JourneyWorld:
    return JourneyWorld(app)


def price(world: JourneyWorld) -> int | None:
    with world.app.uow() as uow:
        lot = uow.auctions.lot(world.lot_ids[0])
    assert lot is not None
    return lot.price_fen


def in_the_room(world: JourneyWorld, renderer: Renderer, lang: str) -> tuple[Transcript, Rival]:
    """The world's user and a rival signed up; the user in the room of the lot, bidding
    started, no bid yet."""
    period_id = world.period(bid_countdown_s=60)
    me, code, _ = world.signed_up(period_id, [vin(1)])
    rival = world.rival(period_id)
    world.start()
    chat = world.chat(renderer, lang)
    chat.pick("auction")
    chat.pick("room")
    chat.say(f"{me.bidder_number} {code}")
    return chat, rival


def test_a_lot_with_no_bid_offers_its_starting_price_before_the_raises(
    world: JourneyWorld, renderer: Renderer, lang: str
) -> None:
    say = SAY[lang]
    chat, _ = in_the_room(world, renderer, lang)
    assert say["ask"] in flat(chat.text)
    assert say["choice"] in flat(chat.text)
    assert choice_ids(chat)[:6] == [START, *RAISES]


def test_a_first_bid_at_the_starting_price_by_its_choice(
    world: JourneyWorld, renderer: Renderer, lang: str
) -> None:
    say = SAY[lang]
    chat, _ = in_the_room(world, renderer, lang)
    chat.pick(START)
    assert say["accepted"] in flat(chat.text)
    assert price(world) == 10_000 * YUAN
    assert START not in choice_ids(chat), "the lot has a price: raises only"
    assert choice_ids(chat)[:5] == RAISES


def test_a_bare_b_bids_the_starting_price_of_a_lot_with_no_bid(
    world: JourneyWorld, renderer: Renderer, lang: str
) -> None:
    say = SAY[lang]
    chat, _ = in_the_room(world, renderer, lang)
    chat.say(say["bare"])
    assert say["accepted"] in flat(chat.text)
    assert price(world) == 10_000 * YUAN


def test_the_starting_price_is_refused_once_someone_has_bid_and_raises_are_told(
    world: JourneyWorld, renderer: Renderer, lang: str
) -> None:
    say = SAY[lang]
    chat, rival = in_the_room(world, renderer, lang)
    assert START in choice_ids(chat)
    world.rival_bids(rival, world.lot_ids[0])  # first, meanwhile: ¥11,000
    chat.pick(START)  # from the screen shown before that bid
    raises = say["telegram_raises"] if renderer.name == "telegram" else say["raises"]
    assert say["has_price"] in flat(chat.text)
    assert raises in flat(chat.text)
    assert price(world) == 11_000 * YUAN, "refused, not made a raise"
    assert START not in choice_ids(chat)
    chat.say("B")  # alone, on a lot with a price
    assert say["has_price"] in flat(chat.text)
    assert raises in flat(chat.text)
    chat.say("B 1000")  # a raise still means a raise
    assert price(world) == 12_000 * YUAN
    with world.app.uow() as uow:
        trail = list(uow.auctions.bids(world.lot_ids[0]))
    assert [(bid.amount_fen, bid.refusal) for bid in trail] == [
        (11_000 * YUAN, None),
        (None, "auction.lot_has_price"),
        (None, "auction.lot_has_price"),
        (12_000 * YUAN, None),
    ]
