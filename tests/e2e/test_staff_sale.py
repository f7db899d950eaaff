"""The fixed-price sale over HTTP and on the command line: staff list, import, reprice, withdraw
and report; a buyer pays the order on the sandbox pay page as a browser does."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from core.orders import OrderState
from core.pools import NumberState
from platebot.bootstrap import App
from platebot.cli import app as cli
from platebot.demo import DEMO_LISTINGS, DEMO_PERSON_PHONE, DEMO_VEHICLES
from platebot.server import create_web_app
from store.sale_tables import sale_listings
from tests.order_world import order_of
from tests.preselect_world import PERSON_PHONE, number_state, standard_world, vin
from tests.support import STAFF_AUTH, Transcript

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def client(staff_app: App) -> Iterator[TestClient]:
    api = create_web_app(staff_app, run_workers=False)
    api.state.pay_transport = httpx.ASGITransport(app=api)  # the sandbox's callback, over HTTP
    with TestClient(api) as test_client:
        yield test_client


@pytest.fixture
def run(db: Engine) -> Run:
    runner = CliRunner()
    env = {"PLATEBOT_DATABASE_URL": db.url.render_as_string(hide_password=False)}

    def invoke(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(cli, list(args), env=env)
        return result.exit_code, result.stdout, result.stderr

    return invoke


def test_staff_list_reprice_and_withdraw_plates_over_http(
    staff_app: App, client: TestClient
) -> None:
    standard_world(staff_app)
    body = {"office": "粤D", "serial": "88888", "price_fen": 5_000_000, "personalised": True}
    assert client.post("/staff/api/sale/listings", json=body).status_code == 401

    created = client.post("/staff/api/sale/listings", json=body, headers=STAFF_AUTH)

    assert created.status_code == 201, created.text
    listing = created.json()
    assert (listing["plate"], listing["price"], listing["region"], listing["state"]) == (
        "粤D·88888",
        "¥50,000",
        "4405",
        "listed",
    )
    again = client.post("/staff/api/sale/listings", json=body, headers=STAFF_AUTH)
    assert (again.status_code, again.json()["code"]) == (409, "sale.already_listed")
    bad = client.post(
        "/staff/api/sale/listings", json={**body, "serial": "8888"}, headers=STAFF_AUTH
    )
    assert (bad.status_code, bad.json()["code"]) == (422, "plate.invalid")
    nowhere = client.post(
        "/staff/api/sale/listings", json={**body, "office": "粤Z"}, headers=STAFF_AUTH
    )
    assert (nowhere.status_code, nowhere.json()["code"]) == (404, "office.unknown")

    url = f"/staff/api/sale/listings/{listing['id']}"
    repriced = client.patch(url, json={"price_fen": 4_500_000}, headers=STAFF_AUTH)
    assert (repriced.status_code, repriced.json()["price"]) == (200, "¥45,000")
    listed = client.get("/staff/api/sale/listings?state=listed", headers=STAFF_AUTH).json()
    assert [(x["plate"], x["price_fen"]) for x in listed] == [("粤D·88888", 4_500_000)]

    withdrawn = client.post(f"{url}/withdraw", headers=STAFF_AUTH)
    assert (withdrawn.status_code, withdrawn.json()["state"]) == (200, "withdrawn")
    twice = client.post(f"{url}/withdraw", headers=STAFF_AUTH)
    assert (twice.status_code, twice.json()["code"]) == (409, "sale.not_listed")
    unknown = client.post("/staff/api/sale/listings/99/withdraw", headers=STAFF_AUTH)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "sale.unknown")
    assert number_state(staff_app, "88888") is None


def test_staff_import_plates_from_csv_over_http_with_bad_lines_by_number(
    staff_app: App, client: TestClient
) -> None:
    standard_world(staff_app)
    text = "office,kind,serial,price\n粤D,small,88888,50000\n粤D,small,ABCDE,100\n"
    headers = {**STAFF_AUTH, "Content-Type": "text/csv"}

    imported = client.post("/staff/api/sale/import", content=text.encode(), headers=headers)

    assert imported.status_code == 200, imported.text
    report = imported.json()
    assert [x["plate"] for x in report["listed"]] == ["粤D·88888"]
    assert [(e["line"], e["code"]) for e in report["errors"]] == [(3, "plate.invalid")]
    assert "ABCDE" in report["errors"][0]["message"]
    not_a_listing = client.post(
        "/staff/api/sale/import", content=b"serial\n88888\n", headers=headers
    )
    assert (not_a_listing.status_code, not_a_listing.json()["code"]) == (422, "sale.csv_columns")


def test_a_buyer_pays_on_the_pay_page_and_the_sales_report_shows_it(
    staff_app: App, client: TestClient
) -> None:
    standard_world(staff_app)
    body = {"office": "粤D", "serial": "88888", "price_fen": 5_000_000}
    listing = client.post("/staff/api/sale/listings", json=body, headers=STAFF_AUTH).json()
    chat = Transcript(staff_app, user_key=PERSON_PHONE, channel="sms", sender_phone=PERSON_PHONE)
    chat.say("EN")
    for step in ("buy", "tier:any", f"plate:{listing['id']}", "buy"):
        chat.pick(step)
    chat.say(vin(1))
    chat.pick("confirm")
    assert chat.reply is not None
    (link,) = chat.reply.links
    path = httpx.URL(link.url).path
    assert path.startswith("/pay/")

    page = client.get(path, params={"lang": "en"})
    assert page.status_code == 200 and "Yue D 88888" in page.text and "¥50,000" in page.text
    paid = client.post(f"{path}/pay", data={"lang": "en"})

    assert "Paid. Thank you!" in paid.text
    chat.pick("check")
    assert f"Paid: Yue D 88888 now belongs to vehicle {vin(1)}" in chat.text
    assert number_state(staff_app, "88888") == NumberState.ISSUED
    sold = client.get("/staff/api/sale/listings?state=sold", headers=STAFF_AUTH).json()
    assert [(x["plate"], x["vin"], x["order_id"]) for x in sold] == [
        ("粤D·88888", vin(1), sold[0]["order_id"])
    ]
    assert order_of(staff_app, sold[0]["order_id"]).state is OrderState.PAID
    report = client.get(
        "/staff/api/reports/sales?from=2026-11-23&to=2026-11-23", headers=STAFF_AUTH
    )
    assert report.status_code == 200
    assert report.json() == [
        {
            "office": "粤D",
            "day": "2026-11-23",
            "sold": 1,
            "amount_fen": 5_000_000,
            "amount": "¥50,000",
        }
    ]
    empty = client.get("/staff/api/reports/sales?from=2026-11-24&to=2026-11-30", headers=STAFF_AUTH)
    assert empty.json() == []
    bad_day = client.get("/staff/api/reports/sales?from=20261124&to=2026-11-30", headers=STAFF_AUTH)
    assert (bad_day.status_code, bad_day.json()["code"]) == (422, "request.invalid")


def test_staff_sell_plates_from_the_command_line(run: Run, db: Engine, tmp_path: Path) -> None:
    assert run("demo-data")[0] == 0
    code, _, err = run("staff", "sale", "add", "粤D", "99999", "--price", "88000.50")
    assert code == 1 and "粤D·99999 is a lot of an open auction" in err  # a demo period's lot
    code, out, _ = run("staff", "sale", "add", "粤D", "99998", "--price", "88000.50")
    assert code == 0 and "plate: 粤D·99998" in out and "price: ¥88,000.50" in out
    code, _, err = run("staff", "sale", "add", "粤D", "99998", "--price", "1")
    assert code == 1 and "粤D·99998 is for sale already" in err
    code, _, err = run("staff", "sale", "add", "粤D", "77777", "--price", "free")
    assert code == 1 and 'Price "free" is not valid' in err
    code, out, _ = run("staff", "sale", "list", "--json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == len(DEMO_LISTINGS) + 1
    code, out, _ = run("staff", "sale", "list", "--state", "listed", "--office", "粤D")
    assert code == 0 and "粤D·99998" in out and "listed" in out
    code, _, err = run("staff", "sale", "list", "--office", "粤Z")
    assert code == 1 and "粤Z" in err
    newest = rows[0]["id"]
    code, out, _ = run("staff", "sale", "price", str(newest), "--price", "80000")
    assert code == 0 and "price: ¥80,000" in out
    code, out, _ = run("staff", "sale", "withdraw", str(newest))
    assert code == 0 and "state: withdrawn" in out

    csv_file = tmp_path / "plates.csv"
    csv_file.write_text("office,kind,serial,price\n粤D,small,66688,20000\n粤D,small,12,5\n")
    code, out, err = run("staff", "sale", "import", str(csv_file))
    assert code == 1 and "1 listed, 1 bad row(s)" in out and "line 3:" in err

    code, out, _ = run("staff", "report", "sales", "--from", "2026-01-01", "--to", "2026-12-31")
    assert code == 0 and "(none)" in out
    with db.connect() as conn:
        states = dict(conn.execute(sa.select(sale_listings.c.serial, sale_listings.c.state)).all())
    assert states["99998"] == "withdrawn" and states["66688"] == "listed"


def test_the_demo_data_has_plates_for_sale_that_its_person_can_buy(
    run: Run, db: Engine, staff_app: App
) -> None:
    code, out, _ = run("demo-data")
    assert code == 0 and "menu 4 (购买号牌)" in out and DEMO_VEHICLES[1][0] in out
    code, out, _ = run("demo-data")
    assert code == 0
    with db.connect() as conn:
        count = conn.execute(sa.select(sa.func.count()).select_from(sale_listings)).scalar()
    assert count == len(DEMO_LISTINGS)  # loaded twice, listed once

    chat = Transcript(
        staff_app, user_key=DEMO_PERSON_PHONE, channel="sms", sender_phone=DEMO_PERSON_PHONE
    )
    chat.say("中文")
    for typed in ("4", "2", "1", "1", DEMO_VEHICLES[1][0], "1"):  # as the README walks it
        chat.say(typed)
    assert "已下单：粤D·16666，应付¥12,000" in chat.text and "/pay/" in chat.text
