"""The staff console's pages of the sale, auctions, reservations and broadcasts over HTTP: what a
supervisor does on them, what a clerk is refused, the live feeds of a running lot and of a
broadcast, and the audit of each change (made through the staff services, as the CLI and the API
make them). The same in a real browser: tests/browser/test_staff_business_browser.py."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from html import unescape

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from core.auctions import YUAN
from core.broadcast_ports import Audience, AudienceKind, Channels
from core.clock import OFFICE_TZ, ManualClock
from core.plates import PlateKind
from core.staff import Actor, NotAllowed, Role
from platebot.bootstrap import App
from platebot.server import create_web_app
from platebot.staff_auctions import StaffAuctions
from platebot.staff_broadcasts import StaffBroadcasts
from platebot.staff_reservations import StaffReservations
from platebot.staff_sale import StaffSale
from sms.render import broadcast_segments
from store.sms_tables import sms_opt_outs
from tests.preselect_world import add_office, vin
from tests.reservation_world import bid, bidder, pending_reservation, reservation_world
from tests.staff_console_world import PASSWORD, add_staff, csrf_of
from tests.support import STAFF_AUTH


@pytest.fixture
def world(staff_app: App) -> dict[str, int]:
    ids = reservation_world(staff_app)
    add_office(staff_app, code="粤A", region="4401", name="广州市车辆管理所")
    add_staff(staff_app)
    return ids


@pytest.fixture
def client(staff_app: App, world: dict[str, int]) -> Iterator[TestClient]:
    with TestClient(create_web_app(staff_app, run_workers=False)) as test_client:
        yield test_client


def sign_in(client: TestClient, name: str) -> TestClient:
    form = client.get("/staff/login")
    data = {"name": name, "password": PASSWORD, "csrf": csrf_of(form.text)}
    assert client.post("/staff/login", data=data, follow_redirects=False).status_code == 303
    return client


def post(client: TestClient, path: str, page: str, **data: str) -> tuple[int, str]:
    token = csrf_of(client.get(page).text)
    response = client.post(path, data={**data, "csrf": token})
    return response.status_code, response.text


def audit(client: TestClient) -> str:
    return client.get("/staff/audit").text


def local(moment: datetime) -> str:
    """As a ``datetime-local`` field holds it (Beijing time)."""
    return moment.astimezone(OFFICE_TZ).strftime("%Y-%m-%dT%H:%M")


def amend_form(html: str) -> dict[str, str]:
    """The period page's change form as shown: its fields' values (the csrf token with them)."""
    form = re.search(r'<form[^>]*id="amend".*?</form>', html, re.S)
    assert form is not None, html
    fields = re.findall(r'<input[^>]*name="(\w+)"[^>]*value="([^"]*)"', form.group(0))
    return {name: unescape(value) for name, value in fields}


def shown(html: str, label: str) -> str | None:
    """What the period's settings list shows against ``label`` (None: not listed)."""
    settings = re.search(r'<dl id="period">.*?</dl>', html, re.S)
    assert settings is not None, html
    found = re.search(rf"<dt>{re.escape(label)}</dt><dd>([^<]*)</dd>", settings.group(0))
    return unescape(found.group(1)) if found else None


def test_a_clerk_is_refused_the_business_pages_which_a_supervisor_opens(
    client: TestClient,
) -> None:
    sign_in(client, "clerk")
    paths = ("/staff/sale", "/staff/auctions", "/staff/reservations", "/staff/broadcasts")
    for path in paths:
        assert client.get(path).status_code == 403, path
    assert client.get("/staff/live/lot?id=1").status_code == 403
    client.cookies.clear()
    sign_in(client, "supervisor")
    home = client.get("/staff/").text
    for path in paths:
        assert f'href="{path}"' in home
        assert client.get(path).status_code == 200, path
    client.get("/staff/lang/en")
    assert "<h1>Plates for sale</h1>" in client.get("/staff/sale").text
    for path in paths:
        assert client.get(path).status_code == 200, path


