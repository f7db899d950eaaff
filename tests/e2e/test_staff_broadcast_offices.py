"""Broadcasts of one office over HTTP and the command line (SPEC §10): what the web console offers
a supervisor and refuses them (403, with the reason), the broadcasts of other offices they neither
see nor act on, and the staff API and the CLI, which act for every office (an admin's)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from core.broadcast_ports import Audience, AudienceKind, Channels
from core.plates import PlateKind
from core.staff import Actor, Role
from platebot.bootstrap import App
from platebot.cli import app as cli
from platebot.server import create_web_app
from platebot.staff_accounts import StaffAccounts
from platebot.staff_auctions import StaffAuctions
from platebot.staff_broadcasts import StaffBroadcasts
from sms.render import broadcast_segments
from tests.preselect_world import add_office
from tests.reservation_world import reservation_world
from tests.staff_console_world import PASSWORD, QUICK_HASHER, add_staff, csrf_of
from tests.support import STAFF_AUTH

PAGE = "/staff/broadcasts"
API = "/staff/api/broadcasts"
TEXTS = {"text_zh": "本周六照常办公。", "text_en": "Open this Saturday.", "channels": "sms"}


@pytest.fixture
def world(staff_app: App) -> None:
    """粤D (region 4405) with three users, 粤A (4401); the console's staff, and li, a supervisor
    of 粤A."""
    reservation_world(staff_app)
    add_office(staff_app, code="粤A", region="4401", name="广州市车辆管理所")
    add_staff(staff_app)
    StaffAccounts(staff_app.uow, staff_app.clock, hasher=QUICK_HASHER).add(
        name="li", password=PASSWORD, role=Role.SUPERVISOR, office_code="粤A"
    )


@pytest.fixture
def client(staff_app: App, world: None) -> Iterator[TestClient]:
    with TestClient(create_web_app(staff_app, run_workers=False)) as test_client:
        yield test_client


def sign_in(client: TestClient, name: str) -> TestClient:
    client.cookies.clear()
    form = client.get("/staff/login")
    data = {"name": name, "password": PASSWORD, "csrf": csrf_of(form.text)}
    assert client.post("/staff/login", data=data, follow_redirects=False).status_code == 303
    return client


def post(client: TestClient, path: str, **data: str) -> tuple[int, str]:
    token = csrf_of(client.get(PAGE).text)
    response = client.post(path, data={**data, "csrf": token})
    return response.status_code, response.text


def composed(html: str) -> int:
    return int(re.findall(r"群发通知 #(\d+) 已存为草稿", html)[0])


def options(html: str) -> list[str]:
    select = re.search(r'<select name="audience">(.*?)</select>', html, re.S)
    assert select is not None, html
    return re.findall(r'<option value="([a-z_]+)"', select.group(1))


def of_li(staff_app: App) -> int:
    """A draft of 粤A's supervisor, to 广州's region."""
    li = Actor("li", "web", "10.0.0.9", Role.SUPERVISOR, "粤A")
    draft = (
        StaffBroadcasts(staff_app.uow, staff_app.clock, broadcast_segments)
        .acting(li)
        .compose(
            text_zh="通知",
            text_en="Notice",
            audience=Audience(AudienceKind.REGION, region_code="4401"),
            channels=Channels.SMS,
            created_by="li",
        )
    )
    return int(draft["id"])


def test_the_console_offers_a_supervisor_their_offices_audiences_and_an_admin_all(
    client: TestClient,
) -> None:
    html = sign_in(client, "supervisor").get(PAGE).text
    assert options(html) == ["region", "bidders", "unfinished_orders", "numbers"]
    assert "本所（粤D）的群发可发给：本所服务地区（4405）的用户" in html
    assert 'placeholder="4405"' in html
    status, html = post(client, PAGE, **TEXTS, audience="region", region="汕头")
    assert status == 200, html
    draft = f"{PAGE}/{composed(html)}"
    page = client.get(draft).text
    assert '<dd id="office">粤D</dd>' in page
    assert "地区4405的用户 · " in page  # the audience in the page's language
    assert "地区4405的用户</td>" in client.get(PAGE).text
    client.get("/staff/lang/en")
    assert "accounts in region 4405 · " in client.get(draft).text
    html = sign_in(client, "admin").get(PAGE).text
    assert options(html) == ["everyone", "region", "bidders", "unfinished_orders", "numbers"]
    assert "管理员的群发面向全部车管所，可选任何接收对象。" in html


def test_the_console_refuses_a_supervisor_what_is_not_their_offices_with_the_reason(
    client: TestClient, staff_app: App
) -> None:
    auctions = StaffAuctions(staff_app.uow, staff_app.clock, staff_app.payments)
    now = staff_app.clock.now()
    period = auctions.publish_period(
        name="第1期", signup_opens=now, signup_closes=now + timedelta(days=1),
        starts_at=now + timedelta(days=2),
    )["id"]  # fmt: skip
    auctions.add_lot(
        period, office="粤A", kind=PlateKind.SMALL, serial="66666", starting_price_fen=1_000_000
    )
    sign_in(client, "supervisor")
    for given, said in (
        ({"audience": "everyone"}, "“所有人”是所有车管所的用户，只有管理员可以发送"),
        ({"audience": "region", "region": "4401"}, "地区 4401 不是本所（粤D）服务的地区"),
        ({"audience": "bidders", "period": str(period)}, f"第 {period} 期有其他车管所的拍品"),
    ):
        status, html = post(client, PAGE, **TEXTS, **given)
        assert (status, said in html) == (403, True), html
    client.get("/staff/lang/en")
    status, html = post(client, PAGE, **TEXTS, audience="everyone")
    assert status == 403 and "For your office&#39;s (粤D) users, choose the region 4405" in html
    assert client.get(API, headers=STAFF_AUTH).json() == []  # nothing was kept


def test_a_supervisor_neither_sees_nor_acts_on_another_offices_broadcast_in_the_console(
    client: TestClient, staff_app: App
) -> None:
    theirs = of_li(staff_app)
    admins = client.post(API, json={**TEXTS, "audience": "everyone"}, headers=STAFF_AUTH).json()[
        "id"
    ]
    sign_in(client, "supervisor")
    status, html = post(client, PAGE, **TEXTS, audience="region", region="4405")
    ours = composed(html)
    listed = client.get(PAGE).text
    assert f'href="{PAGE}/{ours}"' in listed
    for other in (theirs, admins):
        assert f'href="{PAGE}/{other}"' not in listed
        response = client.get(f"{PAGE}/{other}")
        assert (response.status_code, "本所没有该群发：编号见群发列表。" in response.text) == (
            404,
            True,
        )
        for action in ("send", "pause", "resume", "cancel"):
            status, html = post(client, f"{PAGE}/{other}/{action}")
            assert (status, "本所没有该群发：编号见群发列表。" in html) == (404, True), action
        assert client.get(f"/staff/live/broadcast?id={other}").status_code == 404
        assert client.get(f"{API}/{other}", headers=STAFF_AUTH).json()["status"] == "draft"
    sign_in(client, "li")
    assert f'href="{PAGE}/{ours}"' not in client.get(PAGE).text
    sign_in(client, "admin")
    listed = client.get(PAGE).text
    for shown, office in ((ours, "粤D"), (theirs, "粤A"), (admins, "全部车管所")):
        row = re.search(
            rf'<tr>\s*<td data-label="#"><a href="{PAGE}/{shown}">.*?</tr>', listed, re.S
        )
        assert row is not None and f">{office}</td>" in row.group(0), listed
    status, html = post(client, f"{PAGE}/{ours}/cancel")  # an admin acts on every office's
    assert (status, f"群发通知 #{ours} 已取消。" in html) == (200, True)


def test_the_api_acts_for_every_office_and_says_whose_each_broadcast_is(
    client: TestClient, staff_app: App
) -> None:
    theirs = of_li(staff_app)
    response = client.post(API, json={**TEXTS, "audience": "everyone"}, headers=STAFF_AUTH)
    assert (response.status_code, response.json()["office_code"]) == (201, None)
    listed = client.get(API, headers=STAFF_AUTH).json()
    assert [(b["id"], b["office_code"]) for b in listed] == [
        (response.json()["id"], None),
        (theirs, "粤A"),
    ]
    assert client.get(f"{API}/{theirs}", headers=STAFF_AUTH).json()["office_code"] == "粤A"
    cancelled = client.post(f"{API}/{theirs}/cancel", headers=STAFF_AUTH)
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")


def test_the_command_line_lists_and_acts_on_every_offices_broadcasts(
    staff_app: App, world: None
) -> None:
    theirs = of_li(staff_app)
    env = {"PLATEBOT_DATABASE_URL": staff_app.db.url.render_as_string(hide_password=False)}
    compose = ["staff", "broadcast", "compose", "--zh", "通知", "--en", "Notice", "--json"]
    result = CliRunner().invoke(cli, [*compose, "--audience", "everyone"], env=env)
    assert result.exit_code == 0, result.stderr
    ours = json.loads(result.stdout)["id"]
    result = CliRunner().invoke(cli, ["staff", "broadcast", "list", "--json"], env=env)
    assert result.exit_code == 0, result.stderr
    assert [(b["id"], b["office_code"]) for b in json.loads(result.stdout)] == [
        (ours, None),
        (theirs, "粤A"),
    ]
    result = CliRunner().invoke(cli, ["staff", "broadcast", "cancel", str(theirs)], env=env)
    assert result.exit_code == 0 and "status: cancelled" in result.stdout, result.stderr
