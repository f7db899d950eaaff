"""The auction room's short commands by SMS and in the console (SPEC §7, §11): both languages,
any case, in the room and from anywhere for a signed-in bidder with exactly one active signup;
each answer one SMS segment."""

from __future__ import annotations

from datetime import timedelta

import pytest

from platebot.bootstrap import App
from sms.render import render_pages
from sms.segments import segment_count
from tests.auction_journey_world import JourneyWorld
from tests.auction_world import vin
from tests.support import SMS, SMS_BUDGET, Transcript

SAY = {
    "zh": {
        "bid": "出价成功：粤D·88888 ¥11,000，您领先。截止11:01:00（剩60秒）",
        "status": "1 粤D·88888 我¥11,000 现¥11,000 您领先 截止11:01:00",
        "outbid_status": "1 粤D·88888 我¥11,000 现¥12,000 您未领先 截止11:01:00",
        "lots": "2 粤D·88887 ¥10,000 截止11:05:00",
        "lot_chosen": "当前拍品2：粤D·88887 ¥10,000，截止11:05:00",
        "max": "已设自动出价，最高¥30,000：粤D·88888现价¥13,000，您领先",
        "max_off": "粤D·88888的自动出价已取消",
        "none": "您还未出价",
        "menu": "主菜单",
    },
    "en": {
        "bid": "Bid accepted: Yue D 88888 ¥11,000, you lead. Ends 11:01:00 (60 s left)",
        "status": "1 Yue D 88888 mine ¥11,000 now ¥11,000 you lead ends 11:01:00",
        "outbid_status": "1 Yue D 88888 mine ¥11,000 now ¥12,000 you do not lead ends 11:01:00",
        "lots": "2 Yue D 88887 ¥10,000 ends 11:05:00",
        "lot_chosen": "Current lot 2: Yue D 88887 ¥10,000, ends 11:05:00",
        "max": "Automatic bidding up to ¥30,000 set: Yue D 88888 now ¥13,000, you lead",
        "max_off": "Automatic bidding on Yue D 88888 cancelled",
        "none": "No bids from you yet",
        "menu": "Main menu",
    },
}
# The same commands, typed in the other language and other cases.
COMMANDS = {
    "zh": {
        "bid": "出价 1000",
        "status": "状态",
        "lots": "拍品",
        "lot": "拍品 2",
        "max": "最高 30000",
        "off": "最高 0",
    },
    "en": {
        "bid": "b 1000",
        "status": "S",
        "lots": "l",
        "lot": "L 2",
        "max": "MAX 30000",
        "off": "max 0",
    },
}


@pytest.fixture
def world(app: App) -> JourneyWorld:
    return JourneyWorld(app)


def one_segment(chat: Transcript) -> str:
    assert chat.reply is not None
    pages = render_pages(chat.reply, SMS_BUDGET)
    assert len(pages) == 1, pages
    assert segment_count(pages[0]) == 1, pages[0]
    return " ".join(pages[0].split())


@pytest.mark.parametrize("typed_in", ["zh", "en"])
def test_short_commands_from_anywhere_answer_in_one_segment(
    world: JourneyWorld, lang: str, typed_in: str
) -> None:
    say, typed = SAY[lang], COMMANDS[typed_in]
    period_id = world.period(lots=2, bid_countdown_s=60)
    world.signed_up(period_id, [vin(1)])
    rival = world.rival(period_id)
    world.start()
    chat = world.chat(SMS, lang)  # at the main menu, never in the room
    assert say["menu"] in chat.text
    chat.say(typed["status"])
    assert say["none"] in one_segment(chat)
    chat.say(typed["bid"])
    assert say["bid"] in one_segment(chat)
    chat.say(typed["status"])
    assert say["status"] in one_segment(chat)

    world.rival_bids(rival, world.lot_ids[0])
    chat.say("MENU")  # anywhere again
    chat.say(typed["status"])
    assert say["outbid_status"] in one_segment(chat)
    chat.say(typed["max"])  # answers the rival at once: ¥13,000
    assert say["max"] in one_segment(chat)
    chat.say(typed["off"])
    assert say["max_off"] in one_segment(chat)
    chat.say("Ｓ")  # full-width, as some phones type it
    assert say["outbid_status"].split(" ")[1] in one_segment(chat)
    chat.say(typed["lots"])
    assert say["lots"] in " ".join(chat.text.split())
    chat.say(typed["lot"])
    assert say["lot_chosen"] in one_segment(chat)


def test_commands_are_not_taken_from_someone_without_a_running_signup(
    world: JourneyWorld, lang: str
) -> None:
    period_id = world.period()
    world.signed_up(period_id, [vin(1)])
    chat = world.chat(SMS, lang)
    chat.say("S")  # signed up, but the auction has not started: the menu's own answer
    assert SAY[lang]["menu"] in chat.text
    assert SAY[lang]["none"] not in chat.text
    world.start()
    world.clock.advance(timedelta(seconds=1))
    chat.say("MENU")
    chat.say("S")
    assert SAY[lang]["none"] in one_segment(chat)
