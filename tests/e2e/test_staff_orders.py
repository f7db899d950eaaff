"""Staff counter payment and refunds, over the staff HTTP API and on the command line."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from core.clock import ManualClock
from core.orders import OrderState
from core.outbox import Channel
from platebot.bootstrap import App, build_app
from platebot.cli import app as cli
from platebot.server import create_web_app
from platebot.settings import Settings
from tests.order_world import PRICE, account, ledger, order_of, pending_order
from tests.support import CapturingSender

TOKEN = "staff-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def staff_app(db: Engine, clock: ManualClock, sms: CapturingSender) -> App:
    settings = Settings(database_url=str(db.url), secret_key="test-secret", staff_token=TOKEN)
    return build_app(settings, clock=clock, senders={Channel.SMS: sms}, db=db, upgrade=False)


@pytest.fixture
def client(staff_app: App) -> Iterator[TestClient]:
    with TestClient(create_web_app(staff_app, run_workers=False)) as test_client:
        yield test_client


def test_a_clerk_takes_payment_at_the_counter_and_refunds_part_of_it_over_http(
    staff_app: App, client: TestClient
) -> None:
    order = pending_order(staff_app, account(staff_app))
    url = f"/staff/api/orders/{order.id}"
    assert (
        client.post(f"{url}/counter-payment", json={"receipt": "R1", "staff": "王芳"}).status_code
        == 401
    )
    paid = client.post(
        f"{url}/counter-payment", json={"receipt": "R-0001", "staff": "王芳"}, headers=AUTH
    )
    assert paid.status_code == 200, paid.text
    assert (paid.json()["state"], paid.json()["amount"], paid.json()["paid_via"]) == (
        "paid",
        "¥12,000",
        "counter",
    )
    again = client.post(
        f"{url}/counter-payment", json={"receipt": "R-2", "staff": "王芳"}, headers=AUTH
    )
    assert again.status_code == 409
    assert again.json()["code"] == "order.not_pending"
    no_receipt = client.post(
        f"{url}/refunds", json={"staff": "王芳", "amount_fen": 100}, headers=AUTH
    )
    assert no_receipt.status_code == 422
    part = client.post(
        f"{url}/refunds",
        json={"staff": "王芳", "amount_fen": 200_000, "receipt": "RF-1"},
        headers=AUTH,
    )
    assert (part.json()["state"], part.json()["refunded_fen"]) == ("paid", 200_000)
    rest = client.post(f"{url}/refunds", json={"staff": "王芳", "receipt": "RF-2"}, headers=AUTH)
    assert (rest.json()["state"], rest.json()["refunded_fen"]) == ("refunded", PRICE)
    assert ledger(staff_app, order.id or 0)[-2:] == [
        ("refunded", -200_000),
        ("refunded", -1_000_000),
    ]
    assert client.get("/staff/api/orders/999", headers=AUTH).status_code == 404


def test_a_gateway_payment_is_refunded_through_the_gateway_over_http(
    staff_app: App, client: TestClient
) -> None:
    order = pending_order(staff_app, account(staff_app))
    body, headers = staff_app.payments.callback_for(order, staff_app.clock.now())  # type: ignore[attr-defined]
    assert client.post("/pay/callback", content=body, headers=headers).json() == {"status": "paid"}
    refund = client.post(
        f"/staff/api/orders/{order.id}/refunds", json={"staff": "王芳"}, headers=AUTH
    )
    assert refund.status_code == 200, refund.text
    assert order_of(staff_app, order.id or 0).state is OrderState.REFUNDED
    with staff_app.uow() as uow:
        assert uow.orders.moves(order.id or 0)[-1].reference == f"SBXR-R{order.id}-{PRICE}"


def test_staff_pay_and_refund_orders_on_the_command_line(app: App, db: Engine) -> None:
    order = pending_order(app, account(app))
    runner = CliRunner()
    env = {
        "PLATEBOT_DATABASE_URL": db.url.render_as_string(hide_password=False),
        "PLATEBOT_SECRET_KEY": "test-secret",
    }

    def run(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(cli, ["staff", "order", *args], env=env)
        return result.exit_code, result.stdout, result.stderr

    # The order was placed at the manual clock's time; the CLI runs on the real clock, so the
    # order is moved to a deadline that has not passed for it.
    with app.uow() as uow:
        stored = uow.orders.get(order.id or 0)
        assert stored is not None
        stored.deadline = stored.deadline.replace(year=9999)
        uow.commit()
    code, out, _ = run("pay", str(order.id), "--receipt", "R-7", "--staff", "王芳")
    assert code == 0 and "state: paid" in out
    code, _, err = run("refund", str(order.id), "--staff", "王芳", "--amount", "abc")
    assert code == 2 and "Not an amount" in err
    code, _, err = run("refund", str(order.id), "--staff", "王芳", "--amount", "5000")
    assert code == 1 and "receipt" in err
    code, out, _ = run(
        "refund", str(order.id), "--staff", "王芳", "--amount", "5000", "--receipt", "F"
    )
    assert code == 0 and "refunded_fen: 500000" in out
    code, out, _ = run("show", str(order.id), "--json")
    assert code == 0 and json.loads(out)["state"] == "paid"
    code, _, err = run("show", "999")
    assert code == 1 and "No such order" in err


def test_order_routes_are_documented_and_pay_pages_are_not_in_the_api(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    refunds = paths["/staff/api/orders/{order_id}/refunds"]["post"]
    assert refunds["summary"] == "Refund an order, whole or in part"
    assert {"404", "409", "422"} <= set(refunds["responses"])
    assert "/pay/callback" in paths
    assert not [path for path in paths if path.startswith("/pay/{token}")]
