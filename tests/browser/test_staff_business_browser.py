"""The console's business pages in Chromium: a supervisor publishes an auction period and adds a
lot, then watches the running lot's price change while bids arrive over SMS (signed Twilio
webhook posts, as a phone's texts arrive); reviews reservations; sends a broadcast and watches
its progress; lists a plate for sale. None of the live parts reloads its page. Screenshots of
these pages are saved (see conftest)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from core.clock import OFFICE_TZ, ManualClock
from platebot.bootstrap import App
from sms.channel import INBOUND_PATH
from tests.auction_journey_world import PHONE, JourneyWorld
from tests.auction_world import vin
from tests.browser.test_staff_console_browser import LAPTOP, signed_in
from tests.browser.test_staff_console_browser import PHONE as PHONE_SCREEN
from tests.preselect_world import add_office
from tests.reservation_world import pending_reservation, reservation_world
from tests.sms_support import inbound_form, messages_of, new_sid, sign
from tests.staff_console_world import add_staff


def text(base: str, phone: str, body: str) -> list[str]:
    """A text from ``phone``, as Twilio posts it to the served app: the replies."""
    form = inbound_form(phone, body, new_sid())
    signature = sign(INBOUND_PATH, form, public_url=base)
    answer = httpx.post(
        base + INBOUND_PATH, data=form, headers={"X-Twilio-Signature": signature}, timeout=30
    )
    assert answer.status_code == 200, answer.text
    return messages_of(answer.text)


def local(moment: datetime) -> str:
    return moment.astimezone(OFFICE_TZ).strftime("%Y-%m-%dT%H:%M")


def publish_with_a_lot(page: Any, now: datetime, starts: datetime, shots: Path) -> int:
    """On the auctions page: a period whose sign-up opens in a minute and whose bidding starts
    at ``starts``, and its lot 粤D·88888 from ¥10,000. Its id."""
    from playwright.sync_api import expect  # noqa: PLC0415

    page.click("nav >> text=竞价拍卖")
    page.fill("input[name=name]", "2026年第12期")
    page.fill("input[name=signup_opens]", local(now + timedelta(minutes=1)))
    page.fill("input[name=signup_closes]", local(starts))
    page.fill("input[name=starts_at]", local(starts))
    page.click("#publish button[type=submit]")
    expect(page.locator(".notice")).to_contain_text("2026年第12期已发布")
    page.screenshot(path=str(shots / "auctions.png"), full_page=True)
    page.click("#periods >> text=2026年第12期")
    page.fill("#add-lot input[name=serial]", "88888")
    page.fill("#add-lot input[name=price]", "10000")
    page.click("#add-lot button[type=submit]")
    expect(page.locator(".notice")).to_have_text("粤D·88888已加入本期拍卖。")
    found = re.search(r"/staff/auctions/(\d+)", page.url)
    assert found, page.url
    return int(found.group(1))


def test_a_supervisor_publishes_a_period_and_watches_a_lot_while_bids_arrive_by_sms(
    browser: Any, served: tuple[App, str], shots: Path
) -> None:
    from playwright.sync_api import expect  # noqa: PLC0415

    app, base = served
    world = JourneyWorld(app)  # 粤D, a user texting from PHONE
    add_office(app, code="粤A", region="4401", name="广州市车辆管理所")
    add_staff(app)
    clock = app.clock
    assert isinstance(clock, ManualClock)
    now = clock.now()
    starts = (now + timedelta(hours=2)).replace(second=0, microsecond=0)

    page = signed_in(browser, base, "supervisor")
    period_id = publish_with_a_lot(page, now, starts, shots)

    clock.advance(timedelta(minutes=5))  # sign-up is open: two bidders, deposits paid
    world.signed_up(period_id, [vin(1)])
    rival = world.rival(period_id)
    clock.set(starts)  # bidding starts
    page.click("#lots >> text=粤D·88888")
    price = page.locator("#live-lot [data-field=price]")
    expect(price).to_have_text("¥10,000")
    expect(page.locator("#live-lot [data-field=leader]")).to_have_text("—")
    page.evaluate("window.notReloaded = true")

    text(base, PHONE, "中文")
    assert any("¥11,000" in m for m in text(base, PHONE, "出价 1000")), "the bid is taken"
    expect(price).to_have_text("¥11,000", timeout=10_000)
    rival_phone = "+8613900000001"
    text(base, rival_phone, "中文")
    text(base, rival_phone, "出价 2000")
    expect(price).to_have_text("¥13,000", timeout=10_000)
    leader = rival.bidder_number
    expect(page.locator("#live-lot [data-field=leader]")).to_have_text(
        f"{leader[:2]}****{leader[-2:]}"
    )
    expect(page.locator("#live-lot [data-field=bids]")).to_have_text("2")
    expect(page.locator("#live-lot [data-field=recent]")).to_contain_text("¥11,000")
    expect(page.locator("#live-lot [data-field=state_text]")).to_have_text("竞价中")
    page.screenshot(path=str(shots / "lot-live.png"), full_page=True)
    clock.advance(timedelta(minutes=5))  # past its deadline: the lot closes, sold
    world.run_timers()
    expect(page.locator("#live-lot [data-field=state_text]")).to_have_text("已成交")
    expect(price).to_have_text("¥13,000")
    assert page.evaluate("window.notReloaded") is True
    page.context.close()


def test_a_supervisor_reviews_reservations_and_sends_a_broadcast_watching_its_progress(
    browser: Any, served: tuple[App, str], shots: Path
) -> None:
    from playwright.sync_api import expect  # noqa: PLC0415

    app, base = served
    ids = reservation_world(app)  # 粤D, three users
    add_office(app, code="粤A", region="4401", name="广州市车辆管理所")
    add_staff(app)
    first = pending_reservation(app, ids["me"], "A8888", 1)
    second = pending_reservation(app, ids["rival"], "A9999", 2)

    page = signed_in(browser, base, "supervisor")
    page.click("nav >> text=号牌预约")
    expect(page.locator(f"#reservation-{first}")).to_contain_text("粤D·A8888")
    page.screenshot(path=str(shots / "reservations.png"), full_page=True)
    page.click(f"#reservation-{first} form.approve button[type=submit]")
    expect(page.locator(".notice")).to_contain_text("已批准粤D·A8888")
    page.fill(f"#reservation-{second} input[name=reason]", "该号码不可预约")
    page.click(f"#reservation-{second} form.reject button[type=submit]")
    expect(page.locator(".notice")).to_have_text("已驳回粤D·A9999：已告知用户原因。")
    assert page.locator(".reservation").count() == 0  # none waiting now

    page.click("nav >> text=群发通知")
    page.fill("textarea[name=text_zh]", "本周六办事大厅照常办公。")
    page.fill("textarea[name=text_en]", "The office is open this Saturday.")
    page.fill("input[name=region]", "4405")  # 粤D's region: its supervisor's first audience
    page.select_option("select[name=channels]", "sms")
    page.click("#compose button[type=submit]")
    expect(page.locator("#recipients")).to_have_text("3")
    page.screenshot(path=str(shots / "broadcast-preview.png"), full_page=True)
    page.click("#preview #send")
    progress = page.locator("#progress")
    expect(progress.locator("[data-field=status_text]")).to_have_text("发送中")
    expect(progress.locator("[data-field=sent]")).to_have_text("0")
    page.evaluate("window.notReloaded = true")
    app.dispatcher.run_once()  # the outbox sends them
    expect(progress.locator("[data-field=sent]")).to_have_text("3", timeout=10_000)
    expect(progress.locator("[data-field=status_text]")).to_have_text("已完成")
    assert page.evaluate("window.notReloaded") is True
    page.screenshot(path=str(shots / "broadcast-progress.png"), full_page=True)
    page.context.close()


def test_plates_for_sale_on_a_phone_sized_screen(
    browser: Any, served: tuple[App, str], shots: Path
) -> None:
    from playwright.sync_api import expect  # noqa: PLC0415

    app, base = served
    reservation_world(app)
    add_office(app, code="粤A", region="4401", name="广州市车辆管理所")
    add_staff(app)
    page = signed_in(browser, base, "supervisor", viewport=PHONE_SCREEN)
    page.goto("/staff/sale")
    page.fill("#add-listing input[name=serial]", "A6666")
    page.fill("#add-listing input[name=price]", "8000")
    page.click("#add-listing button[type=submit]")
    expect(page.locator(".notice")).to_have_text("粤D·A6666已上架，价格¥8,000。")
    for path in ("/staff/sale", "/staff/auctions", "/staff/reservations", "/staff/broadcasts"):
        page.goto(path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (path, overflow)
    page.goto("/staff/sale")
    page.screenshot(path=str(shots / "sale-phone.png"), full_page=True)
    page.context.close()
    assert LAPTOP["width"] > PHONE_SCREEN["width"]
