"""The sandbox pay page and the payment callback, over HTTP as a browser and a gateway use them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import httpx
import httpx2
import pytest
from fastapi.testclient import TestClient

from core.clock import ManualClock
from core.orders import Order, OrderState
from core.timers import Timers
from platebot.bootstrap import App
from platebot.server import create_web_app
from tests.order_world import PRICE, account, ledger, order_of, pending_order
from tests.preselect_world import snapshot
from web.sandbox import SandboxGateway


@pytest.fixture
def client(app: App) -> Iterator[TestClient]:
    api = create_web_app(app, run_workers=False)
    # The sandbox posts its callback over HTTP to the app itself, as it would through the network.
    api.state.pay_transport = httpx.ASGITransport(app=api)
    with TestClient(api) as test_client:
        yield test_client


@pytest.fixture
def order(app: App) -> Order:
    return pending_order(app, account(app))


def gateway(app: App) -> SandboxGateway:
    assert isinstance(app.payments, SandboxGateway)
    return app.payments


def post_callback(client: TestClient, body: bytes, headers: dict[str, str]) -> httpx2.Response:
    return client.post("/pay/callback", content=body, headers=headers)


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("zh", ["订单支付", "购买号牌 粤D·A1234", "¥12,000", "2026-11-23 10:30（北京时间）"]),
        (
            "en",
            ["Pay your order", "Plate purchase Yue D A1234", "¥12,000", "2026-11-23 10:30 (China"],
        ),
    ],
)
def test_the_pay_page_shows_the_order_and_paying_it_by_form_post_pays_the_order(
    app: App, client: TestClient, order: Order, lang: str, words: list[str]
) -> None:
    page = client.get(f"/pay/{order.pay_token}", params={"lang": lang})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert 'name="viewport"' in page.text
    for word in words:
        assert word in page.text
    assert f'action="/pay/{order.pay_token}/pay"' in page.text
    assert f'action="/pay/{order.pay_token}/cancel"' in page.text

    paid = client.post(f"/pay/{order.pay_token}/pay", data={"lang": lang})

    assert paid.status_code == 200
    assert paid.url.path == f"/pay/{order.pay_token}"  # redirected back to the page
    assert ("支付成功" if lang == "zh" else "Paid. Thank you!") in paid.text
    assert f"/pay/{order.pay_token}/pay" not in paid.text  # no second Pay button
    stored = order_of(app, order.id or 0)
    assert stored.state is OrderState.PAID
    assert (stored.paid_via, stored.received, stored.refunded) == ("sandbox", PRICE, 0)
    assert ledger(app, order.id or 0) == [("placed", 0), ("paid", PRICE)]


def test_the_page_speaks_the_account_language_unless_asked_otherwise(
    client: TestClient, order: Order
) -> None:
    assert "订单支付" in client.get(f"/pay/{order.pay_token}").text  # the account's: zh
    english = client.get(f"/pay/{order.pay_token}?lang=en").text
    assert "Pay your order" in english
    assert 'href="?lang=zh"' in english


def test_cancel_on_the_pay_page_cancels_the_order(
    app: App, client: TestClient, order: Order
) -> None:
    page = client.post(f"/pay/{order.pay_token}/cancel", data={"lang": "en"})
    assert page.status_code == 200
    assert "This order was cancelled." in page.text
    assert order_of(app, order.id or 0).state is OrderState.CANCELLED
    # Pay pressed afterwards (a stale tab) takes no money.
    client.post(f"/pay/{order.pay_token}/pay", data={"lang": "en"})
    assert ledger(app, order.id or 0) == [("placed", 0), ("cancelled", 0)]


def test_an_unknown_pay_token_shows_not_found(client: TestClient, order: Order) -> None:
    for path in ("/pay/nosuchtoken", f"/pay/{order.id}"):
        page = client.get(path, params={"lang": "en"})
        assert page.status_code == 404
        assert "No such order" in page.text


def test_the_pay_token_is_not_the_order_id_and_not_guessable(app: App) -> None:
    owner = account(app)
    tokens = {pending_order(app, owner).pay_token for _ in range(20)}
    assert len(tokens) == 20
    assert all(len(token) >= 24 and not token.isdigit() for token in tokens)


# -- callbacks ---------------------------------------------------------------------------------


def callback(
    app: App,
    order: Order,
    *,
    signed_at: timedelta = timedelta(0),
    key: bytes | None = None,
    **changes: object,
) -> tuple[bytes, dict[str, str]]:
    """A callback as the sandbox posts it for ``order``, with ``changes`` to its body."""
    sandbox = gateway(app)
    body, _headers = sandbox.callback_for(order, app.clock.now())
    fields = json.loads(body)
    fields.update(changes)
    raw = json.dumps(fields).encode()
    signer = SandboxGateway(key, "http://x") if key is not None else sandbox
    return raw, signer.signed(raw, app.clock.now() + signed_at)


def forged(app: App, order: Order, how: str) -> tuple[bytes, dict[str, str]]:
    if how == "bad signature":
        return callback(app, order, key=b"not the key")
    if how == "no signature":
        body, _ = callback(app, order)
        return body, {"Content-Type": "application/json"}
    if how == "body changed after signing":
        body, headers = callback(app, order)
        return body.replace(str(PRICE).encode(), b"1"), headers
    if how == "stale timestamp":
        return callback(app, order, signed_at=-timedelta(minutes=6))
    if how == "timestamp from the future":
        return callback(app, order, signed_at=timedelta(minutes=6))
    if how == "amount differs":
        return callback(app, order, amount=PRICE - 100)
    if how == "currency differs":
        return callback(app, order, currency="USD")
    if how == "unknown order":
        return callback(app, order, order_id=(order.id or 0) + 1000)
    if how == "malformed body":
        return callback(app, order, amount="12000")
    raise AssertionError(how)


@pytest.mark.parametrize(
    ("how", "status"),
    [
        ("bad signature", 400),
        ("no signature", 400),
        ("body changed after signing", 400),
        ("stale timestamp", 400),
        ("timestamp from the future", 400),
        ("amount differs", 422),
        ("currency differs", 422),
        ("unknown order", 404),
        ("malformed body", 400),
    ],
)
def test_a_forged_callback_is_refused_and_changes_nothing(
    app: App, client: TestClient, order: Order, how: str, status: int
) -> None:
    before = snapshot(app)
    body, headers = forged(app, order, how)
    answer = post_callback(client, body, headers)
    assert answer.status_code == status, answer.text
    assert answer.json()["code"].startswith("payment.")
    assert snapshot(app) == before
    assert order_of(app, order.id or 0).state is OrderState.PENDING


def test_a_replayed_event_id_with_another_body_is_refused_and_changes_nothing(
    app: App, client: TestClient, order: Order
) -> None:
    body, headers = callback(app, order)
    assert post_callback(client, body, headers).json() == {"status": "paid"}
    other = pending_order(app, order.account_id)
    event_id = json.loads(body)["event_id"]
    before = snapshot(app)
    replay, replay_headers = callback(app, other, event_id=event_id)
    answer = post_callback(client, replay, replay_headers)
    assert answer.status_code == 409
    assert answer.json()["code"] == "payment.replayed"
    assert snapshot(app) == before
    assert order_of(app, other.id or 0).state is OrderState.PENDING


def test_the_same_callback_twice_pays_once(app: App, client: TestClient, order: Order) -> None:
    body, headers = callback(app, order)
    first = post_callback(client, body, headers)
    second = post_callback(client, body, headers)
    assert (first.status_code, first.json()) == (200, {"status": "paid"})
    # Answered 200, so the gateway stops retrying; nothing changes.
    assert (second.status_code, second.json()) == (200, {"status": "duplicate"})
    stored = order_of(app, order.id or 0)
    assert (stored.state, stored.received) == (OrderState.PAID, PRICE)
    assert ledger(app, order.id or 0) == [("placed", 0), ("paid", PRICE)]


def test_a_payment_after_expiry_is_refunded_and_the_page_says_so(
    app: App, client: TestClient, order: Order, clock: ManualClock
) -> None:
    clock.advance(timedelta(minutes=31))
    Timers(app.uow, clock).run_once()
    body, headers = callback(app, order)
    answer = post_callback(client, body, headers)
    assert answer.json() == {"status": "refunded"}
    stored = order_of(app, order.id or 0)
    assert stored.state is OrderState.EXPIRED
    assert (stored.received, stored.refunded, stored.balance) == (PRICE, PRICE, 0)
    assert ledger(app, order.id or 0) == [
        ("placed", 0),
        ("expired", 0),
        ("received_late", PRICE),
        ("refunded", -PRICE),
    ]
    page = client.get(f"/pay/{order.pay_token}?lang=en").text
    assert "This order expired unpaid." in page
    assert "Your payment of ¥12,000 arrived when the order could no longer be paid" in page


def test_a_payment_after_the_deadline_before_the_timer_ran_expires_the_order_and_is_refunded(
    app: App, client: TestClient, order: Order, clock: ManualClock
) -> None:
    clock.advance(timedelta(minutes=30, seconds=1))
    body, headers = callback(app, order)
    assert post_callback(client, body, headers).json() == {"status": "refunded"}
    assert order_of(app, order.id or 0).state is OrderState.EXPIRED
    assert [kind for kind, _ in ledger(app, order.id or 0)] == [
        "placed",
        "expired",
        "received_late",
        "refunded",
    ]


def test_a_payment_after_cancelling_is_refunded(app: App, client: TestClient, order: Order) -> None:
    body, headers = callback(app, order)  # the user paid in another tab, then cancelled here
    client.post(f"/pay/{order.pay_token}/cancel", data={"lang": "en"})
    assert post_callback(client, body, headers).json() == {"status": "refunded"}
    stored = order_of(app, order.id or 0)
    assert (stored.state, stored.balance) == (OrderState.CANCELLED, 0)


def test_a_second_payment_of_a_paid_order_is_refunded(
    app: App, client: TestClient, order: Order
) -> None:
    first_body, first_headers = callback(app, order)
    second_body, second_headers = callback(app, order)  # another event: paid twice
    assert post_callback(client, first_body, first_headers).json() == {"status": "paid"}
    assert post_callback(client, second_body, second_headers).json() == {"status": "refunded"}
    stored = order_of(app, order.id or 0)
    assert (stored.state, stored.received, stored.refunded) == (OrderState.PAID, 2 * PRICE, PRICE)


def test_after_the_deadline_the_page_offers_no_pay_even_before_the_timer_ran(
    app: App, client: TestClient, order: Order, clock: ManualClock
) -> None:
    clock.advance(timedelta(minutes=30, seconds=1))
    page = client.get(f"/pay/{order.pay_token}?lang=en")
    assert "This order expired unpaid." in page.text
    assert f"/pay/{order.pay_token}/pay" not in page.text
    client.post(f"/pay/{order.pay_token}/pay", data={"lang": "en"})
    assert ledger(app, order.id or 0) == [("placed", 0)]  # no money taken