def test_a_supervisor_lists_imports_reprices_and_withdraws_plates_for_sale(
    client: TestClient,
) -> None:
    sign_in(client, "supervisor")
    status, html = post(
        client,
        "/staff/sale",
        "/staff/sale",
        office="粤D",
        kind="small",
        serial="a6666",
        price="8000",
    )
    assert status == 200, html
    assert "粤D·A6666已上架，价格¥8,000。" in html
    status, html = post(
        client, "/staff/sale", "/staff/sale", office="粤A", kind="small", serial="A7777", price="1"
    )
    assert status == 403  # another office's
    csv = "office,kind,serial,price\n粤D,small,B1234,5000\n粤D,small,B1234,5000\n"
    token = csrf_of(client.get("/staff/sale").text)
    answer = client.post(
        "/staff/sale/import",
        data={"csrf": token},
        files={"file": ("plates.csv", csv.encode(), "text/csv")},
    )
    assert answer.status_code == 200, answer.text
    assert "已上架1个号牌。" in answer.text
    bad = re.search(r'<table id="bad-rows">.*?</table>', answer.text, re.S)
    assert bad is not None and "第3行" in bad.group(0)
    listing = re.search(r'action="/staff/sale/(\d+)/price"', answer.text)
    assert listing is not None
    status, html = post(
        client, f"/staff/sale/{listing.group(1)}/price", "/staff/sale", price="9000"
    )
    assert "价格已改为¥9,000。" in html
    status, html = post(client, f"/staff/sale/{listing.group(1)}/withdraw", "/staff/sale")
    assert "已下架" in html
    trail = audit(client)
    for action in ("sale.list", "sale.import", "sale.price", "sale.withdraw"):
        assert action in trail, action


def test_a_supervisor_publishes_a_period_adds_a_lot_and_watches_it_live(
    client: TestClient, staff_app: App, world: dict[str, int]
) -> None:
    clock = staff_app.clock
    assert isinstance(clock, ManualClock)
    now = clock.now()
    sign_in(client, "supervisor")
    status, html = post(
        client,
        "/staff/auctions",
        "/staff/auctions",
        name="2026年第12期",
        signup_opens=local(now + timedelta(minutes=1)),
        signup_closes=local(now + timedelta(hours=2)),
        starts_at=local(now + timedelta(hours=2)),
    )
    assert status == 200, html
    found = re.search(r"2026年第12期已发布（第(\d+)号拍卖期）", html)
    assert found, html
    period_id = int(found.group(1))
    page = f"/staff/auctions/{period_id}"
    status, html = post(
        client, f"{page}/lots", page, office="粤D", kind="small", serial="88888", price="10000"
    )
    assert "粤D·88888已加入本期拍卖。" in html
    lot_id = int(re.findall(r'href="/staff/lots/(\d+)"', html)[0])

    clock.advance(timedelta(minutes=5))
    first = bidder(staff_app, period_id, world["me"], vin(1))
    second = bidder(staff_app, period_id, world["rival"], vin(2))
    clock.set(now + timedelta(hours=2))  # bidding starts
    before = client.get(f"/staff/live/lot?id={lot_id}").json()
    assert (before["price"], before["leader"], before["bids"]) == ("¥10,000", "—", 0)
    bid(staff_app, *first, lot_id, 11_000 * YUAN)
    bid(staff_app, *second, lot_id, 12_000 * YUAN)
    live = client.get(f"/staff/live/lot?id={lot_id}").json()
    assert live["price"] == "¥12,000"
    assert re.fullmatch(r"\d\d\*\*\*\*\d\d", live["leader"])
    assert live["bids"] == 2 and live["seconds_left"] > 0
    assert live["state_text"] == "竞价中"
    assert live["recent"].count("\n") == 1 and "¥11,000" in live["recent"]
    unknown = client.get("/staff/live/lot?id=99999")  # a refusal in words, not a server error
    assert unknown.status_code == 404 and unknown.json()["detail"], unknown.text
    shown = client.get(f"/staff/lots/{lot_id}").text
    assert 'data-live="lot"' in shown and "¥12,000" in shown
    client.get("/staff/lang/en")
    english = client.get(f"/staff/lots/{lot_id}").text
    assert "<h1>Lot 1: 粤D·88888</h1>" in english, english
    assert client.get(page).status_code == 200
    client.get("/staff/lang/zh")
    assert "auction.publish" in audit(client) and "auction.add_lot" in audit(client)


