"""The SMS channel on a real database: paging, STOP/START/HELP, duplicates. (Over HTTP with
signatures: tests/e2e/test_sms_webhook.py.)"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.clock import ManualClock
from core.outbox import OutboxStatus
from platebot.bootstrap import App
from sms.channel import IncomingSms, SmsChannel
from sms.records import SmsRecords
from sms.segments import segment_count
from store.tables import outbox
from tests.sms_support import new_sid
from tests.support import CapturingSender

PHONE = "+8613800138000"
PERSON_ID = "440304199001011233"
MORE_ZH = "回复N看更多"


def channel(app: App, budget: int = 2) -> SmsChannel:
    return SmsChannel(
        app.dialogs,
        app.db,
        app.clock,
        budget=budget,
        default_language=app.settings.default_language,
        idle_minutes=app.settings.idle_minutes,
    )


class Texter:
    """One phone texting the channel; ``send`` returns the answer's text."""

    def __init__(self, sms_channel: SmsChannel, phone: str = PHONE) -> None:
        self.channel = sms_channel
        self.phone = phone
        self.sid = ""

    def send(self, text: str, sid: str | None = None, opt_out_type: str | None = None) -> str:
        self.sid = sid or new_sid()
        messages = self.channel.receive(IncomingSms(self.sid, self.phone, text, opt_out_type))
        assert len(messages) == 1
        assert segment_count(messages[0]) <= self.channel.budget
        return messages[0]


def to_summary(texter: Texter) -> str:
    for text in ("hi", "3", "1", "张三", PERSON_ID, "1", "深圳市福田区深南大道1008号华润大厦A座"):
        texter.send(text)
    return texter.send("1")


def opted_out(app: App, phone: str = PHONE) -> bool:
    with SmsRecords.begin(app.db) as records:
        return records.is_opted_out(phone)


def test_reply_over_budget_is_paged_and_n_brings_each_next_page(app: App) -> None:
    texter = Texter(channel(app, budget=1))  # 70 Chinese characters
    first = to_summary(texter)
    assert first.startswith("核对") and first.endswith(MORE_ZH)
    pages = [first]
    while pages[-1].endswith(MORE_ZH):
        pages.append(texter.send("N"))
    assert len(pages) == 2
    assert pages[-1].endswith("1 确认并发送验证码\n2 重新填写")
    shown = "\n".join(page.removesuffix(MORE_ZH) for page in pages)
    assert "4403**********1233" in shown and "深圳市福田区深南大道1008号华润大厦A座" in shown
    assert "6位验证码" in texter.send("1")  # numbers count across pages


def test_pages_wait_in_the_database_across_a_restart(app: App) -> None:
    to_summary(Texter(channel(app, budget=1)))
    again = Texter(channel(app, budget=1))  # another server process
    assert again.send("n").endswith("2 重新填写")


def test_a_second_delivery_of_n_does_not_skip_a_page(app: App) -> None:
    texter = Texter(channel(app, budget=1))
    to_summary(texter)
    first = texter.send("帮助")  # what the service is, then the summary again: 3 SMS
    second = texter.send("N")
    assert texter.send("N", sid=texter.sid) == second  # Twilio delivered it twice
    third = texter.send("N")
    assert first.startswith("号牌助手") and second != third
    assert third.endswith("2 重新填写")


def test_after_any_other_message_n_is_just_a_word_to_the_dialog(app: App) -> None:
    texter = Texter(channel(app, budget=1))
    to_summary(texter)
    assert "注册类型" in texter.send("2")  # start over: the rest of the summary is no use now
    assert "请回复1到2之间的序号" in texter.send("N")


def test_a_late_second_delivery_does_not_bring_old_pages_back(app: App) -> None:
    texter = Texter(channel(app, budget=1))
    summary = to_summary(texter)
    summary_sid = texter.sid
    texter.send("2")
    assert texter.send("1", sid=summary_sid) == summary  # Twilio retried an old webhook
    assert "请回复1到2之间的序号" in texter.send("N")


def test_pages_are_forgotten_once_the_conversation_would_have_ended(
    app: App, clock: ManualClock
) -> None:
    texter = Texter(channel(app, budget=1))
    to_summary(texter)
    clock.advance(timedelta(minutes=21))
    assert texter.send("N").startswith("您已20分钟未回复，会话已结束")


@pytest.mark.parametrize(
    "word", ["STOP", "stop", "Stop", " 退订 ", "StopAll", "UNSUBSCRIBE", "quit"]
)
def test_stop_words_opt_out_in_any_case_and_language(app: App, word: str) -> None:
    texter = Texter(channel(app))
    texter.send("hi")
    assert texter.send(word) == "已退订，我们不再给您发短信（含验证码）。回复START恢复。"
    assert opted_out(app)


def test_stop_is_answered_in_the_users_language(app: App) -> None:
    texter = Texter(channel(app))
    texter.send("EN")
    assert texter.send("STOP").startswith("You are unsubscribed")


def test_cancel_stops_the_dialog_not_the_sms(app: App) -> None:
    texter = Texter(channel(app))
    texter.send("hi")
    texter.send("1")
    assert "已取消" in texter.send("cancel")
    assert not opted_out(app)


def test_opted_out_number_gets_no_code_until_it_sends_start(
    app: App, sms: CapturingSender, clock: ManualClock
) -> None:
    texter = Texter(channel(app))
    texter.send("退订")
    assert "6位验证码" in to_summary_and_confirm(texter)
    app.dispatcher.run_once()
    assert sms.sent == []
    with app.db.connect() as conn:
        assert conn.execute(sa.select(outbox.c.status)).scalar_one() == OutboxStatus.SKIPPED
    assert "已恢复接收短信" in texter.send("START")
    assert not opted_out(app)
    texter.send("3")  # register again from the menu
    clock.advance(timedelta(minutes=2))
    to_summary_and_confirm(texter, fresh=False)
    app.dispatcher.run_once()
    assert len(sms.sent) == 1 and sms.sent[0][0] == PHONE


def to_summary_and_confirm(texter: Texter, *, fresh: bool = True) -> str:
    steps = ("hi", "3") if fresh else ()
    for text in (*steps, "1", "张三", PERSON_ID, "1", "深圳市福田区深南大道1008号华润大厦A座", "1"):
        texter.send(text)
    return texter.send("1")


def test_start_when_not_opted_out_just_shows_the_menu(app: App) -> None:
    texter = Texter(channel(app))
    texter.send("hi")
    reply = texter.send("start")
    assert "主菜单" in reply and "已恢复" not in reply


def test_help_tells_what_the_service_is_how_to_stop_and_where_one_stands(app: App) -> None:
    texter = Texter(channel(app))
    texter.send("hi")
    texter.send("1")
    reply = texter.send("HELP")
    assert "号牌助手" in reply and "退订" in reply and "注册类型" in reply
    assert "注册将手机号与身份绑定" in texter.send("?")  # the step's own help comes from "?"
