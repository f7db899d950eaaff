"""``/staff/api/broadcasts``: compose with a preview, send, progress with what Twilio's status
callbacks reported, pause, resume, cancel, the report; and an announcement sent as a broadcast."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from core.accounts import Language
from core.clock import ManualClock
from platebot.bootstrap import App, build_app
from platebot.server import create_web_app
from sms.channel import STATUS_PATH
from tests.broadcast_world import BroadcastWorld
from tests.sms_support import sign, status_form, twilio_settings
from tests.standins.twilio_api import TwilioStandIn
from tests.support import STAFF_AUTH, STAFF_TOKEN

ZH = "明天上午车管所系统维护，暂停办理。"
EN = "The office system is down for maintenance tomorrow morning."
API = "/staff/api/broadcasts"


@pytest.fixture
def server(db: Engine, clock: ManualClock, standin: TwilioStandIn) -> App:
    settings = twilio_settings(db, standin, staff_token=STAFF_TOKEN)
    return build_app(settings, clock=clock, db=db, upgrade=False)


@pytest.fixture
def client(server: App) -> Iterator[TestClient]:
    with TestClient(create_web_app(server, run_workers=False)) as running:
        yield running


@pytest.fixture
def world(db: Engine, clock: ManualClock) -> BroadcastWorld:
    return BroadcastWorld(db, clock)


def compose(client: TestClient, **body: object) -> dict[str, object]:
    values: dict[str, object] = {"text_zh": ZH, "text_en": EN, "audience": "everyone"}
    response = client.post(API, json=values | body, headers=STAFF_AUTH)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_staff_follow_a_broadcast_to_what_twilio_reports_over_the_api(
    client: TestClient, server: App, world: BroadcastWorld, standin: TwilioStandIn
) -> None:
    _, zh_phone = world.person()
    _, en_phone = world.person(language=Language.EN)
    world.person(opted_out=True)
    preview = compose(client, created_by="王科长")
    assert (preview["recipients"], preview["sms"], preview["sms_segments"]) == (2, 2, 2)
    assert preview["opted_out"] == 1
    response = client.post(f"{API}/{preview['id']}/send", json={}, headers=STAFF_AUTH)
    assert response.status_code == 200, response.text
    assert response.json()["left"] == 2
    server.dispatcher.run_once()
    sent = {request.to: request for request in standin.delivered}
    assert (sent[zh_phone].body, sent[en_phone].body) == (ZH, EN)
    for phone, status in ((zh_phone, "delivered"), (en_phone, "undelivered")):
        form = status_form(str(sent[phone].sid), status, phone, "30003" * (status != "delivered"))
        signed = {"X-Twilio-Signature": sign(STATUS_PATH, form)}
        assert client.post(STATUS_PATH, data=form, headers=signed).status_code == 204
    progress = client.get(f"{API}/{preview['id']}", headers=STAFF_AUTH).json()
    assert progress["status"] == "finished"
    assert (progress["sent"], progress["delivered"], progress["failed"]) == (2, 1, 1)
    assert progress["rate_per_second"] == 2.0  # two sent in the second since it started
    assert (progress["opted_out"], progress["left"], progress["seconds_to_finish"]) == (1, 0, 0)
    report = client.get(f"{API}/{preview['id']}/report", headers=STAFF_AUTH).json()
    assert sorted((row["address"], row["delivery"]) for row in report) == sorted(
        [(zh_phone, "delivered"), (en_phone, "undelivered"), (world.phone(3), None)]
    )


def test_pause_resume_and_cancel_over_the_api(
    client: TestClient, server: App, world: BroadcastWorld, standin: TwilioStandIn
) -> None:
    world.person()
    draft = compose(client)
    url = f"{API}/{draft['id']}"
    assert client.post(f"{url}/pause", headers=STAFF_AUTH).status_code == 409  # not sending
    client.post(f"{url}/send", json={}, headers=STAFF_AUTH)
    paused = client.post(f"{url}/pause", headers=STAFF_AUTH).json()
    assert (paused["status"], paused["left"]) == ("paused", 1)
    server.dispatcher.run_once()
    assert standin.delivered == []
    assert client.post(f"{url}/resume", headers=STAFF_AUTH).json()["status"] == "sending"
    cancelled = client.post(f"{url}/cancel", headers=STAFF_AUTH).json()
    assert (cancelled["status"], cancelled["cancelled"]) == ("cancelled", 1)
    server.dispatcher.run_once()
    assert standin.delivered == []
    refused = client.post(f"{url}/resume", headers=STAFF_AUTH)
    assert refused.status_code == 409
    assert refused.json()["message"] == (
        "Not possible: the broadcast is cancelled. See its progress for what can still be done."
    )
    assert client.get(f"{API}/99", headers=STAFF_AUTH).status_code == 404


def test_a_broadcast_everyone_has_had_cannot_be_paused_or_cancelled(
    client: TestClient, server: App, world: BroadcastWorld
) -> None:
    world.person()
    url = f"{API}/{compose(client)['id']}"
    assert client.post(f"{url}/send", json={}, headers=STAFF_AUTH).status_code == 200
    server.dispatcher.run_once()
    for action in ("pause", "cancel"):
        refused = client.post(f"{url}/{action}", headers=STAFF_AUTH)
        assert refused.status_code == 409
        assert refused.json()["message"] == (
            "Not possible: the broadcast is finished (everyone has had it). See its progress for"
            " what can still be done."
        )
    done = client.get(url, headers=STAFF_AUTH).json()
    assert (done["status"], done["sent"], done["cancelled"]) == ("finished", 1, 0)


def test_a_broadcast_set_for_later_over_the_api(client: TestClient, world: BroadcastWorld) -> None:
    world.person()
    draft = compose(client)
    at = "2026-12-08T09:00:00+08:00"
    scheduled = client.post(f"{API}/{draft['id']}/send", json={"at": at}, headers=STAFF_AUTH)
    assert scheduled.json()["status"] == "scheduled"
    progress = client.get(f"{API}/{draft['id']}", headers=STAFF_AUTH).json()
    assert (progress["send_at"], progress["seconds_to_finish"]) == ("2026-12-08 09:00", None)
    preview = client.get(f"{API}/{draft['id']}/preview", headers=STAFF_AUTH).json()
    assert preview["send_at"] == "2026-12-08 09:00"


def test_bad_audiences_are_refused_with_what_to_fix(client: TestClient) -> None:
    response = client.post(
        API,
        json={"text_zh": ZH, "text_en": EN, "audience": "numbers", "phones": ["138", "x"]},
        headers=STAFF_AUTH,
    )
    assert response.status_code == 422
    assert response.json()["code"] == "broadcast.numbers_invalid"
    response = client.post(
        API, json={"text_zh": ZH, "text_en": EN, "audience": "region"}, headers=STAFF_AUTH
    )
    assert (response.status_code, response.json()["code"]) == (422, "broadcast.audience_invalid")
    assert response.json()["message"] == (
        "The audience needs a region (its code, e.g. 4405, or its city); nothing was sent."
    )
    # A region, a period or numbers for another audience: refused, not sent to everyone.
    for stray in ({"region_code": "4405"}, {"phones": ["13800138000"]}, {"period_id": 1}):
        body = {"text_zh": ZH, "text_en": EN, "audience": "everyone"} | stray
        response = client.post(API, json=body, headers=STAFF_AUTH)
        assert response.json()["code"] == "broadcast.audience_mismatch", stray
    body = {"text_zh": ZH, "text_en": EN, "audience": "region", "region_code": "Fuzhou"}
    response = client.post(API, json=body, headers=STAFF_AUTH)
    assert response.json()["code"] == "broadcast.region_ambiguous"
    assert "3501" in response.json()["message"] and "3610" in response.json()["message"]


def test_a_region_is_named_by_its_code_or_its_city(
    client: TestClient, world: BroadcastWorld
) -> None:
    world.person(region="4405")
    world.person(region="4403")
    for name in ("4405", "汕头", "汕头市", "Shantou"):
        preview = compose(client, audience="region", region_code=name)
        assert (preview["audience"], preview["recipients"]) == ("region 4405", 1), name


def test_an_announcement_published_with_a_broadcast_is_sent_in_the_same_step(
    client: TestClient, server: App, world: BroadcastWorld, standin: TwilioStandIn
) -> None:
    _, phone = world.person()
    body = {"title": "停办通知", "body": "明天停办。", "broadcast": {"audience": "everyone"}}
    response = client.post("/staff/api/announcements", json=body, headers=STAFF_AUTH)
    assert response.status_code == 201, response.text
    broadcast_id = response.json()["broadcast_id"]
    assert response.json()["broadcast_recipients"] == 1
    server.dispatcher.run_once()
    assert [(r.to, r.body) for r in standin.delivered] == [(phone, "停办通知\n明天停办。")]
    progress = client.get(f"{API}/{broadcast_id}", headers=STAFF_AUTH).json()
    assert (progress["sent"], progress["status"]) == (1, "finished")
