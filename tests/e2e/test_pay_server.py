"""The pay page on a real HTTP server: the sandbox posts its callback through the network to
``PLATEBOT_PUBLIC_URL``, as a gateway would, while the browser waits for the page."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy.engine import Engine

from core.clock import ManualClock
from core.orders import OrderState
from core.outbox import Channel
from platebot.bootstrap import App, build_app
from platebot.server import create_web_app
from platebot.settings import Settings
from tests.order_world import PRICE, account, ledger, order_of, pending_order
from tests.support import CapturingSender
from tests.thread_server import free_port, served_in_thread


@pytest.fixture
def served(db: Engine, clock: ManualClock, sms: CapturingSender) -> Iterator[tuple[App, str]]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = Settings(database_url=str(db.url), secret_key="test-secret", public_url=base)
    app = build_app(settings, clock=clock, senders={Channel.SMS: sms}, db=db, upgrade=False)
    with served_in_thread(create_web_app(app, run_workers=False), port):
        yield app, base


def test_a_browser_pays_on_the_served_page_and_the_callback_arrives_over_http(
    served: tuple[App, str],
) -> None:
    app, base = served
    order = pending_order(app, account(app))
    with httpx.Client(base_url=base, follow_redirects=True, timeout=30) as browser:
        page = browser.get(f"/pay/{order.pay_token}")
        assert page.status_code == 200 and "¥12,000" in page.text
        paid = browser.post(f"/pay/{order.pay_token}/pay", data={"lang": "zh"})
    assert paid.status_code == 200
    assert "支付成功" in paid.text
    assert order_of(app, order.id or 0).state is OrderState.PAID
    assert ledger(app, order.id or 0) == [("placed", 0), ("paid", PRICE)]
