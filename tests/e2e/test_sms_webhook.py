"""The SMS channel over HTTP, as Twilio drives it: form posts signed by the twilio library, TwiML
back; one-time codes go out through the real twilio client to a local stand-in of Twilio's
Messages API, sent by the server's own background dispatcher."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from core.accounts import Language
from core.clock import ManualClock
from core.outbox import OutboxStatus
from platebot.bootstrap import App, build_app
from platebot.server import create_web_app
from platebot.turn_process import TurnProcessFailed
from sms.channel import INBOUND_PATH, STATUS_PATH
from sms.records import SmsRecords
from sms.segments import Encoding, encoding_of, segment_count
from store.sms_tables import sms_inbound
from store.tables import accounts, conversations, inbound_messages, outbox
from tests.sms_support import (
    OUR_NUMBER,
    PUBLIC_URL,
    Phone,
    inbound_form,
    messages_of,
    new_sid,
    sign,
    status_form,
    twilio_settings,
)
from tests.standins.twilio_api import TwilioStandIn
from tests.support import outbox_row

PHONE = "+8613800138000"
PERSON_ID = "440304199001011233"


@pytest.fixture
def server(db: Engine, clock: ManualClock, standin: TwilioStandIn) -> App:
    return build_app(twilio_settings(db, standin), clock=clock, db=db, upgrade=False)


@pytest.fixture
def client(server: App) -> Iterator[TestClient]:
    with TestClient(create_web_app(server)) as running:
        yield running


def count(db: Engine, table: sa.Table) -> int:
    with db.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def notice(app: App, phone: str, text: str) -> int:
    """Staff write a notice to ``phone`` into the outbox; returns its id."""
    message = outbox_row(
        phone=phone, key="raw", params={"text": text}, language=Language.ZH, now=app.clock.now()
    )
    with app.uow() as uow:
        uow.outbox.add(message)
        uow.commit()
    assert message.id is not None
    return message.id


def settled(app: App, message_id: int) -> OutboxStatus:
    """Run the dispatcher (beside the server's own) until the message is settled."""
    for _ in range(50):
        app.dispatcher.run_once()
        with app.db.connect() as conn:
            status = conn.execute(
                sa.select(outbox.c.status).where(outbox.c.id == message_id)
            ).scalar_one()
        if status not in (OutboxStatus.PENDING, OutboxStatus.SENDING):
            return OutboxStatus(status)
    raise AssertionError(f"message {message_id} is still {status}")


def test_person_registers_entirely_by_sms(
    server: App, client: TestClient, standin: TwilioStandIn
) -> None:
    phone = Phone(client, PHONE)
    replies = [phone.send("你好")]
    assert "主菜单" in phone.text and "3 注册/登录" in phone.text
    for text in ("3", "1", "张三", PERSON_ID, "跳过", "深圳市福田区深南大道1号", "新车车主"):
        replies.append(phone.send(text))
    assert "核对" in phone.text and "4403**********1233" in phone.text
    assert PERSON_ID not in phone.text
    replies.append(phone.send("1"))
    assert "6位验证码" in phone.text and "+86138****8000" in phone.text
    code = standin.last_code(PHONE)  # sent by the server's background dispatcher
    replies.append(phone.send(code))
    assert "注册成功" in phone.text and "张三" in phone.text
    replies.append(phone.send("我的账户"))
    assert "我的账户" in phone.text and "4403**********1233" in phone.text

    assert all(len(messages) == 1 for messages in replies), "one SMS per reply"
    assert all(segment_count(m[0]) <= server.settings.sms_segment_budget for m in replies)
    assert not any("回复N看更多" in m[0] for m in replies), "registration needs no paging"
    code_sms = standin.delivered[-1]
    assert (code_sms.to, code_sms.origin) == (PHONE, OUR_NUMBER)
    assert code_sms.status_callback == PUBLIC_URL + STATUS_PATH
    with server.db.connect() as conn:
        row = conn.execute(sa.select(accounts)).mappings().one()
    assert (row["phone"], row["id_number"], row["region_code"]) == (PHONE, PERSON_ID, "4403")


def test_english_user_registers_by_sms_with_words_for_choices(
    server: App, client: TestClient, standin: TwilioStandIn
) -> None:
    phone = Phone(client, "+447911123456")
    phone.send("EN")
    assert "Main menu" in phone.text
    for text in ("register / SIGN IN", "natural person", "Li Lei", PERSON_ID, "skip"):
        phone.send(text)
    phone.send("12 Baker Street, Shenzhen")
    [summary] = phone.send("student")
    # the region by its English name: the summary stays GSM-7, one SMS with its choices
    assert summary.startswith("Please check") and "Shenzhen, Guangdong" in summary
    assert summary.endswith("1 OK, send code\n2 Start over")
    assert encoding_of(summary) is Encoding.GSM7 and segment_count(summary) == 1
    phone.send("ok, send code")
    server.dispatcher.run_once()  # no need to wait for the background one
    phone.send(standin.last_code("+447911123456"))
    assert "Registered. Welcome, Li Lei!" in phone.text


@pytest.mark.parametrize(
    "tamper",
    [
        "unsigned",
        "signed with another token",
        "body changed after signing",
        "signed for another URL",
    ],
)
def test_requests_not_signed_by_twilio_for_our_url_are_refused_and_leave_no_trace(
    server: App, client: TestClient, tamper: str
) -> None:
    form = inbound_form(PHONE, "hi", new_sid())
    headers = {"X-Twilio-Signature": sign(INBOUND_PATH, form)}
    if tamper == "unsigned":
        headers = {}
    elif tamper == "signed with another token":
        headers = {"X-Twilio-Signature": sign(INBOUND_PATH, form, token="someone-else")}
    elif tamper == "body changed after signing":
        form = form | {"Body": "STOP"}
    else:
        headers = {"X-Twilio-Signature": sign("/sms/twilio/other", form)}
    response = client.post(INBOUND_PATH, data=form, headers=headers)
    assert response.status_code == 403
    for table in (conversations, inbound_messages, sms_inbound):
        assert count(server.db, table) == 0


def test_status_callbacks_need_a_signature_too(server: App, client: TestClient) -> None:
    form = status_form(new_sid(), "delivered", PHONE)
    assert client.post(STATUS_PATH, data=form).status_code == 403
    wrong = {"X-Twilio-Signature": sign(STATUS_PATH, form, token="someone-else")}
    assert client.post(STATUS_PATH, data=form, headers=wrong).status_code == 403


@pytest.mark.parametrize(
    ("change", "value"),
    [("From", ""), ("From", "not a number"), ("MessageSid", "12"), ("SmsSid", "x")],
)
def test_signed_but_malformed_sms_is_refused_with_400(
    server: App, client: TestClient, change: str, value: str
) -> None:
    form = inbound_form(PHONE, "hi", new_sid())
    form[change] = value
    if change == "MessageSid":
        form["SmsSid"] = value
    elif change == "SmsSid":
        form["MessageSid"] = value
    response = client.post(
        INBOUND_PATH, data=form, headers={"X-Twilio-Signature": sign(INBOUND_PATH, form)}
    )
    assert response.status_code == 400
    assert count(server.db, conversations) == 0


def test_a_body_that_is_not_a_form_is_refused_with_400(client: TestClient) -> None:
    response = client.post(
        INBOUND_PATH,
        content=b"\xff\xfe{}",
        headers={"X-Twilio-Signature": "x", "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400


def test_same_message_sid_twice_gets_the_same_answer_and_changes_nothing(
    server: App, client: TestClient
) -> None:
    phone = Phone(client, PHONE)
    phone.send("hi")
    first = phone.send("1")
    assert "注册类型" in phone.text
    again = phone.send("1", sid=phone.last_sid)  # Twilio retried the webhook
    assert again == first
    phone.send("1")
    assert "真实姓名" in phone.text  # one step on from the type question, not two
    assert count(server.db, inbound_messages) == 3


def test_stop_opts_out_of_notices_and_start_opts_back_in(
    server: App, client: TestClient, standin: TwilioStandIn
) -> None:
    phone = Phone(client, PHONE)
    phone.send("hi")
    assert phone.send("STOP") == ["已退订，我们不再给您发短信（含验证码）。回复START恢复。"]
    assert settled(server, notice(server, PHONE, "明日停电")) is OutboxStatus.SKIPPED
    phone.send("菜单")
    assert "主菜单" in phone.text  # a reply to the user's own message still goes
    phone.send("start")
    assert "已恢复接收短信" in phone.text and "主菜单" in phone.text
    assert settled(server, notice(server, PHONE, "明日恢复供电")) is OutboxStatus.SENT
    assert [r.body for r in standin.requests] == ["明日恢复供电"]


def test_twilios_own_opt_out_and_help_are_followed(server: App, client: TestClient) -> None:
    phone = Phone(client, PHONE)
    phone.send("CANCEL", OptOutType="STOP")  # Twilio's Advanced Opt-Out took CANCEL as STOP
    with SmsRecords.begin(server.db) as records:
        assert records.is_opted_out(PHONE)
    phone.send("info", OptOutType="HELP")
    assert "号牌助手" in phone.text and "退订" in phone.text


def test_help_says_what_the_service_is_and_how_to_stop(client: TestClient) -> None:
    phone = Phone(client, PHONE)
    phone.send("EN")
    phone.send("HELP")
    assert "platebot" in phone.text and "STOP" in phone.text and "Main menu" in phone.text
    phone.send("中文")
    phone.send("帮助")
    assert "号牌助手" in phone.text and "退订" in phone.text


def test_delivery_status_is_recorded_and_21610_opts_the_number_out(
    server: App, client: TestClient
) -> None:
    sid = new_sid()
    for status, code in (("sent", ""), ("delivered", ""), ("sent", "")):
        form = status_form(sid, status, PHONE, code)
        headers = {"X-Twilio-Signature": sign(STATUS_PATH, form)}
        assert client.post(STATUS_PATH, data=form, headers=headers).status_code == 204
    failed = status_form(new_sid(), "failed", "+8613900139000", "21610")
    headers = {"X-Twilio-Signature": sign(STATUS_PATH, failed)}
    assert client.post(STATUS_PATH, data=failed, headers=headers).status_code == 204
    with SmsRecords.begin(server.db) as records:
        assert records.delivery_status(sid) == ("delivered", None)  # a late "sent" changes nothing
        assert records.is_opted_out("+8613900139000")


@pytest.mark.parametrize("code", ["²", "፩", "❶", "9" * 40])
def test_a_status_callback_with_an_odd_error_code_is_refused_not_a_500(
    client: TestClient, code: str
) -> None:
    """Issue 12, defect 4: ``isdigit()`` holds for ``²`` and ``፩``, which ``int()`` refuses."""
    form = status_form(new_sid(), "failed", PHONE, code)
    headers = {"X-Twilio-Signature": sign(STATUS_PATH, form)}
    assert client.post(STATUS_PATH, data=form, headers=headers).status_code == 400


def test_answer_is_twiml_with_one_message(client: TestClient) -> None:
    form = inbound_form(PHONE, "hi", new_sid())
    response = client.post(
        INBOUND_PATH, data=form, headers={"X-Twilio-Signature": sign(INBOUND_PATH, form)}
    )
    assert response.text.startswith('<?xml version="1.0" encoding="UTF-8"?><Response><Message>')
    assert len(messages_of(response.text)) == 1


def test_when_no_turn_can_be_run_the_user_is_asked_to_send_again(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The turn process died under the message twice (or cannot start): Twilio would not post
    it again, so the answer says to, in both languages, within the segment budget."""

    async def no_turn(*_args: object) -> list[str]:
        raise TurnProcessFailed("platebot-sms-turns died twice running one call")

    monkeypatch.setattr(client.app.state.sms_turns, "run", no_turn)  # type: ignore[attr-defined]
    answer = Phone(client, PHONE).send("你好")
    assert answer == [
        "号牌助手暂时繁忙，请稍后重发刚才的短信。\n"
        "platebot is busy: please send your last SMS again shortly."
    ]
    assert segment_count(answer[0]) <= 2
