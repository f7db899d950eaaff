"""What a newcomer's SMS journey costs: registering and pre-selecting a plate, over the real SMS
channel (paging and all), counted in segments (SPEC §11). Every SMS counts, pages included."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from core.clock import ManualClock
from core.plates import PlateKind
from platebot.bootstrap import App
from sms.channel import IncomingSms, SmsChannel
from sms.segments import Encoding, encoding_of, segment_count
from tests.preselect_world import OTHER_ID, add_numbers, add_office, add_vehicles, cert, vin
from tests.sms_support import new_sid
from tests.support import CapturingSender

PHONE = "+8613700137000"
BUDGET = 2
# Registration and a full pre-selection, in segments of the replies (issue 11: 31 and 40; in
# English 21 while the plate was shown as 粤D·, which made its reply UCS-2).
MOST = {"zh": 20, "en": 20}
MORE = {"zh": "回复N看更多", "en": "Reply N for more"}
WORDS = {
    "zh": {
        "hello": "你好",
        "preselect": "新车预选号牌",
        "person": "自然人",
        "name": "张三",
        "skip": "跳过",
        "address": "汕头市龙湖区长平路1号",
        "category": "新车车主",
        "confirm": "确认",
        "start": "提交信息",
        "next": "下一步",
        "agree": "同意",
        "verify": "短信验证",
        "draw": "随机选号",
        "result": "预选成功：粤D·",
    },
    "en": {
        "hello": "EN",
        "preselect": "Pre-select",
        "person": "Natural person",
        "name": "Zhang San",
        "skip": "Skip",
        "address": "1 Changping Road, Longhu, Shantou",
        "category": "New-car owner",
        "confirm": "OK",
        "start": "Submit",
        "next": "Next",
        "agree": "agree",
        "verify": "Verify",
        "draw": "Random batch",
        "result": "Pre-selected: Yue D ",
    },
}


@dataclass
class Newcomer:
    """A phone texting the SMS channel, reading every page of every reply."""

    channel: SmsChannel
    app: App
    more: str
    received: list[str] = field(default_factory=list)
    turns: int = 0

    def send(self, text: str) -> str:
        self.turns += 1
        [answer] = self.channel.receive(IncomingSms(new_sid(), PHONE, text))
        self.app.dispatcher.run_once()
        self.received.append(answer)
        if answer.endswith("\n" + self.more):
            return answer.removesuffix(self.more) + self.send("N")
        return answer

    def pick(self, shown: str, words: str) -> str:
        """Reply with the number of the choice with ``words`` on the last page read."""
        for line in shown.split("\n"):
            if (match := re.match(r"(\d+) (.*)", line)) and words in match.group(2):
                return self.send(match.group(1))
        raise AssertionError(f"no choice {words!r} in:\n{shown}")

    @property
    def segments(self) -> int:
        return sum(segment_count(sms) for sms in self.received)


@pytest.fixture
def world(app: App) -> App:
    """粤D of Shantou, with the English names staff gave it, a pool, and the newcomer's car."""
    add_office(
        app,
        name_en="Shantou Vehicle Management Office",
        address_en="1 Taishan Road, Longhu, Shantou",
        notice_en="Give true vehicle information.",
    )
    add_numbers(app, [f"{10000 + i}" for i in range(30)])
    add_vehicles(app, [(vin(1), cert(1), OTHER_ID, PlateKind.SMALL)])
    return app


def journey(app: App, sms: CapturingSender, clock: ManualClock, lang: str) -> Newcomer:
    """From the first SMS to the pre-selected plate, choosing by number as SMS users do."""
    say = WORDS[lang]
    channel = SmsChannel(
        app.dialogs,
        app.db,
        app.clock,
        budget=BUDGET,
        default_language=app.settings.default_language,
        idle_minutes=app.settings.idle_minutes,
    )
    user = Newcomer(channel, app, MORE[lang])
    shown = user.send(say["hello"])
    shown = user.pick(shown, say["preselect"])
    shown = user.pick(shown, say["person"])
    user.send(say["name"])
    shown = user.send(OTHER_ID)
    shown = user.pick(shown, say["skip"])
    shown = user.send(say["address"])
    shown = user.pick(shown, say["category"])
    user.pick(shown, say["confirm"])
    shown = user.send(sms.last_code(PHONE))
    shown = user.pick(shown, say["start"])
    shown = user.pick(shown, say["next"])
    user.pick(shown, say["agree"])
    shown = user.send(f"{vin(1)} {cert(1)}")  # both in one SMS, as the question says one may
    clock.advance(timedelta(minutes=2))
    shown = user.pick(shown, say["verify"])
    if not any(say["draw"] in line for line in shown.split("\n")):
        shown = user.send(sms.last_code(PHONE))
    shown = user.pick(shown, say["draw"])
    shown = user.send("1")
    assert say["result"] in shown
    return user


def test_registering_and_pre_selecting_by_sms_costs_few_segments(
    world: App, sms: CapturingSender, clock: ManualClock, lang: str
) -> None:
    user = journey(world, sms, clock, lang)
    assert all(segment_count(reply) <= BUDGET for reply in user.received)
    assert user.segments <= MOST[lang], "\n\n".join(user.received)


def test_an_english_journey_is_plain_gsm_plate_and_all(
    world: App, sms: CapturingSender, clock: ManualClock
) -> None:
    """SPEC §13: English names of offices and regions, and the plate as English writes it
    (``Yue D 10003``, not ``粤D·10003``): not one reply is UCS-2."""
    user = journey(world, sms, clock, "en")
    ucs2 = [reply for reply in user.received if encoding_of(reply) is Encoding.UCS2]
    assert ucs2 == []
    assert re.search(r"Pre-selected: Yue D 100\d\d,", user.received[-1]), user.received[-1]
