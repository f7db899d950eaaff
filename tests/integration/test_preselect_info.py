"""Information pages (SPEC §9) as transcripts: guides, contacts, announcements, in zh and en,
through every renderer."""

from __future__ import annotations

from datetime import timedelta

from core import info
from core.clock import ManualClock
from platebot.bootstrap import App
from tests.preselect_world import add_office
from tests.support import Renderer, Transcript

SAY = {
    "zh": {
        "guides": "办事指南",
        "none": "暂无公告",
        "more": "下一页",
        "gone": "已删除或撤回",
    },
    "en": {
        "guides": "Guides.",
        "none": "No announcements",
        "more": "Next page",
        "gone": "removed or withdrawn",
    },
}


def chat_in(app: App, renderer: Renderer, lang: str) -> Transcript:
    chat = Transcript(app, renderer=renderer, user_key="reader", channel="sms")
    chat.say("EN" if lang == "en" else "中文")
    chat.pick("info")
    return chat


def add(app: App, action: object) -> None:
    with app.uow() as uow:
        action(uow)  # type: ignore[operator]
        uow.commit()


def test_guides_are_listed_a_page_at_a_time_and_read_in_the_users_language(
    app: App, renderer: Renderer, lang: str
) -> None:
    now = app.clock.now()
    for n in range(8):
        add(
            app,
            lambda uow, n=n: info.add_guide(
                uow,
                title=f"指南{n}",
                body=f"正文{n}",
                title_en=f"Guide {n}",
                body_en=f"Text {n}",
                position=n,
                now=now,
            ),
        )
    chat = chat_in(app, renderer, lang)
    chat.pick("guides")
    assert SAY[lang]["guides"] in chat.text
    title = "指南0" if lang == "zh" else "Guide 0"
    assert title in chat.text and ("指南6" if lang == "zh" else "Guide 6") not in chat.text
    chat.pick("more")
    assert ("指南7" if lang == "zh" else "Guide 7") in chat.text
    chat.pick("guide:8")
    assert ("正文7" if lang == "zh" else "Text 7") in chat.text


def test_contacts_of_the_offices_are_shown(app: App, renderer: Renderer, lang: str) -> None:
    add_office(app)
    add(
        app,
        lambda uow: info.add_contact(
            uow,
            name="汕头市车辆管理所",
            name_en="Shantou office",
            phone="0754-1234567",
            address="泰山路1号",
            hours="9:00-17:00",
            office_code="粤D",
        ),
    )
    chat = chat_in(app, renderer, lang)
    chat.pick("contacts")
    assert "0754-1234567" in chat.text and "9:00-17:00" in chat.text
    assert ("汕头市车辆管理所" if lang == "zh" else "Shantou office") in chat.text


def test_announcements_show_while_published_and_not_withdrawn(
    app: App, clock: ManualClock, renderer: Renderer, lang: str
) -> None:
    chat = chat_in(app, renderer, lang)
    chat.pick("announcements")
    assert SAY[lang]["none"] in chat.text
    add(app, lambda uow: info.announce(uow, title="停办通知", body="周六停办业务", now=clock.now()))
    chat.pick("topics")
    chat.pick("announcements")
    chat.pick("announcement:1")
    assert (
        "停办通知" in chat.text and "周六停办业务" in chat.text and "2026-11-23 10:00" in chat.text
    )
    add(app, lambda uow: info.withdraw(uow, 1, clock.now() + timedelta(minutes=1)))
    clock.advance(timedelta(minutes=2))
    chat.say("x")  # any message shows the current page again
    assert SAY[lang]["gone"] in chat.text
