"""The practice auction (issue 14 item 10): the room screen against a simulated rival, by the
injected clock, every screen marked as practice, nothing saved; through every renderer, zh and
en."""

from __future__ import annotations

from datetime import timedelta

from core.clock import ManualClock
from platebot.bootstrap import App
from tests.preselect_world import snapshot
from tests.support import Renderer, Transcript

SECONDS = timedelta(seconds=1)
K = 100_000  # ¥1,000 in fen

SAY = {
    "zh": {
        "banner": "【模拟竞买，不保存】",
        "accepted": "出价成功：{amount}，您领先。",
        "rival_bid": "对手 88****17 出价{amount}，您的出价已被超过。",
        "leading": "您已领先，不能给自己加价。",
        "won": "模拟结果：您以¥17,000竞得（练习，不生效）。",
        "lost": "模拟结果：对手 88****17 以¥10,000竞得。",
        "unsold": "模拟结果：无人出价，流拍。",
        "too_late": "已过截止时间，出价无效。",
        "start": "按起拍价¥10,000出价",
        "has_price": "已有人出价，现价¥11,000，请选择加价。",
        "menu": "主菜单",
    },
    "en": {
        "banner": "[Practice auction: nothing saved]",
        "accepted": "Bid accepted: {amount}. You lead.",
        "rival_bid": "Rival 88****17 bid {amount}: you were outbid.",
        "leading": "You lead already: you cannot raise your own bid.",
        "won": "Practice result: you won at ¥17,000 (practice, not valid).",
        "lost": "Practice result: rival 88****17 won at ¥10,000.",
        "unsold": "Practice result: nobody bid, unsold.",
        "too_late": "Too late: the lot had closed, the bid does not count.",
        "start": "Bid the starting price ¥10,000",
        "has_price": "The lot has a bid already: the price is ¥11,000. Pick a raise.",
        "menu": "Main menu",
    },
}


def start(app: App, renderer: Renderer, lang: str) -> Transcript:
    chat = Transcript(app, renderer=renderer, user_key="u-practice", channel="sms")
    chat.say("EN" if lang == "en" else "中文")
    return chat


def test_a_practice_auction_is_won_by_outlasting_the_rival_and_nothing_is_saved(
    app: App, clock: ManualClock, renderer: Renderer, lang: str
) -> None:
    say = SAY[lang]
    chat = start(app, renderer, lang)
    before = snapshot(app, skip={"conversations", "inbound_messages", "sms_replies"})
    chat.pick("auction")
    chat.pick("practice")
    screens = [chat.reply]
    assert say["banner"] in chat.text and "¥10,000" in chat.text and "60" in chat.text
    clock.advance(2 * SECONDS)
    chat.pick(f"bid:{K}")
    screens.append(chat.reply)
    assert say["accepted"].format(amount="¥11,000") in chat.text
    assert say["rival_bid"].format(amount="¥12,000") in chat.text
    clock.advance(5 * SECONDS)
    chat.pick(f"bid:{3 * K}")
    assert say["rival_bid"].format(amount="¥16,000") in chat.text, "its limit"
    clock.advance(5 * SECONDS)
    chat.pick(f"bid:{K}")
    screens.append(chat.reply)
    assert say["accepted"].format(amount="¥17,000") in chat.text
    if renderer.name == "telegram":  # SMS and the console leave the list of bids out
        assert "88****17 ¥16,000" in chat.text, "the recent bids"
    assert "20" in chat.text, "20 s left: the bid countdown from the bid"
    chat.pick(f"bid:{K}")
    assert say["leading"] in chat.text
    clock.advance(19 * SECONDS)
    chat.pick("refresh")
    assert say["won"] not in chat.text, "a second to go"
    clock.advance(SECONDS)
    chat.pick("refresh")
    screens.append(chat.reply)
    assert say["won"] in chat.text
    assert [c.id for c in chat.reply.choices] == ["again", "leave"]  # type: ignore[union-attr]
    assert all(reply is not None and reply.practice for reply in screens)
    chat.pick("leave")
    assert say["menu"] in chat.text
    after = snapshot(app, skip={"conversations", "inbound_messages", "sms_replies"})
    assert after == before, "nothing saved"


def test_the_rival_opens_and_wins_a_practice_lot_left_alone(
    app: App, clock: ManualClock, renderer: Renderer, lang: str
) -> None:
    say = SAY[lang]
    chat = start(app, renderer, lang)
    chat.pick("auction")
    chat.pick("practice")
    clock.advance(10 * SECONDS)
    chat.pick("refresh")
    assert "88****17" in chat.text and "¥10,000" in chat.text, "the rival's opening bid"
    clock.advance(20 * SECONDS)
    chat.pick("refresh")
    assert say["lost"] in chat.text
    chat.pick("again")
    assert say["banner"] in chat.text and "¥10,000" in chat.text
    assert say["lost"] not in chat.text


def test_a_bid_typed_as_the_sms_command_counts_and_one_after_the_close_does_not(
    app: App, clock: ManualClock, renderer: Renderer, lang: str
) -> None:
    say = SAY[lang]
    chat = start(app, renderer, lang)
    chat.pick("auction")
    chat.pick("practice")
    chat.say("B 2000" if lang == "en" else "出价 2000")
    assert say["accepted"].format(amount="¥12,000") in chat.text
    assert say["rival_bid"].format(amount="¥13,000") in chat.text
    clock.advance(20 * SECONDS)
    chat.say("B 1000")
    assert say["too_late"] in chat.text
    assert say["lost"].replace("¥10,000", "¥13,000") in chat.text


def test_the_practice_lot_offers_its_starting_price_as_the_first_bid_only(
    app: App, clock: ManualClock, renderer: Renderer, lang: str
) -> None:
    say = SAY[lang]
    chat = start(app, renderer, lang)
    chat.pick("auction")
    chat.pick("practice")
    assert say["start"] in chat.text
    assert [c.id for c in chat.reply.choices][:2] == ["bid:start", f"bid:{K}"]  # type: ignore[union-attr]
    chat.pick("bid:start")
    assert say["accepted"].format(amount="¥10,000") in chat.text
    assert say["rival_bid"].format(amount="¥11,000") in chat.text
    assert say["start"] not in chat.text
    chat.say("B" if lang == "en" else "出价")  # alone: the starting price, refused now
    assert say["has_price"] in " ".join(chat.text.split())
