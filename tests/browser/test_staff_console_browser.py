"""The staff console as staff use it, in Chromium: signing in, the counter, a registry upload
with a bad row, what a clerk may not open, a form without its CSRF token, the sign-in limit, a
live part updating without a reload, and a phone-sized screen. Screenshots of the main pages
are saved (see conftest)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from platebot.bootstrap import App
from tests.preselect_world import vin
from tests.staff_console_world import CSV_WITH_A_BAD_ROW, PASSWORD, preselected_world
from tests.support import CapturingSender

LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def signed_in(browser: Any, base: str, name: str, viewport: dict[str, int] = LAPTOP) -> Any:
    page = browser.new_context(viewport=viewport, base_url=base).new_page()
    page.goto("/staff/")  # not signed in: sent to the sign-in page
    assert page.url.endswith("/staff/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/staff/")
    return page


def test_a_clerk_signs_in_confirms_at_the_counter_and_the_start_page_follows_live(
    browser: Any, served: tuple[App, str], sms: CapturingSender, shots: Path
) -> None:
    from playwright.sync_api import expect  # noqa: PLC0415

    app, base = served
    preselected_world(app, sms)
    home = signed_in(browser, base, "clerk")
    expect(home.locator("#who")).to_have_text("clerk · 窗口办事员 · 粤D")
    waiting = home.locator("[data-live=counter] [data-field=waiting]")
    expect(waiting).to_have_text("1")
    home.evaluate("window.notReloaded = true")
    home.screenshot(path=str(shots / "home.png"), full_page=True)

    counter = home.context.new_page()  # a second tab of the same session
    counter.goto("/staff/")
    counter.click("nav >> text=窗口确认")
    expect(counter.locator("#waiting")).to_contain_text("粤D·12345")
    counter.screenshot(path=str(shots / "counter.png"), full_page=True)
    counter.fill("input[name=vin]", vin(1))
    counter.click("form.inline button[type=submit]")
    expect(counter.locator(".notice")).to_have_text(f"已确认：粤D·12345核发给{vin(1)}。")
    assert counter.locator("#waiting").count() == 0
    counter.screenshot(path=str(shots / "counter-confirmed.png"), full_page=True)

    expect(waiting).to_have_text("0", timeout=10_000)  # the first tab follows, not reloaded
    assert home.evaluate("window.notReloaded") is True
    home.context.close()


def test_a_supervisor_imports_a_registry_csv_and_sees_the_bad_rows_line_number(
    browser: Any, served: tuple[App, str], sms: CapturingSender, shots: Path
) -> None:
    from playwright.sync_api import expect  # noqa: PLC0415

    app, base = served
    preselected_world(app, sms)
    page = signed_in(browser, base, "supervisor")
    page.click("nav >> text=车辆合格证库")
    page.set_input_files(
        "input[name=file]",
        {"name": "vehicles.csv", "mimeType": "text/csv", "buffer": CSV_WITH_A_BAD_ROW.encode()},
    )
    page.click("button[type=submit] >> text=导入")
    expect(page.locator("#report")).to_contain_text("新增1辆车，更新0辆。")
    expect(page.locator("#bad-rows")).to_contain_text("第3行")
    page.screenshot(path=str(shots / "registry-import.png"), full_page=True)
    for name, path in (
        ("pool", "/staff/pool"),
        ("offices", "/staff/offices"),
        ("audit", "/staff/audit"),
    ):
        page.goto(path)
        page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    expect(page.locator("#audit")).to_contain_text("registry.import")
    page.goto("/staff/lang/en?back=/staff/counter")
    expect(page.locator("h1")).to_have_text("Counter")
    page.screenshot(path=str(shots / "counter-en.png"), full_page=True)
    page.context.close()


def test_a_clerk_is_refused_a_supervisor_page_and_a_form_without_its_token(
    browser: Any, served: tuple[App, str], sms: CapturingSender
) -> None:
    from playwright.sync_api import expect  # noqa: PLC0415

    app, base = served
    preselected_world(app, sms)
    page = signed_in(browser, base, "clerk")
    assert page.locator("nav >> text=车辆合格证库").count() == 0  # not offered
    response = page.goto("/staff/registry")
    assert response is not None and response.status == 403
    expect(page.locator(".error")).to_contain_text("窗口办事员无权打开此页面")
    page.goto("/staff/counter")
    page.evaluate("document.querySelectorAll('input[name=csrf]').forEach(e => e.remove())")
    page.fill("input[name=vin]", vin(1))
    with page.expect_response("**/staff/counter/confirm") as answer:
        page.click("form.inline button[type=submit]")
    assert answer.value.status == 403
    expect(page.locator(".error")).to_contain_text("请刷新页面后重新提交")
    page.goto("/staff/counter")
    expect(page.locator("#waiting")).to_contain_text("粤D·12345")  # nothing was confirmed
    page.context.close()


def test_sign_in_is_refused_after_five_wrong_passwords(
    browser: Any, served: tuple[App, str], sms: CapturingSender, shots: Path
) -> None:
    from playwright.sync_api import expect  # noqa: PLC0415

    app, base = served
    preselected_world(app, sms)
    page = browser.new_context(viewport=PHONE, base_url=base).new_page()
    page.goto("/staff/login")
    page.screenshot(path=str(shots / "login-phone.png"), full_page=True)
    for _ in range(5):
        page.fill("input[name=name]", "clerk")
        page.fill("input[name=password]", "not the password")
        page.click("button[type=submit]")
        expect(page.locator(".error")).to_have_text("用户名或密码错误。")
    page.fill("input[name=name]", "clerk")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator(".error")).to_have_text("登录失败次数过多。请15分钟后再试。")
    page.context.close()


def test_the_pages_fit_a_phone_sized_screen(
    browser: Any, served: tuple[App, str], sms: CapturingSender, shots: Path
) -> None:
    app, base = served
    preselected_world(app, sms)
    page = signed_in(browser, base, "admin", viewport=PHONE)
    for path in ("/staff/counter", "/staff/orders", "/staff/users", "/staff/info"):
        page.goto(path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (path, overflow)
    page.goto("/staff/counter")
    page.screenshot(path=str(shots / "counter-phone.png"), full_page=True)
    page.context.close()