def test_a_clerk_cannot_publish_a_period_and_a_supervisor_withdraws_a_lot(
    client: TestClient, staff_app: App
) -> None:
    staff = StaffAuctions(staff_app.uow, staff_app.clock, staff_app.payments)
    now = staff_app.clock.now()
    period = staff.publish_period(
        name="P",
        signup_opens=now,
        signup_closes=now + timedelta(hours=1),
        starts_at=now + timedelta(hours=1),
    )
    sign_in(client, "clerk")
    token = csrf_of(client.get("/staff/").text)
    data = {
        "csrf": token,
        "name": "X",
        "signup_opens": local(now),
        "signup_closes": local(now),
        "starts_at": local(now),
    }
    assert client.post("/staff/auctions", data=data).status_code == 403
    client.cookies.clear()
    sign_in(client, "supervisor")
    page = f"/staff/auctions/{period['id']}"
    post(client, f"{page}/lots", page, office="粤D", kind="small", serial="66666", price="10000")
    lot_id = re.findall(r"/lots/(\d+)/withdraw", client.get(page).text)[0]
    assert "在进行中的拍品中" in client.get(page).text  # where the number is now
    status, html = post(client, f"{page}/lots/{lot_id}/withdraw", page)
    assert (status, "粤D·66666已撤回。" in html) == (200, True)
    assert "已收回本所，可再拍、上架或放入号池" in html, "the number is the office's again"
    status, html = post(client, f"{page}/cancel", page)
    assert (status, "P已取消" in html) == (200, True)
    trail = audit(client)
    assert "auction.withdraw_lot" in trail and "auction.cancel" in trail
    assert "cli:" in trail  # the period published through the service without a member


def test_a_supervisor_moves_an_announced_periods_start_and_changes_its_english_name(
    client: TestClient, staff_app: App
) -> None:
    now = staff_app.clock.now()  # 10:00 in Beijing
    period = StaffAuctions(staff_app.uow, staff_app.clock, staff_app.payments).publish_period(
        name="2026年第12期",
        name_en="Auction 12",
        signup_opens=now + timedelta(hours=1),
        signup_closes=now + timedelta(hours=3),
        starts_at=now + timedelta(hours=3),
    )
    sign_in(client, "supervisor")
    page = f"/staff/auctions/{period['id']}"
    html = client.get(page).text
    assert "报名开始前，各项设置均可修改" in html
    form = amend_form(html)
    assert form["name_en"] == "Auction 12" and form["starts_at"] == "2026-11-23T13:00"
    assert form["deposit"] == "5000"
    form |= {"name_en": "Auction No. 12", "starts_at": local(now + timedelta(hours=4))}
    status, html = post(client, f"{page}/amend", page, **form)
    assert status == 200, html
    assert "2026年第12期已修改：英文名称、竞价开始。" in html
    assert shown(html, "竞价开始") == "2026-11-23 14:00"
    assert shown(html, "英文名称") == "Auction No. 12"
    assert shown(html, "报名截止") == "2026-11-23 13:00"  # not changed
    assert amend_form(html)["starts_at"] == "2026-11-23T14:00"
    status, html = post(client, f"{page}/amend", page, **(amend_form(html) | {"name_en": ""}))
    assert status == 200 and "2026年第12期已修改：英文名称。" in html, html
    assert shown(html, "英文名称") is None  # removed: English users read "Auction of …"
    assert "auction.amend" in audit(client)


def test_a_form_shown_before_another_members_change_does_not_undo_it(
    client: TestClient, staff_app: App
) -> None:
    desk = StaffAuctions(staff_app.uow, staff_app.clock, staff_app.payments)
    now = staff_app.clock.now()  # 10:00 in Beijing
    period = desk.publish_period(
        name="2026年第12期",
        signup_opens=now + timedelta(hours=1),
        signup_closes=now + timedelta(hours=3),
        starts_at=now + timedelta(hours=3),
    )
    sign_in(client, "supervisor")
    page = f"/staff/auctions/{period['id']}"
    form = amend_form(client.get(page).text)  # shown with the start at 13:00
    desk.amend_period(period["id"], starts_at=now + timedelta(hours=5))  # meanwhile: 15:00
    status, html = post(client, f"{page}/amend", page, **(form | {"name": "2026年第12期（改）"}))
    assert status == 200 and "2026年第12期（改）已修改：名称。" in html, html
    assert shown(html, "竞价开始") == "2026-11-23 15:00"  # the other member's start stands


