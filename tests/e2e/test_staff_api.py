"""The staff HTTP API (``/staff/api/…``) as an office uses it, and what users then see."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from platebot.bootstrap import App
from platebot.server import create_web_app
from tests.preselect_world import PERSON_ID, PERSON_PHONE, add_accounts, cert, person, vin
from tests.support import STAFF_AUTH, STAFF_TOKEN, CapturingSender, Transcript

AUTH = STAFF_AUTH


@pytest.fixture
def client(staff_app: App) -> Iterator[TestClient]:
    with TestClient(create_web_app(staff_app, run_workers=False)) as test_client:
        yield test_client


def office(client: TestClient, **changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "code": "粤D",
        "name": "汕头市车辆管理所",
        "region_code": "4405",
        "address": "泰山路1号",
    }
    body.update(changes)
    response = client.post("/staff/api/offices", json=body, headers=AUTH)
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": STAFF_TOKEN}]
)
def test_staff_api_without_the_token_is_refused(
    client: TestClient, headers: dict[str, str]
) -> None:
    response = client.get("/staff/api/offices", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert client.post("/staff/api/offices", json={}, headers=headers).status_code == 401


def test_staff_api_is_off_without_a_configured_token(app: App) -> None:
    with TestClient(create_web_app(app, run_workers=False)) as plain:
        assert plain.get("/staff/api/offices", headers=AUTH).status_code == 404


def test_staff_api_is_documented_in_openapi(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["paths"]["/staff/api/offices"]["post"]["summary"] == "Create an office"
    assert "/staff/api/registry/import" in spec["paths"]
    assert (
        "text/csv" in spec["paths"]["/staff/api/registry/import"]["post"]["requestBody"]["content"]
    )
    assert any(s.get("scheme") == "bearer" for s in spec["components"]["securitySchemes"].values())


def test_office_is_created_changed_and_bad_settings_are_refused_in_words(
    client: TestClient,
) -> None:
    created = office(client)
    assert (created["code"], created["hours"], created["batch_size"]) == ("粤D", "09:00-21:00", 10)
    again = client.post(
        "/staff/api/offices", json={"code": "粤D", "name": "x", "region_code": "4405"}, headers=AUTH
    )
    assert again.status_code == 409 and again.json()["code"] == "office.exists"
    changed = client.patch(
        "/staff/api/offices/粤D", json={"hours": "08:30-17:30", "patterns": ["LLDDD"]}, headers=AUTH
    )
    assert changed.status_code == 200
    assert (changed.json()["hours"], changed.json()["patterns"]) == ("08:30-17:30", ["LLDDD"])
    named = client.patch("/staff/api/offices/粤D", json={"name_en": "Shantou VMO"}, headers=AUTH)
    assert (named.json()["name_en"], named.json()["address_en"]) == ("Shantou VMO", "")
    bad = client.patch("/staff/api/offices/粤D", json={"hours": "21:00-09:00"}, headers=AUTH)
    assert bad.status_code == 422
    assert bad.json()["message"] == (
        'The office hours "21:00:00-09:00:00" is not valid (opening before closing, e.g. '
        "09:00-17:00): correct it and try again."
    )
    out_of_bounds = client.patch("/staff/api/offices/粤D", json={"batch_size": 0}, headers=AUTH)
    assert out_of_bounds.status_code == 422
    assert out_of_bounds.json()["code"] == "request.invalid"
    assert out_of_bounds.json()["params"]["field"] == "body.batch_size"
    assert client.get("/staff/api/offices", headers=AUTH).json()[0]["batch_size"] == 10
    missing = client.patch("/staff/api/offices/粤Z", json={"name": "x"}, headers=AUTH)
    assert missing.status_code == 404


def test_pool_is_loaded_from_ranges_patterns_and_csv(client: TestClient) -> None:
    office(client)
    loaded = client.post(
        "/staff/api/offices/粤D/pool",
        json={
            "kind": "small",
            "ranges": ["88880-88889"],
            "patterns": ["AB12D"],
            "exclude": ["88888"],
        },
        headers=AUTH,
    )
    assert loaded.json() == {"added": 19, "already": 0, "excluded": 1, "refused": []}
    csv = client.post(
        "/staff/api/offices/粤D/pool/csv?kind=small_nev",
        content=b"serial\nD12345\nD12346\n",
        headers={**AUTH, "Content-Type": "text/csv"},
    )
    assert csv.json() == {"added": 2, "already": 0, "excluded": 0, "refused": []}
    again = client.post(  # numbers known already are counted, not added twice
        "/staff/api/offices/粤D/pool",
        json={"kind": "small", "ranges": ["88885-88894"], "exclude": ["88888"]},
        headers=AUTH,
    )
    assert again.json() == {"added": 5, "already": 4, "excluded": 1, "refused": []}
    # More numbers than one statement writes (5,000 a statement), loaded twice.
    for added, already in [(6001, 0), (0, 6001)]:
        large = client.post(
            "/staff/api/offices/粤D/pool",
            json={"kind": "large", "ranges": ["50000-56000"]},
            headers=AUTH,
        )
        assert large.json() == {"added": added, "already": already, "excluded": 0, "refused": []}
    counts = client.get("/staff/api/offices/粤D/pool", headers=AUTH).json()
    assert counts == {"small": 24, "large": 6001, "small_nev": 2, "large_nev": 0}
    bad = client.post(
        "/staff/api/offices/粤D/pool", json={"kind": "small", "serials": ["ABC12"]}, headers=AUTH
    )
    assert bad.status_code == 422 and bad.json()["code"] == "plate.invalid"


def test_registry_import_reports_bad_rows_by_line_and_keeps_good_ones(client: TestClient) -> None:
    text = "\n".join(
        [
            "vin,certificate_no,owner_id,plate_kind",
            f"{vin(1)},{cert(1)},{PERSON_ID},small",
            f"{vin(2)[:-1]}X,{cert(2)},{PERSON_ID},small",
            f"{vin(3)},{cert(3)},440304199001011234,small",
            f"{vin(4)},{cert(4)},{PERSON_ID},tractor",
            f"{vin(5)},{cert(5)},{PERSON_ID},小型新能源汽车",
        ]
    )
    response = client.post(
        "/staff/api/registry/import",
        content=text.encode(),
        headers={**AUTH, "Content-Type": "text/csv"},
    )
    report = response.json()
    assert (report["added"], report["updated"]) == (2, 0)
    assert [(e["line"], e["code"]) for e in report["errors"]] == [
        (3, "vin.checksum"),
        (4, "id.checksum"),
        (5, "plate.kind_unknown"),
    ]
    assert "check digit" in report["errors"][1]["message"]


def test_counter_confirms_what_a_user_pre_selected_and_lists_by_state(
    client: TestClient, staff_app: App, sms: CapturingSender
) -> None:
    office(client)
    client.post(
        "/staff/api/offices/粤D/pool", json={"kind": "small", "serials": ["12345"]}, headers=AUTH
    )
    client.post(
        "/staff/api/registry/import",
        content=f"vin,certificate_no,owner_id,plate_kind\n{vin(1)},{cert(1)},{PERSON_ID},small".encode(),
        headers={**AUTH, "Content-Type": "text/csv"},
    )
    add_accounts(staff_app, person())
    chat = Transcript(staff_app, user_key=PERSON_PHONE, channel="sms", sender_phone=PERSON_PHONE)
    chat.say("hi")
    for choice in ("preselect", "start", "next", "agree"):  # one office: not asked
        chat.pick(choice)
    chat.say(vin(1))
    chat.say(cert(1))
    chat.pick("verify")
    chat.say(sms.last_code(PERSON_PHONE))
    chat.pick("own")
    chat.say("12345")
    assert "粤D·12345" in chat.text
    listed = client.get("/staff/api/preselections?state=selected", headers=AUTH).json()
    assert [(p["vin"], p["plate"], p["last_valid_day"]) for p in listed] == [
        (vin(1), "粤D·12345", "2026-11-26")
    ]
    confirmed = client.post("/staff/api/preselections/confirm", json={"vin": vin(1)}, headers=AUTH)
    assert confirmed.status_code == 200 and confirmed.json()["state"] == "confirmed"
    twice = client.post("/staff/api/preselections/confirm", json={"vin": vin(1)}, headers=AUTH)
    assert twice.status_code == 409
    unknown = client.post("/staff/api/preselections/confirm", json={"vin": vin(9)}, headers=AUTH)
    assert unknown.status_code == 404
    assert client.get("/staff/api/preselections?state=selected", headers=AUTH).json() == []
    not_barred = client.post(
        "/staff/api/blacklist/lift", json={"phone": PERSON_PHONE}, headers=AUTH
    )
    assert not_barred.status_code == 409
    assert client.get("/staff/api/blacklist", headers=AUTH).json() == []


def test_guides_contacts_and_announcements_are_managed_and_read_by_users(
    client: TestClient, staff_app: App
) -> None:
    office(client)
    guide = client.post(
        "/staff/api/guides",
        json={"title": "办事指南一", "body": "正文一", "title_en": "Guide one"},
        headers=AUTH,
    ).json()
    client.post(
        "/staff/api/contacts",
        json={
            "name": "汕头车管所",
            "phone": "0754-1234567",
            "address": "泰山路1号",
            "office_code": "粤D",
        },
        headers=AUTH,
    )
    notice = client.post(
        "/staff/api/announcements", json={"title": "停电通知", "body": "周六停办"}, headers=AUTH
    ).json()
    changed = client.patch(
        f"/staff/api/guides/{guide['id']}", json={"body": "新正文"}, headers=AUTH
    )
    assert changed.json()["body"] == "新正文"
    chat = Transcript(staff_app, user_key="reader", channel="console")
    chat.say("EN")
    chat.pick("info")
    chat.pick("guides")
    assert "Guide one" in chat.text  # English title given
    chat.pick(f"guide:{guide['id']}")
    assert "新正文" in chat.text  # no English body: the Chinese one
    chat.pick("menu")
    chat.pick("info")
    chat.pick("contacts")
    assert "0754-1234567" in chat.text
    chat.pick("topics")
    chat.pick("announcements")
    assert "停电通知" in chat.text
    client.post(f"/staff/api/announcements/{notice['id']}/withdraw", headers=AUTH)
    chat.pick("topics")
    chat.pick("announcements")
    assert "停电通知" not in chat.text
    assert client.delete(f"/staff/api/guides/{guide['id']}", headers=AUTH).status_code == 204
    assert client.get("/staff/api/guides", headers=AUTH).json() == []
    assert client.delete(f"/staff/api/guides/{guide['id']}", headers=AUTH).status_code == 404
