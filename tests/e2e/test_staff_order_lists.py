"""Staff list orders by state and by account, a page at a time, over the staff HTTP API and on the
command line (SPEC §10)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from core.clock import ManualClock
from core.orders import Purpose
from platebot.bootstrap import App
from platebot.cli import app as cli
from platebot.server import create_web_app
from tests.order_world import account, pay_at_the_counter, pending_order
from tests.support import STAFF_AUTH, CapturingSender, build_staff_app

URL = "/staff/api/orders"


@pytest.fixture
def staff_app(db: Engine, clock: ManualClock, sms: CapturingSender) -> App:
    return build_staff_app(db, clock, sms)


@pytest.fixture
def client(staff_app: App) -> Iterator[TestClient]:
    with TestClient(create_web_app(staff_app, run_workers=False)) as test_client:
        yield test_client


@pytest.fixture
def orders(staff_app: App) -> tuple[int, int]:
    """Two accounts: the first with orders 1 (paid), 2 and 3 (pending, a deposit and a purchase);
    the second with order 4 (pending)."""
    first, second = account(staff_app), account(staff_app, "+8613900139001")
    pay_at_the_counter(staff_app, pending_order(staff_app, first).id or 0)
    pending_order(staff_app, first, purpose=Purpose.AUCTION_DEPOSIT, reference="lot:1")
    pending_order(staff_app, first, reference="listing:2")
    pending_order(staff_app, second, reference="listing:3")
    return first, second


def ids(page: dict[str, object]) -> list[int]:
    listed = page["orders"]
    assert isinstance(listed, list)
    return [order["id"] for order in listed]


def test_staff_list_orders_by_state_and_account_a_page_at_a_time_over_http(
    client: TestClient, orders: tuple[int, int]
) -> None:
    first, second = orders
    assert client.get(URL).status_code == 401
    everything = client.get(URL, headers=STAFF_AUTH).json()
    assert (ids(everything), everything["next_offset"]) == ([4, 3, 2, 1], None)
    pending = client.get(URL, params={"state": "pending"}, headers=STAFF_AUTH).json()
    assert ids(pending) == [4, 3, 2]
    mine = client.get(URL, params={"state": "pending", "account": first}, headers=STAFF_AUTH).json()
    assert ids(mine) == [3, 2]
    assert mine["orders"][1]["purpose"] == "auction_deposit"
    assert mine["orders"][1]["amount"] == "¥12,000"
    paid = client.get(URL, params={"state": "paid", "account": second}, headers=STAFF_AUTH)
    assert paid.json() == {"orders": [], "next_offset": None}

    first_page = client.get(URL, params={"limit": 3}, headers=STAFF_AUTH).json()
    assert (ids(first_page), first_page["next_offset"]) == ([4, 3, 2], 3)
    last_page = client.get(
        URL, params={"limit": 3, "offset": first_page["next_offset"]}, headers=STAFF_AUTH
    ).json()
    assert (ids(last_page), last_page["next_offset"]) == ([1], None)


@pytest.mark.parametrize(
    "params",
    [{"state": "lost"}, {"account": 0}, {"limit": 0}, {"limit": 501}, {"offset": -1}],
)
def test_a_listing_out_of_bounds_is_refused_saying_where(
    client: TestClient, params: dict[str, str | int]
) -> None:
    refused = client.get(URL, params=params, headers=STAFF_AUTH)
    assert refused.status_code == 422
    assert refused.json()["code"] == "request.invalid"
    assert refused.json()["params"]["field"].endswith(next(iter(params)))


def test_the_listing_is_documented_with_its_bounds(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"][URL]["get"]
    bounds = {
        p["name"]: {k: v for k, v in p["schema"].items() if k in ("minimum", "maximum")}
        for p in operation["parameters"]
        if "schema" in p
    }
    assert bounds["limit"] == {"minimum": 1, "maximum": 500}
    assert bounds["offset"] == {"minimum": 0, "maximum": 2147483647}
    assert set(operation["responses"]) >= {"200", "422"}


def test_staff_list_orders_on_the_command_line(
    staff_app: App, db: Engine, orders: tuple[int, int]
) -> None:
    first, _ = orders
    env = {
        "PLATEBOT_DATABASE_URL": db.url.render_as_string(hide_password=False),
        "PLATEBOT_SECRET_KEY": "test-secret",
    }

    def run(*args: str) -> tuple[int, str, str]:
        result = CliRunner().invoke(cli, ["staff", "order", "list", *args], env=env)
        return result.exit_code, result.stdout, result.stderr

    code, out, _ = run("--state", "pending", "--account", str(first), "--json")
    assert code == 0, out
    assert ids(json.loads(out)) == [3, 2]
    code, out, err = run("--state", "pending", "--limit", "2")
    assert code == 0 and "粤D·A1234" in out and "¥12,000" in out
    assert "More: --offset 2" in err
    code, out, err = run("--state", "pending", "--limit", "2", "--offset", "2")
    assert code == 0 and "More" not in err
    code, _, err = run("--state", "lost")
    assert code == 2 and "pending" in err
