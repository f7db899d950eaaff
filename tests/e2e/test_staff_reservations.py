"""Staff review of plate reservations, over the staff HTTP API and on the command line."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from core.clock import ManualClock
from platebot.bootstrap import App
from platebot.cli import app as cli
from platebot.server import create_web_app
from tests.reservation_world import (
    order,
    pending_reservation,
    reservation_world,
    sms_to,
)
from tests.support import STAFF_AUTH, CapturingSender, build_staff_app


@pytest.fixture
def staff_app(db: Engine, clock: ManualClock, sms: CapturingSender) -> App:
    return build_staff_app(db, clock, sms)


@pytest.fixture
def client(staff_app: App) -> Iterator[TestClient]:
    with TestClient(create_web_app(staff_app, run_workers=False)) as test_client:
        yield test_client


def test_staff_list_approve_and_reject_reservations_over_http(
    staff_app: App, client: TestClient, sms: CapturingSender
) -> None:
    me = reservation_world(staff_app)["me"]
    first = pending_reservation(staff_app, me, "A8888", 1)
    second = pending_reservation(staff_app, me, "A9999", 2)
    url = "/staff/api/reservations"
    assert client.get(url).status_code == 401
    listed = client.get(url, params={"state": "pending"}, headers=STAFF_AUTH)
    assert [(r["id"], r["plate"], r["state"]) for r in listed.json()] == [
        (first, "粤D·A8888", "pending"),
        (second, "粤D·A9999", "pending"),
    ]
    approval = {"staff": "王芳", "deposit_fen": 300_000, "starting_price_fen": 2_000_000}
    done = client.post(f"{url}/{first}/approval", json=approval, headers=STAFF_AUTH)
    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["state"], body["deposit"], body["starting_price"], body["reviewed_by"]) == (
        "approved",
        "¥3,000",
        "¥20,000",
        "王芳",
    )
    assert order(staff_app, body["order_id"]).amount == 300_000
    again = client.post(f"{url}/{first}/approval", json={"staff": "王芳"}, headers=STAFF_AUTH)
    assert (again.status_code, again.json()["code"]) == (409, "reservation.not_pending")
    unknown = client.post(
        f"{url}/999/rejection", json={"staff": "王", "reason": "x"}, headers=STAFF_AUTH
    )
    assert (unknown.status_code, unknown.json()["code"]) == (404, "reservation.unknown")
    blank = client.post(
        f"{url}/{second}/rejection", json={"staff": "王芳", "reason": "   "}, headers=STAFF_AUTH
    )
    assert blank.status_code == 422
    rejected = client.post(
        f"{url}/{second}/rejection",
        json={"staff": "王芳", "reason": "号码保留"},
        headers=STAFF_AUTH,
    )
    assert (rejected.json()["state"], rejected.json()["reason"]) == ("rejected", "号码保留")
    staff_app.dispatcher.run_once()
    told = sms_to(sms)
    assert any("¥3,000" in text and "/pay/" in text for text in told), told
    assert any("号码保留" in text for text in told), told
    assert [
        r["id"] for r in client.get(url, params={"state": "pending"}, headers=STAFF_AUTH).json()
    ] == []


def test_reservation_routes_are_documented(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    approval = paths["/staff/api/reservations/{reservation_id}/approval"]["post"]
    assert {"401", "404", "409", "422"} <= set(approval["responses"])
    assert "/staff/api/reservations" in paths


def test_staff_review_reservations_on_the_command_line(app: App, db: Engine) -> None:
    me = reservation_world(app)["me"]
    first = pending_reservation(app, me, "A8888", 1)
    second = pending_reservation(app, me, "A9999", 2)
    runner = CliRunner()
    env = {
        "PLATEBOT_DATABASE_URL": db.url.render_as_string(hide_password=False),
        "PLATEBOT_SECRET_KEY": "test-secret",
    }

    def run(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(cli, ["staff", "reservation", *args], env=env)
        return result.exit_code, result.stdout, result.stderr

    code, out, _ = run("list", "--state", "pending", "--json")
    assert code == 0 and [r["id"] for r in json.loads(out)] == [first, second]
    code, _, err = run("list", "--state", "nonsense")
    assert code == 2 and "pending" in err
    code, out, _ = run(
        "approve", str(first), "--staff", "王芳", "--deposit", "3000", "--starting-price", "20000"
    )
    assert code == 0 and "state: approved" in out and "deposit: ¥3,000" in out
    assert "starting_price: ¥20,000" in out
    code, _, err = run("approve", str(first), "--staff", "王芳")
    assert code == 1 and "only pending ones can be reviewed" in err
    code, _, err = run("reject", str(second), "--staff", "王芳", "--reason", " ")
    assert code == 1 and "A reason is needed" in err
    code, out, _ = run("reject", str(second), "--staff", "王芳", "--reason", "号码保留")
    assert code == 0 and "state: rejected" in out and "reason: 号码保留" in out
    code, _, err = run("reject", "999", "--staff", "王芳", "--reason", "x")
    assert code == 1 and "No such reservation" in err
