"""Results publicity (SPEC §7, issue 14 item 9): per closed period, each lot sold or unsold,
its final price and the winner's masked bidder number, on every channel (paged for SMS)."""

from __future__ import annotations

import pytest

from core.auction_results import ResultsNotPublished, period_results
from platebot.bootstrap import App
from tests.auction_journey_world import JourneyWorld, closed_period, masked
from tests.support import Renderer

SAY = {
    "zh": {
        "title": "2026年第12期结果：成交2个，共7个",
        "sold1": "1. 粤D·88888 成交¥11,000，竞买号{bidder}",
        "unsold2": "2. 粤D·88887 流拍",
        "sold3": "3. 粤D·88886 成交¥12,000，竞买号{bidder}",
        "unsold7": "7. 粤D·88882 流拍",
        "choice": "2026年第12期（成交2/7）",
    },
    "en": {
        "title": "Auction of 2026-11-23 results: 2 of 7 sold",
        "sold1": "1. Yue D 88888 sold ¥11,000, bidder {bidder}",
        "unsold2": "2. Yue D 88887 unsold",
        "sold3": "3. Yue D 88886 sold ¥12,000, bidder {bidder}",
        "unsold7": "7. Yue D 88882 unsold",
        "choice": "Auction of 2026-11-23 (2/7 sold)",
    },
}


@pytest.fixture
def world(app: App) -> JourneyWorld:
    return JourneyWorld(app)


def test_results_of_a_closed_period_a_page_at_a_time(
    world: JourneyWorld, renderer: Renderer, lang: str
) -> None:
    say = SAY[lang]
    period_id, (first, second) = closed_period(world)
    chat = world.chat(renderer, lang)
    chat.pick("auction")
    chat.pick("results")
    assert say["choice"] in chat.text
    chat.pick(f"result:{period_id}")
    text = " ".join(chat.text.split())
    assert say["title"] in text
    assert say["sold1"].format(bidder=masked(first.bidder_number)) in text
    assert say["unsold2"] in text
    assert say["sold3"].format(bidder=masked(second.bidder_number)) in text
    assert first.bidder_number not in text
    assert say["unsold7"] not in text  # on the next page
    chat.pick("more")
    assert say["unsold7"] in " ".join(chat.text.split())


def test_results_wait_for_the_period_to_close(world: JourneyWorld) -> None:
    period_id = world.period()
    world.start()
    with world.app.uow() as uow, pytest.raises(ResultsNotPublished):
        period_results(uow, period_id)