def test_after_signup_opened_the_start_only_moves_later(
    client: TestClient, staff_app: App, world: dict[str, int]
) -> None:
    clock = staff_app.clock
    assert isinstance(clock, ManualClock)
    now = clock.now()  # 10:00 in Beijing
    period = StaffAuctions(staff_app.uow, clock, staff_app.payments).publish_period(
        name="2026年第13期",
        signup_opens=now + timedelta(minutes=1),
        signup_closes=now + timedelta(hours=1),
        starts_at=now + timedelta(hours=2),
    )
    clock.advance(timedelta(minutes=5))  # signup open
    bidder(staff_app, period["id"], world["me"], vin(1))  # signed up at the deposit
    sign_in(client, "supervisor")
    page = f"/staff/auctions/{period['id']}"
    html = client.get(page).text
    assert shown(html, "状态") == "报名中"
    form = amend_form(html)
    status, html = post(
        client, f"{page}/amend", page, **(form | {"starts_at": local(now + timedelta(hours=1))})
    )
    assert status == 422, html
    assert "本期报名已开始：报名开始时间不能再改，报名截止时间和开拍时间只能推后" in html
    assert shown(html, "竞价开始") == "2026-11-23 12:00"  # nothing changed
    assert "auction.amend" not in audit(client)
    # Later is allowed: the opening and the deposit, shown as they are, are not changes.
    status, html = post(
        client, f"{page}/amend", page, **(form | {"starts_at": local(now + timedelta(hours=3))})
    )
    assert status == 200, html
    assert "2026年第13期已修改：竞价开始。" in html
    assert shown(html, "竞价开始") == "2026-11-23 13:00"
    assert shown(html, "保证金（元）") == "¥5,000"


def test_a_period_page_submitted_unchanged_says_there_is_nothing_to_change(
    client: TestClient, staff_app: App
) -> None:
    now = staff_app.clock.now()
    period = StaffAuctions(staff_app.uow, staff_app.clock, staff_app.payments).publish_period(
        name="2026年第14期",
        signup_opens=now + timedelta(hours=1, seconds=30),  # shown to the minute
        signup_closes=now + timedelta(hours=2, seconds=30),
        starts_at=now + timedelta(hours=2, seconds=45),
        deposit_fen=500_050,
    )
    sign_in(client, "supervisor")
    page = f"/staff/auctions/{period['id']}"
    form = amend_form(client.get(page).text)
    assert (form["signup_opens"], form["deposit"]) == ("2026-11-23T11:00", "5000.50")
    assert form["name_en"] == ""
    status, html = post(client, f"{page}/amend", page, **form)
    assert status == 422, html
    assert "没有要修改的内容" in html
    assert "auction.amend" not in audit(client)


def test_a_clerk_gets_no_change_form_and_cannot_change_a_period(
    client: TestClient, staff_app: App
) -> None:
    staff = StaffAuctions(staff_app.uow, staff_app.clock, staff_app.payments)
    now = staff_app.clock.now()
    period = staff.publish_period(
        name="P",
        signup_opens=now + timedelta(hours=1),
        signup_closes=now + timedelta(hours=2),
        starts_at=now + timedelta(hours=2),
    )
    sign_in(client, "clerk")
    page = f"/staff/auctions/{period['id']}"
    refused = client.get(page)
    assert refused.status_code == 403 and "窗口办事员无权打开此页面" in refused.text
    assert 'id="amend"' not in refused.text
    token = csrf_of(client.get("/staff/").text)
    data = {
        "csrf": token,
        "name": "X",
        "signup_opens": local(now + timedelta(hours=1)),
        "signup_closes": local(now + timedelta(hours=2)),
        "starts_at": local(now + timedelta(hours=5)),
        "deposit": "5000",
    }
    answer = client.post(f"{page}/amend", data=data)
    assert answer.status_code == 403 and "窗口办事员无权打开此页面" in answer.text
    assert (staff.period(period["id"])["name"], staff.period(period["id"])["starts_at"]) == (
        "P",
        "2026-11-23 12:00",
    )


