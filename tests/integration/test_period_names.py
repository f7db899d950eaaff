"""Auction periods have an English name (SPEC §13): English users read it, or one made from the
day the period starts, on every screen and notice that names a period, so that an English SMS
stays in the GSM-7 alphabet (160 characters a segment, not UCS-2's 70); Chinese users read the
Chinese name. Staff give it when they publish a period, on the command line and over the API."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from core import auctions
from core.accounts import Language
from core.clock import ManualClock
from platebot.bootstrap import App
from platebot.cli import app as cli
from platebot.demo import load_demo_data
from platebot.server import create_web_app
from sms.segments import Encoding, encoding_of
from store.uow import UnitOfWorkFactory
from tests.auction_journey_world import PERIOD_NAME, PHONE, JourneyWorld
from tests.auction_world import vin
from tests.preselect_world import add_office
from tests.staff_console_world import PASSWORD, add_staff, csrf_of
from tests.support import (
    SMS,
    STAFF_AUTH,
    CapturingSender,
    Transcript,
    build_staff_app,
    days_ahead,
    sms_pages,
)

NAME_EN = "Auction 2026 No. 12"
PERIODS = "/staff/api/auctions/periods"
# The manual clock stands at Monday 2026-11-23 10:00 China time.
PERIOD = {
    "name": PERIOD_NAME,
    "signup_opens": "2026-11-23T10:00:00+08:00",
    "signup_closes": "2026-11-30T09:00:00+08:00",
    "starts_at": "2026-11-30T10:00:00+08:00",
}


@pytest.fixture
def world(app: App) -> JourneyWorld:
    return JourneyWorld(app)


def pages(chat: Transcript) -> list[str]:
    assert chat.reply is not None
    return sms_pages(chat.reply)


def gsm7(texts: list[str]) -> bool:
    return all(encoding_of(text) is Encoding.GSM7 for text in texts)


def sent_to(sms: CapturingSender, phone: str = PHONE) -> list[str]:
    return [text for to, text in sms.sent if to == phone]


def test_an_english_sms_user_reads_the_english_name_and_each_page_is_gsm7(
    world: JourneyWorld,
) -> None:
    period_id = world.period(name_en=NAME_EN)
    chat = world.chat(SMS, "en")
    chat.pick("auction")
    assert f"Auction notice: {NAME_EN}, starts 2026-11-23 11:00" in chat.text
    assert f"1 {NAME_EN}" in chat.text
    assert gsm7(pages(chat)), chat.text
    chat.pick(f"period:{period_id}")
    assert f"{NAME_EN}: signup 2026-11-23 10:00" in chat.text
    assert "Lot 1: Yue D 88888" in chat.text
    assert gsm7(pages(chat)), chat.text


def test_every_sms_of_an_english_signup_is_gsm7(world: JourneyWorld, sms: CapturingSender) -> None:
    """Signed up and paid through the chat: the bidder number's notice (which tells the deposit
    received: one message) and the deposit order's subject, which names the period and the
    shares in My orders, are GSM-7, as is the signup history."""
    period_id = world.period(name_en=NAME_EN)
    chat = world.chat(SMS, "en")
    chat.pick("auction")
    chat.pick(f"period:{period_id}")
    chat.pick("signup")
    chat.pick("shares:1")
    chat.say(vin(1))
    assert f"Please confirm: {NAME_EN}, 1 share" in " ".join(chat.text.split())
    chat.pick("confirm")
    assert chat.reply is not None and gsm7(pages(chat)), chat.text
    world.pay_deposit(chat.reply.links[0].url)
    told = sent_to(sms)
    assert len(told) == 1 and told[0].startswith(f"{NAME_EN}: deposit ¥5,000 received"), told
    assert gsm7(told), told
    with world.app.uow() as uow:
        [deposit] = uow.orders.listed(account_id=world.account_id)
    assert deposit.subject == f"{NAME_EN} x1" and gsm7([deposit.subject])
    chat.pick("check")
    chat.pick("history")
    assert f"{NAME_EN}: 1 share, bidder number" in chat.text and gsm7(pages(chat)), chat.text


def test_a_chinese_user_reads_the_chinese_name(world: JourneyWorld) -> None:
    period_id = world.period(name_en=NAME_EN)
    chat = world.chat(SMS, "zh")
    chat.pick("auction")
    assert f"竞买公告：{PERIOD_NAME}" in chat.text and NAME_EN not in chat.text
    chat.pick(f"period:{period_id}")
    assert chat.text.startswith(PERIOD_NAME) and NAME_EN not in chat.text


@pytest.mark.parametrize(
    ("lang", "name", "encoding"),
    [("en", f'"{NAME_EN}"', Encoding.GSM7), ("zh", f"“{PERIOD_NAME}”", Encoding.UCS2)],
)
def test_the_notices_of_a_period_name_it_in_the_bidders_language(
    world: JourneyWorld,
    sms: CapturingSender,
    lang: str,
    name: str,
    encoding: Encoding,
) -> None:
    """The bidder number's notice, and the period's cancellation (a settlement notice)."""
    period_id = world.period(name_en=NAME_EN)
    world.chat(SMS, lang)  # the user's language, as they chose it
    world.signed_up(period_id, [vin(1)])
    world.app.dispatcher.run_once()
    [signed_up] = sent_to(sms)
    assert signed_up.startswith(name.strip('"“”')), signed_up
    with world.app.uow() as uow:
        auctions.cancel_period(uow, clock=world.clock, period_id=period_id)
        uow.commit()
    world.app.dispatcher.run_once()
    cancelled = sent_to(sms)[1:]
    assert len(cancelled) == 1 and name in cancelled[0], cancelled
    assert [encoding_of(text) for text in (signed_up, *cancelled)] == [encoding] * 2


def test_without_an_english_name_english_users_read_the_day_it_starts_in_china(
    world: JourneyWorld,
) -> None:
    """Staff gave no English name: ``Auction of`` the start's date, in office time (the period
    starts at 01:00 on the 24th in China, still the 23rd in UTC)."""
    with world.app.uow() as uow:
        period = auctions.publish_period(
            uow,
            clock=world.clock,
            name=PERIOD_NAME,
            signup_opens=world.clock.now(),
            signup_closes=datetime(2026, 11, 23, 17, 0, tzinfo=UTC),
            starts_at=datetime(2026, 11, 23, 17, 0, tzinfo=UTC),
        )
        uow.commit()
    world.lot(period.id or 0, "88888")
    chat = world.chat(SMS, "en")
    chat.pick("auction")
    assert "Auction notice: Auction of 2026-11-24, starts 2026-11-24 01:00" in chat.text
    assert gsm7(pages(chat)), chat.text
    chat.pick(f"period:{period.id}")
    assert "Auction of 2026-11-24: signup" in chat.text and gsm7(pages(chat)), chat.text
    chat.say("中文")
    chat.pick("home")
    assert f"竞买公告：{PERIOD_NAME}" in chat.text


def test_the_demo_periods_have_english_names(db: Engine, clock: ManualClock) -> None:
    uow = UnitOfWorkFactory(db)
    load_demo_data(uow, clock)
    with uow() as work:
        names = sorted(period.name_in(Language.EN) for period in work.auctions.periods())
    assert names == ["Demo auction (signup open)", "Demo auction (starting soon)"]


def test_staff_publish_a_period_with_an_english_name_over_http(
    db: Engine, clock: ManualClock, sms: CapturingSender
) -> None:
    staff_app = build_staff_app(db, clock, sms)
    with TestClient(create_web_app(staff_app, run_workers=False)) as client:
        published = client.post(PERIODS, json={**PERIOD, "name_en": NAME_EN}, headers=STAFF_AUTH)
        assert published.status_code == 201, published.text
        period = published.json()
        assert (period["name"], period["name_en"]) == (PERIOD_NAME, NAME_EN)
        shown = client.get(f"{PERIODS}/{period['id']}", headers=STAFF_AUTH).json()
        assert shown["name_en"] == NAME_EN
        plain = client.post(PERIODS, json=PERIOD, headers=STAFF_AUTH).json()
        listed = client.get(PERIODS, headers=STAFF_AUTH).json()
        assert [(p["id"], p["name_en"]) for p in listed] == [
            (period["id"], NAME_EN),
            (plain["id"], None),
        ]
        longest = client.post(PERIODS, json={**PERIOD, "name_en": "x" * 30}, headers=STAFF_AUTH)
        assert longest.status_code == 201, longest.text
        long = client.post(PERIODS, json={**PERIOD, "name_en": "x" * 31}, headers=STAFF_AUTH)
        assert (long.status_code, long.json()["code"]) == (422, "request.invalid")
        for refused in ("   ", "Auction – December", "Auction “12”", "第12期"):
            answer = client.post(PERIODS, json={**PERIOD, "name_en": refused}, headers=STAFF_AUTH)
            assert (answer.status_code, answer.json()["code"]) == (422, "auction.name_en_invalid")
            assert answer.json()["params"] == {"most": 30}
        assert len(client.get(PERIODS, headers=STAFF_AUTH).json()) == 3, "nothing more kept"


def test_staff_publish_a_period_with_an_english_name_on_the_command_line(
    app: App, db: Engine
) -> None:
    runner = CliRunner()
    env = {
        "PLATEBOT_DATABASE_URL": db.url.render_as_string(hide_password=False),
        "PLATEBOT_SECRET_KEY": "test-secret",
    }

    def run(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(cli, ["staff", "auction", "period", *args], env=env)
        return result.exit_code, result.stdout, result.stderr

    # The CLI runs on the real clock: a period in the future for it, whatever the date.
    times = ["--signup-opens", days_ahead(30, "09:00"), "--signup-closes", days_ahead(34, "17:00")]
    times += ["--starts", days_ahead(37, "10:00")]
    code, out, _ = run("publish", "--name", "第1期", "--name-en", "Auction No. 1", *times, "--json")
    assert code == 0, out
    assert json.loads(out)["name_en"] == "Auction No. 1"
    code, out, _ = run("list")
    assert code == 0 and "name_en: Auction No. 1" in out, out
    code, _, err = run("publish", "--name", "第2期", "--name-en", " ", *times)
    assert code == 1 and "English name of a period is 1 to 30 characters" in err, err


def test_a_supervisor_gives_the_english_name_in_the_console(
    db: Engine, clock: ManualClock, sms: CapturingSender
) -> None:
    staff_app = build_staff_app(db, clock, sms)
    add_office(staff_app)
    add_office(staff_app, code="粤A", region="4401", name="广州市车辆管理所")
    add_staff(staff_app)
    with TestClient(create_web_app(staff_app, run_workers=False)) as client:
        form = client.get("/staff/login")
        login = {"name": "supervisor", "password": PASSWORD, "csrf": csrf_of(form.text)}
        assert client.post("/staff/login", data=login, follow_redirects=False).status_code == 303
        assert 'name="name_en"' in client.get("/staff/auctions").text
        published = client.post(
            "/staff/auctions",
            data={
                "csrf": csrf_of(client.get("/staff/auctions").text),
                "name": PERIOD_NAME,
                "name_en": f" {NAME_EN} ",
                "signup_opens": "2026-11-23T10:00",
                "signup_closes": "2026-11-30T09:00",
                "starts_at": "2026-11-30T10:00",
            },
        )
        found = re.search(r"已发布（第(\d+)号拍卖期）", published.text)
        assert published.status_code == 200 and found, published.text
        page = client.get(f"/staff/auctions/{found.group(1)}").text
        assert f"<dd>{NAME_EN}</dd>" in page
