"""The staff web console (``/staff/``) over HTTP: signing in and its limits, sessions, CSRF,
roles, the counter, uploads with line-numbered reports, and the audit of every staff action
(console, API and command line alike). The same in a real browser: tests/browser."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from core.clock import ManualClock
from core.orders import OrderState
from core.reservations import reserve
from platebot.bootstrap import App
from platebot.server import create_web_app
from tests.order_world import account, order_of, pending_order
from tests.preselect_world import PERSON_PHONE, vin
from tests.staff_console_world import (
    CSV_WITH_A_BAD_ROW,
    PASSWORD,
    csrf_of,
    preselected_world,
)
from tests.support import STAFF_AUTH, CapturingSender


@pytest.fixture
def client(staff_app: App, sms: CapturingSender) -> Iterator[TestClient]:
    preselected_world(staff_app, sms)
    with TestClient(create_web_app(staff_app, run_workers=False)) as test_client:
        yield test_client


def sign_in(client: TestClient, name: str, password: str = PASSWORD) -> TestClient:
    form = client.get("/staff/login")
    response = client.post(
        "/staff/login",
        data={"name": name, "password": password, "csrf": csrf_of(form.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return client


def post(client: TestClient, path: str, page: str, **data: str) -> tuple[int, str]:
    """Post the form on ``page`` (its CSRF token) to ``path``."""
    token = csrf_of(client.get(page).text)
    response = client.post(path, data={**data, "csrf": token})
    return response.status_code, response.text


def test_pages_need_a_signed_in_member_who_then_comes_back_to_the_page(
    client: TestClient,
) -> None:
    response = client.get("/staff/", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/staff/login")
    for path in ("/staff/counter", "/staff/audit", "/staff/live/counter"):
        response = client.get(path, follow_redirects=False)
        assert (response.status_code, response.headers["location"]) == (
            303,
            f"/staff/login?next={path}",
        )
    form = client.get("/staff/login?next=/staff/counter")
    data = {"name": "clerk", "password": PASSWORD, "csrf": csrf_of(form.text)}
    data["next"] = "/staff/counter"
    signed = client.post("/staff/login", data=data, follow_redirects=False)
    assert signed.headers["location"] == "/staff/counter"
    client.cookies.clear()
    form = client.get("/staff/login")
    data = {"name": "clerk", "password": PASSWORD, "csrf": csrf_of(form.text)}
    data["next"] = "https://evil.example/"
    elsewhere = client.post("/staff/login", data=data, follow_redirects=False)
    assert elsewhere.headers["location"] == "/staff/"  # never sent off the console


def test_pages_are_never_framed_and_load_only_their_own_files(client: TestClient) -> None:
    page = client.get("/staff/login")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"


def test_a_wrong_password_is_refused_in_words_and_a_right_one_signs_in(client: TestClient) -> None:
    form = client.get("/staff/login")
    wrong = client.post(
        "/staff/login",
        data={"name": "clerk", "password": "guess", "csrf": csrf_of(form.text)},
    )
    assert wrong.status_code == 401 and "用户名或密码错误" in wrong.text
    sign_in(client, "clerk")
    home = client.get("/staff/")
    assert "clerk · 窗口办事员 · 粤D" in home.text
    assert 'data-live="counter"' in home.text


def test_sign_in_attempts_are_limited_per_account_then_per_address(
    client: TestClient, clock: ManualClock
) -> None:
    def attempt(name: str, password: str = "wrong password") -> int:  # noqa: S107
        token = csrf_of(client.get("/staff/login").text)
        data = {"name": name, "password": password, "csrf": token}
        return client.post("/staff/login", data=data, follow_redirects=False).status_code

    assert [attempt("clerk") for _ in range(5)] == [401] * 5
    token = csrf_of(client.get("/staff/login").text)
    right = {"name": "clerk", "password": PASSWORD, "csrf": token}
    throttled = client.post("/staff/login", data=right)  # even the right password waits
    assert throttled.status_code == 429 and "请15分钟后再试" in throttled.text
    assert attempt("supervisor", PASSWORD) == 303  # another account: not held up
    clock.advance(timedelta(minutes=15, seconds=1))  # the failures leave the window
    assert attempt("clerk", PASSWORD) == 303
    members = ("admin", "supervisor", "clerk", "clerk_a")
    tries = [attempt(name) for _ in range(4) for name in members]  # 4 each: under 5 an account
    tries += [attempt(f"nobody{n}") for n in range(4)]  # names nobody has
    assert tries == [401] * 20
    assert attempt("admin", PASSWORD) == 429  # the address waits, whatever the account


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(client: TestClient) -> None:
    sign_in(client, "clerk")
    bare = client.post("/staff/counter/confirm", data={"vin": vin(1)})
    assert bare.status_code == 403 and "请刷新页面后重新提交" in bare.text
    forged = client.post("/staff/counter/confirm", data={"vin": vin(1), "csrf": "x" * 32})
    assert forged.status_code == 403
    assert "粤D·12345" in client.get("/staff/counter").text  # still waiting


def test_a_clerk_confirms_at_the_counter_and_the_audit_says_who(client: TestClient) -> None:
    sign_in(client, "clerk")
    assert client.get("/staff/live/counter").json()["waiting"] == 1
    status, html = post(client, "/staff/counter/confirm", "/staff/counter", vin=vin(1))
    assert status == 200 and f"已确认：粤D·12345核发给{vin(1)}。" in html
    assert client.get("/staff/live/counter").json()["waiting"] == 0
    again_status, again = post(client, "/staff/counter/confirm", "/staff/counter", vin=vin(1))
    assert again_status == 422 and 'class="error"' in again
    client.post("/staff/logout", data={"csrf": csrf_of(client.get("/staff/").text)})
    sign_in(client, "supervisor")
    audit = client.get("/staff/audit").text
    assert "preselection.confirm" in audit and vin(1) in audit and "clerk" in audit


def test_a_clerk_is_refused_supervisor_pages_and_another_offices_counter_work(
    client: TestClient,
) -> None:
    sign_in(client, "clerk_a")  # a clerk of 粤A
    for path in ("/staff/registry", "/staff/pool", "/staff/audit", "/staff/users"):
        refused = client.get(path)
        assert refused.status_code == 403 and "窗口办事员无权打开此页面" in refused.text, path
    status, html = post(client, "/staff/counter/confirm", "/staff/counter", vin=vin(1))
    assert status == 403 and "无权" in html
    assert "粤D·12345" not in client.get("/staff/counter").text  # 粤A's counter lists 粤A's


def test_signing_out_ends_every_copy_of_the_session(client: TestClient) -> None:
    sign_in(client, "clerk")
    copied = dict(client.cookies)
    client.post("/staff/logout", data={"csrf": csrf_of(client.get("/staff/").text)})
    client.cookies.clear()
    for name, value in copied.items():
        client.cookies.set(name, value, path="/staff")
    response = client.get("/staff/", follow_redirects=False)
    assert response.status_code == 303


def test_a_supervisor_imports_the_registry_and_sees_the_bad_rows_line_numbers(
    client: TestClient,
) -> None:
    sign_in(client, "supervisor")
    token = csrf_of(client.get("/staff/registry").text)
    response = client.post(
        "/staff/registry",
        data={"csrf": token},
        files={"file": ("vehicles.csv", CSV_WITH_A_BAD_ROW.encode(), "text/csv")},
    )
    assert response.status_code == 200
    assert "新增1辆车，更新0辆。" in response.text and "第3行" in response.text
    gbk = client.post(
        "/staff/registry",
        data={"csrf": token},
        files={"file": ("v.csv", "车架号".encode("gbk"), "text/csv")},
    )
    assert gbk.status_code == 422 and "不是UTF-8文本" in gbk.text


def test_a_pool_csv_is_loaded_with_its_bad_lines_reported(
    client: TestClient, staff_app: App
) -> None:
    sign_in(client, "supervisor")
    token = csrf_of(client.get("/staff/pool").text)
    response = client.post(
        "/staff/pool",
        data={"csrf": token, "office": "粤D", "kind": "small"},
        files={"file": ("numbers.csv", b"serial\n20001\nABCDEFG\n20002\n", "text/csv")},
    )
    assert response.status_code == 200
    assert "新增2个号码" in response.text and "第3行" in response.text
    with staff_app.uow() as uow:  # 20003 is reserved by a user: not the office's to pool
        account = uow.accounts.by_phone(PERSON_PHONE)
        assert account is not None
        now = staff_app.clock.now()
        reserve(uow, now=now, account=account, office_code="粤D", serial="20003", vin=vin(7))
        uow.commit()
    reserved = client.post(
        "/staff/pool",
        data={"csrf": token, "office": "粤D", "kind": "small", "ranges": "20003-20004"},
    )
    assert "新增1个号码" in reserved.text
    why = "粤D·20003已被用户预约，将通过预约进入竞买，不能放入号池或上架。"
    assert f"<td>20003</td><td>{why}</td>" in reserved.text
    other = client.post(
        "/staff/pool", data={"csrf": token, "office": "粤A", "kind": "small", "ranges": "1-2"}
    )
    assert other.status_code == 403  # another office's pool


def test_an_admin_adds_a_staff_member_who_can_then_sign_in(client: TestClient) -> None:
    sign_in(client, "admin")
    status, html = post(
        client,
        "/staff/users",
        "/staff/users",
        name="wangfang",
        password="short",
        role="clerk",
        office="粤D",
    )
    assert status == 422 and "密码太短" in html
    status, html = post(
        client,
        "/staff/users",
        "/staff/users",
        name="wangfang",
        password=PASSWORD,
        role="clerk",
        office="粤D",
    )
    assert status == 200 and "wangfang现在可以登录了。" in html
    client.cookies.clear()
    sign_in(client, "wangfang")
    assert "wangfang · 窗口办事员" in client.get("/staff/").text


def test_the_console_speaks_english_when_asked(client: TestClient) -> None:
    sign_in(client, "clerk")
    client.get("/staff/lang/en?back=/staff/counter")
    page = client.get("/staff/counter").text
    assert "Waiting for confirmation" in page and "粤D·12345" in page


def test_api_actions_are_audited_too_and_supervisors_see_their_offices(
    client: TestClient,
) -> None:
    load = {"kind": "small", "serials": ["30001"]}
    for office in ("粤D", "粤A"):
        response = client.post(f"/staff/api/offices/{office}/pool", json=load, headers=STAFF_AUTH)
        assert response.status_code == 200
    sign_in(client, "admin")
    audit = client.get("/staff/audit").text
    assert "粤D small" in audit and "粤A small" in audit and "api testclient" in audit
    assert "sign_in" in audit
    client.cookies.clear()
    sign_in(client, "supervisor")
    audit = client.get("/staff/audit").text
    assert "粤D small" in audit and "粤A small" not in audit


def test_a_clerk_takes_a_counter_payment_and_only_a_supervisor_refunds(
    client: TestClient, staff_app: App
) -> None:
    order = pending_order(staff_app, account(staff_app, phone="+8613700137000"))
    sign_in(client, "clerk")
    page = f"/staff/orders?id={order.id}"
    assert "¥12,000" in client.get(page).text
    status, html = post(client, f"/staff/orders/{order.id}/pay", page, receipt="R-0001")
    assert status == 200 and f"订单{order.id}已付款。" in html
    assert order_of(staff_app, order.id or 0).state is OrderState.PAID
    assert f"/staff/orders/{order.id}/refund" not in html  # a clerk is not offered refunds
    status, html = post(client, f"/staff/orders/{order.id}/refund", page, amount="50")
    assert status == 403
    client.cookies.clear()
    sign_in(client, "supervisor")
    status, html = post(client, f"/staff/orders/{order.id}/refund", page, amount="12.5x")
    assert status == 422 and "不是有效的元数" in html
    status, html = post(
        client, f"/staff/orders/{order.id}/refund", page, amount="50", receipt="RF-1"
    )
    assert status == 200 and f"订单{order.id}已退款。" in html
    assert order_of(staff_app, order.id or 0).refunded == 5000


def test_a_supervisor_changes_their_office_only_and_an_admin_adds_offices(
    client: TestClient,
) -> None:
    sign_in(client, "supervisor")
    status, html = post(client, "/staff/offices/粤D", "/staff/offices", hours="08:30-17:30")
    assert status == 200 and "粤D的设置已保存。" in html and "08:30-17:30" in html
    status, html = post(client, "/staff/offices/粤D/holidays", "/staff/offices", day="2026-12-25")
    assert status == 200 and "2026-12-25为粤D的节假日。" in html
    status, _ = post(client, "/staff/offices/粤A", "/staff/offices", hours="08:30-17:30")
    assert status == 403
    status, _ = post(
        client, "/staff/offices", "/staff/offices", code="粤B", name="x", region_code="4405"
    )
    assert status == 403
    client.cookies.clear()
    sign_in(client, "admin")
    status, html = post(
        client,
        "/staff/offices",
        "/staff/offices",
        code="粤C",
        name="珠海市车辆管理所",
        region_code="4404",
    )
    assert status == 200 and "车管所粤C已新增。" in html


def test_a_supervisor_publishes_and_withdraws_an_announcement(
    client: TestClient, staff_app: App
) -> None:
    sign_in(client, "supervisor")
    status, html = post(
        client, "/staff/info/announcement", "/staff/info", title="元旦放假", body="1月1日休息。"
    )
    assert status == 200 and "元旦放假" in html
    with staff_app.uow() as uow:
        (published,) = uow.info.announcements(now=None)
    status, html = post(client, f"/staff/info/announcement/{published.id}/withdraw", "/staff/info")
    assert status == 200 and "已撤回。" in html
    with staff_app.uow() as uow:
        assert uow.info.announcements(now=staff_app.clock.now()) == []


def test_a_supervisor_loads_a_range_and_is_told_why_a_lift_is_refused(client: TestClient) -> None:
    sign_in(client, "supervisor")
    token = csrf_of(client.get("/staff/pool").text)
    loaded = client.post(
        "/staff/pool",
        data={"csrf": token, "office": "粤D", "kind": "small", "ranges": "20000-20009"},
    )
    assert loaded.status_code == 200 and "新增10个号码，0个已在号池中。" in loaded.text
    status, html = post(client, "/staff/blacklist/lift", "/staff/blacklist", phone="13800138000")
    assert status == 422 and "不在网上选号黑名单中" in html