def test_a_supervisor_approves_one_reservation_and_rejects_another_with_a_reason(
    client: TestClient, staff_app: App, world: dict[str, int]
) -> None:
    first = pending_reservation(staff_app, world["me"], "A8888", 1)
    second = pending_reservation(staff_app, world["rival"], "A9999", 2)
    sign_in(client, "supervisor")
    page = client.get("/staff/reservations").text
    assert "粤D·A8888" in page and "粤D·A9999" in page
    status, html = post(
        client, f"/staff/reservations/{first}/approve", "/staff/reservations", deposit="3000"
    )
    assert status == 200 and "已批准粤D·A8888：已通知用户缴纳保证金¥3,000。" in html
    status, html = post(
        client,
        f"/staff/reservations/{second}/reject",
        "/staff/reservations",
        reason="号码已被占用",
    )
    assert "已驳回粤D·A9999" in html
    assert "A9999" not in client.get("/staff/reservations").text  # no longer waiting
    rejected = client.get("/staff/reservations?state=rejected").text
    assert "supervisor: 号码已被占用" in rejected
    trail = audit(client)
    assert "reservation.approve" in trail and "reservation.reject" in trail


def test_a_supervisor_previews_sends_and_follows_a_broadcast(
    client: TestClient, staff_app: App
) -> None:
    sign_in(client, "supervisor")
    status, html = post(
        client,
        "/staff/broadcasts",
        "/staff/broadcasts",
        text_zh="明天办事大厅停电，暂停办理。",
        text_en="No service tomorrow: power cut.",
        audience="region",
        region="4405",  # the region 粤D serves: a supervisor's everyone is an admin's
        channels="sms",
    )
    assert status == 200, html
    broadcast_id = int(re.findall(r"群发通知 #(\d+) 已存为草稿", html)[0])
    assert '<dd id="recipients">3</dd>' in html
    page = f"/staff/broadcasts/{broadcast_id}"
    status, html = post(client, f"{page}/send", page)
    assert "正在发送" in html
    feed = client.get(f"/staff/live/broadcast?id={broadcast_id}").json()
    assert (feed["sent"], feed["total"], feed["status_text"]) == (0, 3, "发送中")
    post(client, f"{page}/pause", page)
    assert client.get(f"/staff/live/broadcast?id={broadcast_id}").json()["status"] == "paused"
    post(client, f"{page}/resume", page)
    staff_app.dispatcher.run_once()
    feed = client.get(f"/staff/live/broadcast?id={broadcast_id}").json()
    assert (feed["sent"], feed["left"], feed["status_text"]) == (3, 0, "已完成")
    status, html = post(client, f"{page}/cancel", page)  # sent to everyone: nothing to cancel
    assert status == 422 and "无法操作：该群发已发送完毕（所有人都已收到）。" in html
    assert client.get(f"/staff/live/broadcast?id={broadcast_id}").json()["status"] == "finished"
    client.get("/staff/lang/en")
    assert "Broadcast #" in client.get(page).text
    assert client.get("/staff/broadcasts").status_code == 200
    client.get("/staff/lang/zh")
    trail = audit(client)
    for action in ("broadcast.compose", "broadcast.send", "broadcast.pause", "broadcast.resume"):
        assert action in trail, action


def test_what_programs_do_through_the_api_is_audited_as_theirs(
    client: TestClient,
) -> None:
    response = client.post(
        "/staff/api/sale/listings",
        json={"office": "粤D", "kind": "small", "serial": "C1234", "price_fen": 500_000},
        headers=STAFF_AUTH,
    )
    assert response.status_code in {200, 201}, response.text
    sign_in(client, "admin")
    trail = audit(client)
    row = re.search(r"<tr>(?:(?!</tr>).)*sale\.list(?:(?!</tr>).)*</tr>", trail, re.S)
    assert row is not None and "api" in row.group(0), trail


