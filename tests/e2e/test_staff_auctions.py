"""Staff auction work over the staff HTTP API and on the command line: publish a period, add,
list and withdraw lots, cancel a period before it starts (deposits refunded, bidders told),
issue a bidder a new room code (sent to the bidder), and the refusals of each."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from core import auctions, office_admin
from core.auction_errors import RoomCodeExhausted, RoomCodeWrong
from core.auctions import Signup
from core.clock import OFFICE_TZ, ManualClock
from core.orders import OrderState, Purpose
from core.outbox import Channel
from core.payments import place_order
from core.plates import PlateKind
from platebot.bootstrap import App, build_app
from platebot.cli import app as cli
from platebot.server import create_web_app
from platebot.settings import Settings
from store.staff_tables import staff_audit
from store.tables import outbox
from tests.auction_world import vin
from tests.order_world import account, order_of
from tests.support import CapturingSender, days_ahead

TOKEN = "staff-token-for-tests"
KEY = b"test-secret"  # the secret key the apps here are built with: the room codes' key
PHONE = "+8613800138000"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PERIODS = "/staff/api/auctions/periods"
# The manual clock stands at Monday 2026-11-23 10:00 China time.
PERIOD = {
    "name": "2026年第12期",
    "signup_opens": "2026-11-23T10:00:00+08:00",
    "signup_closes": "2026-11-30T09:00:00+08:00",
    "starts_at": "2026-11-30T10:00:00+08:00",
}


def with_office(app: App) -> None:
    with app.uow() as uow:
        office_admin.create_office(uow, code="粤D", name="汕头市车辆管理所", region_code="4405")
        office = uow.offices.by_code("粤D")
        assert office is not None and office.id is not None
        uow.pool.add(office.id, PlateKind.SMALL, ["12345"])  # a pooled number, not held back
        uow.commit()


@pytest.fixture
def staff_app(db: Engine, clock: ManualClock, sms: CapturingSender) -> App:
    settings = Settings(database_url=str(db.url), secret_key="test-secret", staff_token=TOKEN)
    app = build_app(settings, clock=clock, senders={Channel.SMS: sms}, db=db, upgrade=False)
    with_office(app)
    return app


@pytest.fixture
def client(staff_app: App) -> Iterator[TestClient]:
    with TestClient(create_web_app(staff_app, run_workers=False)) as test_client:
        yield test_client


def test_staff_publish_a_period_and_add_list_and_withdraw_lots_over_http(
    client: TestClient,
) -> None:
    assert client.post(PERIODS, json=PERIOD).status_code == 401
    published = client.post(PERIODS, json=PERIOD, headers=AUTH)
    assert published.status_code == 201, published.text
    period = published.json()
    assert (period["state"], period["deposit"], period["starts_at"]) == (
        "signup",
        "¥5,000",
        "2026-11-30 10:00",
    )
    assert (period["increments_fen"], period["bid_countdown_s"]) == (
        [100_000, 200_000, 300_000, 400_000, 500_000],
        60,
    )
    assert period["balance_working_days"] == 5 and period["opening_countdown_s"] == 300
    lots = f"{PERIODS}/{period['id']}/lots"
    lot = {"office": "粤D", "serial": "88888", "starting_price_fen": 1_000_000}
    added = client.post(lots, json=lot, headers=AUTH)
    assert added.status_code == 201, added.text
    assert (added.json()["plate"], added.json()["state"], added.json()["deadline"]) == (
        "粤D·88888",
        "open",
        "2026-11-30 10:05",
    )
    again = client.post(lots, json=lot, headers=AUTH)
    assert (again.status_code, again.json()["code"]) == (409, "auction.plate_in_auction")
    pooled = client.post(lots, json={**lot, "serial": "12345"}, headers=AUTH)
    assert (pooled.status_code, pooled.json()["code"]) == (409, "auction.plate_not_held_back")
    assert "not held back" in pooled.json()["message"]
    elsewhere = client.post(lots, json={**lot, "office": "粤Z"}, headers=AUTH)
    assert (elsewhere.status_code, elsewhere.json()["code"]) == (404, "office.unknown")
    nowhere = client.post(f"{PERIODS}/99/lots", json=lot, headers=AUTH)
    assert (nowhere.status_code, nowhere.json()["code"]) == (404, "auction.period_unknown")
    listed = client.get(lots, headers=AUTH).json()
    assert [(row["plate"], row["starting_price"]) for row in listed] == [("粤D·88888", "¥10,000")]
    withdrawn = client.post(f"/staff/api/auctions/lots/{listed[0]['id']}/withdraw", headers=AUTH)
    assert withdrawn.json()["state"] == "withdrawn"
    twice = client.post(f"/staff/api/auctions/lots/{listed[0]['id']}/withdraw", headers=AUTH)
    assert (twice.status_code, twice.json()["code"]) == (409, "auction.period_started")
    assert [p["lots"] for p in client.get(PERIODS, headers=AUTH).json()] == [1]


def test_a_period_that_makes_no_sense_is_refused_saying_which_setting(client: TestClient) -> None:
    started = client.post(
        PERIODS, json={**PERIOD, "starts_at": "2026-11-23T09:00:00+08:00"}, headers=AUTH
    )
    assert (started.status_code, started.json()["code"]) == (422, "auction.setting_invalid")
    assert started.json()["params"]["setting"] == "signup"
    past = {
        **PERIOD,
        "signup_opens": "2026-11-20T10:00:00+08:00",
        "signup_closes": "2026-11-21T10:00:00+08:00",
        "starts_at": "2026-11-22T10:00:00+08:00",
    }
    passed = client.post(PERIODS, json=past, headers=AUTH)
    assert (passed.status_code, passed.json()["params"]["setting"]) == (422, "starts_at")
    deposit = client.post(PERIODS, json={**PERIOD, "deposit_fen": 0}, headers=AUTH)
    assert (deposit.status_code, deposit.json()["code"]) == (422, "request.invalid")
    far = client.post(
        PERIODS, json={**PERIOD, "signup_opens": "1900-01-01T00:00:00Z"}, headers=AUTH
    )
    assert (far.status_code, far.json()["params"]["setting"]) == (422, "signup_opens")


def test_cancelling_a_period_refunds_the_deposits_through_the_gateway_and_tells_bidders(
    staff_app: App, client: TestClient, clock: ManualClock
) -> None:
    period = client.post(PERIODS, json=PERIOD, headers=AUTH).json()
    bidder = account(staff_app)
    with staff_app.uow() as uow:
        signup = auctions.sign_up(
            uow, clock=clock, account_id=bidder, period_id=period["id"], vins=[vin(1), vin(2)]
        )
        order = place_order(
            uow,
            account_id=bidder,
            purpose=Purpose.AUCTION_DEPOSIT,
            reference=f"signup:{signup.id}",
            subject="竞价保证金",
            amount=signup.deposit_fen,
            now=clock.now(),
        )
        uow.commit()
    body, headers = staff_app.payments.callback_for(order, clock.now())  # type: ignore[attr-defined]
    assert client.post("/pay/callback", content=body, headers=headers).json() == {"status": "paid"}
    with staff_app.uow() as uow:
        auctions.deposit_paid(uow, clock=clock, signup_id=signup.id or 0)
        uow.commit()
    cancelled = client.post(f"{PERIODS}/{period['id']}/cancel", headers=AUTH)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["state"] == "cancelled"
    refunded = order_of(staff_app, order.id or 0)
    assert (refunded.state, refunded.refunded) == (OrderState.REFUNDED, 1_000_000)
    with staff_app.db.connect() as conn:
        keys = conn.execute(
            sa.select(outbox.c.key).where(outbox.c.account_id == bidder).order_by(outbox.c.id)
        ).scalars()
        # one message: that the period is cancelled and the deposit refunded
        assert [k for k in keys if k.startswith(("settlement.", "notice.order.refund"))] == [
            "settlement.period_cancelled"
        ]
    refunds = client.get(f"{PERIODS}/{period['id']}/refunds", headers=AUTH).json()
    assert [(r["amount"], r["reason"], r["state"]) for r in refunds] == [
        ("¥10,000", "cancelled", "done")
    ]
    again = client.post(f"{PERIODS}/{period['id']}/cancel", headers=AUTH)
    assert (again.status_code, again.json()["code"]) == (409, "auction.period_started")
    assert client.post(f"{PERIODS}/99/cancel", headers=AUTH).status_code == 404


def test_staff_change_a_period_over_http_within_what_bidders_were_told(
    client: TestClient,
) -> None:
    period = client.post(PERIODS, json=PERIOD, headers=AUTH).json()  # signup open from now
    url = f"{PERIODS}/{period['id']}"
    lot = {"office": "粤D", "serial": "88888", "starting_price_fen": 1_000_000}
    assert client.post(f"{url}/lots", json=lot, headers=AUTH).status_code == 201
    later = {"signup_closes": "2026-12-01T09:00:00+08:00", "starts_at": "2026-12-01T10:00:00+08:00"}
    assert client.patch(url, json=later).status_code == 401
    moved = client.patch(url, json={**later, "name_en": "Auction No. 12"}, headers=AUTH)
    assert moved.status_code == 200, moved.text
    assert (moved.json()["starts_at"], moved.json()["name_en"]) == (
        "2026-12-01 10:00",
        "Auction No. 12",
    )
    assert sorted(moved.json()["changed"]) == ["name_en", "signup_closes", "starts_at"]
    [listed] = client.get(f"{url}/lots", headers=AUTH).json()
    assert listed["deadline"] == "2026-12-01 10:05"  # the lot opens at the new start
    earlier = client.patch(url, json={"starts_at": "2026-11-30T10:00:00+08:00"}, headers=AUTH)
    assert (earlier.status_code, earlier.json()["code"]) == (409, "auction.signup_opened")
    assert "only move later" in earlier.json()["message"]
    same = client.patch(url, json={"starts_at": "2026-12-01T02:00:00Z"}, headers=AUTH)
    assert (same.status_code, same.json()["code"]) == (422, "auction.nothing_to_amend")
    nothing = client.patch(url, json={}, headers=AUTH)
    assert (nothing.status_code, nothing.json()["code"]) == (422, "auction.nothing_to_amend")
    assert client.patch(f"{PERIODS}/99", json=later, headers=AUTH).status_code == 404
    unknown = client.patch(url, json={"colour": "red"}, headers=AUTH)
    assert unknown.status_code == 422  # a setting that does not exist is not silently ignored
    paths = client.get("/openapi.json").json()["paths"]
    assert {"401", "404", "409", "422"} <= set(
        paths["/staff/api/auctions/periods/{period_id}"]["patch"]["responses"]
    )


def test_staff_run_auctions_on_the_command_line(app: App, db: Engine) -> None:
    with_office(app)
    runner = CliRunner()
    env = {
        "PLATEBOT_DATABASE_URL": db.url.render_as_string(hide_password=False),
        "PLATEBOT_SECRET_KEY": "test-secret",
    }

    def run(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(cli, ["staff", "auction", *args], env=env)
        return result.exit_code, result.stdout, result.stderr

    # The CLI runs on the real clock: a period in the future for it, whatever the date.
    starts = days_ahead(37, "10:00")
    times = ["--signup-opens", days_ahead(30, "09:00"), "--signup-closes", days_ahead(34, "17:00")]
    times += ["--starts", starts]
    code, out, _ = run(
        "period", "publish", "--name", "第1期", *times, "--deposit", "8000",
        "--increment", "2000", "--increment", "1000", "--balance-days", "3", "--json",
    )  # fmt: skip
    assert code == 0, out
    period = json.loads(out)
    assert (period["state"], period["deposit"], period["increments_fen"]) == (
        "upcoming",
        "¥8,000",
        [100_000, 200_000],
    )
    assert (period["starts_at"], period["balance_working_days"]) == (starts, 3)
    code, _, err = run("period", "publish", "--name", "x", *times[:5], days_ahead(34, "09:00"))
    assert code == 1 and "The period's signup window is not valid (it opens before it" in err
    code, _, err = run("period", "publish", "--name", "x", *times[:5], "next monday")
    assert code == 2 and "Not a time" in err
    pid = str(period["id"])
    code, out, _ = run(
        "lot", "add", pid, "--office", "粤D", "--serial", "88888", "--price", "10000"
    )
    assert code == 0 and "plate: 粤D·88888" in out
    code, _, err = run(
        "lot", "add", pid, "--office", "粤D", "--serial", "12345", "--price", "10000"
    )
    assert code == 1 and "粤D·12345 is not held back" in err
    code, out, _ = run("lot", "list", pid, "--json")
    lot = json.loads(out)[0]
    assert (lot["plate"], lot["starting_price"], lot["state"]) == ("粤D·88888", "¥10,000", "open")
    code, out, _ = run("lot", "withdraw", str(lot["id"]))
    assert code == 0 and "state: withdrawn" in out
    later = days_ahead(38, "10:00")
    code, out, _ = run("period", "amend", pid, "--starts", later, "--name-en", "No 1", "--json")
    assert code == 0, out
    amended = json.loads(out)
    assert (amended["starts_at"], amended["name_en"]) == (later, "No 1")
    assert sorted(amended["changed"]) == ["name_en", "starts_at"]
    code, _, err = run("period", "amend", pid)
    assert code == 1 and "Nothing to change" in err
    code, out, _ = run("period", "list")
    assert code == 0 and "第1期" in out and "upcoming" in out
    code, out, _ = run("period", "cancel", pid)
    assert code == 0 and "state: cancelled" in out
    code, out, _ = run("period", "refunds", pid)
    assert code == 0 and "(none)" in out  # nobody had paid a deposit
    code, _, err = run("period", "cancel", pid)
    assert code == 1 and "can no longer be changed" in err
    code, _, err = run("lot", "list", "99")
    assert code == 1 and "No such auction period" in err


def test_auction_routes_are_documented(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    cancel = paths["/staff/api/auctions/periods/{period_id}/cancel"]["post"]
    assert {"401", "404", "409", "422"} <= set(cancel["responses"])
    assert "/staff/api/auctions/lots/{lot_id}/withdraw" in paths


def paid_signup(app: App, clock: ManualClock, period_id: int, phone: str = PHONE) -> Signup:
    """A bidder of ``period_id`` whose deposit is paid (through core, inside the window)."""
    bidder = account(app, phone)
    with app.uow() as uow:
        signup = auctions.sign_up(
            uow, clock=clock, account_id=bidder, period_id=period_id, vins=[vin(1)]
        )
        active = auctions.deposit_paid(uow, clock=clock, signup_id=signup.id or 0)
        uow.commit()
    return active


def exhaust_code(app: App, signup: Signup) -> None:
    """The bidder types wrong codes until the code stops working."""
    wrong = f"{(int(auctions.room_code(KEY, signup)) + 1) % 1_000_000:06d}"
    for _ in range(auctions.MAX_WRONG_CODES):
        with app.uow() as uow:
            try:
                auctions.enter_room(
                    uow,
                    key=KEY,
                    period_id=signup.period_id,
                    bidder_number=signup.bidder_number or "",
                    code=wrong,
                    account_id=signup.account_id,
                )
            except (RoomCodeWrong, RoomCodeExhausted):
                uow.commit()


def enters_with(app: App, signup: Signup, code: str) -> bool:
    with app.uow() as uow:
        try:
            auctions.enter_room(
                uow,
                key=KEY,
                period_id=signup.period_id,
                bidder_number=signup.bidder_number or "",
                code=code,
                account_id=signup.account_id,
            )
        except (RoomCodeWrong, RoomCodeExhausted):
            return False
    return True


def test_staff_issue_a_locked_out_bidder_a_new_code_over_http_and_it_reaches_the_bidder(
    staff_app: App, client: TestClient, clock: ManualClock, sms: CapturingSender
) -> None:
    period = client.post(PERIODS, json=PERIOD, headers=AUTH).json()
    signup = paid_signup(staff_app, clock, period["id"])
    old = auctions.room_code(KEY, signup)
    exhaust_code(staff_app, signup)
    assert not enters_with(staff_app, signup, old)
    route = f"{PERIODS}/{period['id']}/bidders/{signup.bidder_number}/reissue-code"
    assert client.post(route).status_code == 401
    answered = client.post(route, headers=AUTH)
    assert answered.status_code == 200, answered.text
    assert answered.json() == {
        "signup_id": signup.id,
        "period_id": period["id"],
        "period": "2026年第12期",
        "bidder_number": signup.bidder_number,
        "sent_to": "+86138****8000",
        "reissued_at": "2026-11-23 10:00",
    }
    staff_app.dispatcher.run_once()
    recipient, text = sms.sent[-1]
    assert recipient == PHONE and f"竞买号{signup.bidder_number}的新验证码" in text
    (new,) = re.findall(r"(?<!\d)\d{6}(?!\d)", text)
    assert new not in answered.json().values()  # the code goes to the bidder, never to staff
    assert enters_with(staff_app, signup, new)
    if new != old:  # one chance in a million that the new code is the old one
        assert not enters_with(staff_app, signup, old)
    with staff_app.db.connect() as conn:
        trail = conn.execute(sa.select(staff_audit.c.action, staff_audit.c.target)).all()
    assert ("auction.reissue_code", f"signup #{signup.id}") in trail
    unknown = "12345678" if signup.bidder_number != "12345678" else "87654321"
    nobody = client.post(f"{PERIODS}/{period['id']}/bidders/{unknown}/reissue-code", headers=AUTH)
    assert (nobody.status_code, nobody.json()["code"]) == (404, "auction.signup_unknown")
    nowhere = client.post(f"{PERIODS}/99/bidders/{unknown}/reissue-code", headers=AUTH)
    assert (nowhere.status_code, nowhere.json()["code"]) == (404, "auction.period_unknown")
    typo = client.post(f"{PERIODS}/{period['id']}/bidders/1234/reissue-code", headers=AUTH)
    assert typo.status_code == 422


def test_staff_issue_a_bidder_a_new_code_on_the_command_line(app: App, db: Engine) -> None:
    with_office(app)
    runner = CliRunner()
    env = {
        "PLATEBOT_DATABASE_URL": db.url.render_as_string(hide_password=False),
        "PLATEBOT_SECRET_KEY": "test-secret",
    }

    def run(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(cli, ["staff", "auction", *args], env=env)
        return result.exit_code, result.stdout, result.stderr

    # The CLI runs on the real clock: a period in the future for it, whatever the date.
    code, out, _ = run(
        "period", "publish", "--name", "第1期", "--signup-opens", days_ahead(30, "09:00"),
        "--signup-closes", days_ahead(34, "17:00"), "--starts", days_ahead(37, "10:00"), "--json",
    )  # fmt: skip
    assert code == 0, out
    period_id = json.loads(out)["id"]
    signing_up = datetime.fromisoformat(days_ahead(31, "10:00")).replace(tzinfo=OFFICE_TZ)
    in_window = ManualClock(signing_up.astimezone(UTC))
    signup = paid_signup(app, in_window, period_id)
    exhaust_code(app, signup)
    code, out, _ = run("signup", "reissue-code", str(period_id), signup.bidder_number or "")
    assert code == 0, out
    assert f"bidder_number: {signup.bidder_number}" in out and "sent_to: +86138****8000" in out
    with app.db.connect() as conn:
        told = conn.execute(
            sa.select(outbox.c.key, outbox.c.recipient).where(
                outbox.c.key == "auction.notice.code_reissued"
            )
        ).all()
        trail = conn.execute(sa.select(staff_audit.c.action, staff_audit.c.source)).all()
    assert told == [("auction.notice.code_reissued", PHONE)]  # by SMS, as the first code went
    assert ("auction.reissue_code", "cli") in trail
    with app.uow() as uow:
        renewed = uow.auctions.signup(signup.id or 0)
        assert renewed is not None and renewed.wrong_codes == 0
    assert enters_with(app, signup, auctions.room_code(KEY, renewed))
    code, _, err = run("signup", "reissue-code", str(period_id), "12345678")
    assert code == 1 and "No such signup" in err