def test_the_services_refuse_a_supervisor_another_offices_work_and_a_clerk_a_supervisors(
    staff_app: App, world: dict[str, int]
) -> None:
    """As the CLI, the API and the console call them: nothing is done, nothing recorded."""
    other = Actor("li", "web", "10.0.0.9", Role.SUPERVISOR, "粤A")
    clerk = Actor("lina", "web", "10.0.0.8", Role.CLERK, "粤D")
    uow, clock, payments = staff_app.uow, staff_app.clock, staff_app.payments
    reservation_id = pending_reservation(staff_app, world["me"], "A8888", 1)
    reviews = StaffReservations(uow, clock, payments).acting(other)
    with pytest.raises(NotAllowed):
        reviews.approve(reservation_id, staff="li")
    with pytest.raises(NotAllowed):
        reviews.reject(reservation_id, staff="li", reason="no")
    sale = StaffSale(uow, clock).acting(other)
    with pytest.raises(NotAllowed):
        sale.import_csv("office,kind,serial,price\n粤A,small,B1111,5000\n粤D,small,B2222,5000\n")
    assert StaffSale(uow, clock).listings() == []  # the 粤A row is not listed either
    with pytest.raises(NotAllowed):
        sale.add(office="粤D", kind=PlateKind.SMALL, serial="B3333", price=100)
    with pytest.raises(NotAllowed):
        StaffBroadcasts(uow, clock, broadcast_segments).acting(clerk).compose(
            text_zh="x",
            text_en="x",
            audience=Audience(AudienceKind.EVERYONE),
            channels=Channels.SMS,
            created_by="lina",
        )
    now = clock.now()
    with pytest.raises(NotAllowed):
        StaffAuctions(uow, clock, payments).acting(clerk).publish_period(
            name="P", signup_opens=now, signup_closes=now, starts_at=now
        )
    with uow() as unit:
        recorded = unit.staff.audit(office_code=None, limit=50, before=None)
    assert {entry.action for entry in recorded} == {"staff.add"}  # the world's staff only
    assert StaffReservations(uow, clock, payments).list()[0]["state"] == "pending"
    assert StaffReservations(uow, clock, payments).list(office="粤A") == []  # not 粤A's


def test_a_broadcast_is_scheduled_for_a_later_time_and_not_for_a_past_one(
    client: TestClient, staff_app: App
) -> None:
    sign_in(client, "supervisor")
    _status, html = post(
        client,
        "/staff/broadcasts",
        "/staff/broadcasts",
        text_zh="周六照常办公。",
        text_en="Open on Saturday.",
        audience="region",
        region="4405",
        channels="telegram_else_sms",
    )
    broadcast_id = int(re.findall(r"群发通知 #(\d+) 已存为草稿", html)[0])
    page = f"/staff/broadcasts/{broadcast_id}"
    now = staff_app.clock.now()
    status, html = post(client, f"{page}/send", page, at=local(now - timedelta(hours=1)))
    assert status == 422
    assert client.get(f"/staff/live/broadcast?id={broadcast_id}").json()["status"] == "draft"
    later = local(now + timedelta(days=1))
    status, html = post(client, f"{page}/send", page, at=later)
    assert status == 200, html
    assert f"群发通知 #{broadcast_id} 将于{later.replace('T', ' ')}发送。" in html
    feed = client.get(f"/staff/live/broadcast?id={broadcast_id}").json()
    assert (feed["status_text"], feed["sent"]) == ("已预约", 0)
    assert (feed["send_at"], feed["seconds_to_finish"]) == (later.replace("T", " "), "–")
    assert later.replace("T", " ") in client.get(page).text


def test_numbers_typed_in_the_box_are_checked_and_found_however_they_are_written(
    client: TestClient, staff_app: App
) -> None:
    sign_in(client, "supervisor")
    with staff_app.db.begin() as conn:  # this number sent STOP
        conn.execute(
            sa.insert(sms_opt_outs).values(
                phone="+8613700137000", reason="STOP", opted_out_at=staff_app.clock.now()
            )
        )
    typed = {"text_zh": "通知", "text_en": "Notice", "audience": "numbers", "channels": "sms"}
    status, html = post(
        client, "/staff/broadcasts", "/staff/broadcasts", **typed, phones="138 0013 8000\nabc"
    )
    assert status == 422 and "1 行不是手机号码（第 2 行）" in html
    status, html = post(
        client,
        "/staff/broadcasts",
        "/staff/broadcasts",
        **typed,
        phones="138 0013 8000\n+86 137-0013-7000， 13800138000\n",
    )
    assert status == 200, html
    broadcast_id = int(re.findall(r"群发通知 #(\d+) 已存为草稿", html)[0])
    preview = StaffBroadcasts(staff_app.uow, staff_app.clock, broadcast_segments).preview(
        broadcast_id
    )
    assert (preview["audience"], preview["sms"], preview["opted_out"]) == ("2 numbers", 1, 1)
    typed |= {"audience": "everyone"}  # the numbers left in the box: refused, not everyone
    status, html = post(
        client, "/staff/broadcasts", "/staff/broadcasts", **typed, phones="13800138000"
    )
    assert status == 422 and "收件范围是所有人，却给了号码清单" in html
