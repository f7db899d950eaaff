"""Every refusal of the staff HTTP API is a ``Problem`` (``{"code", "message", "params"}``) with
the status its OpenAPI document names, and no value reaches the database past what its column
holds (on PostgreSQL too, where ``Integer`` is 32 bits and ``String(n)`` is enforced)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from platebot.bootstrap import App
from platebot.server import create_web_app
from tests.preselect_world import PERSON_ID, cert, vin
from tests.support import STAFF_AUTH
from web.staff_models import INT_MAX

CSV = {**STAFF_AUTH, "Content-Type": "text/csv"}
# What the HTTP layer refuses before any query: the same on every database.
HTTP_ONLY = pytest.mark.parametrize("db", ["sqlite"], indirect=True)
OFFICE = {"code": "粤D", "name": "汕头市车辆管理所", "region_code": "4405"}


@pytest.fixture
def client(staff_app: App) -> Iterator[TestClient]:
    with TestClient(create_web_app(staff_app, run_workers=False)) as test_client:
        assert test_client.post("/staff/api/offices", json=OFFICE, headers=STAFF_AUTH).is_success
        yield test_client


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"code", "message", "params"} and body["code"] == code, body
    return body


@pytest.mark.parametrize("item_id", [INT_MAX + 1, 2**64, 0])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/staff/api/announcements/{}/withdraw"),
        ("PATCH", "/staff/api/guides/{}"),
        ("DELETE", "/staff/api/contacts/{}"),
    ],
)
def test_an_id_no_column_can_hold_is_refused_as_invalid(
    client: TestClient, method: str, path: str, item_id: int
) -> None:
    response = client.request(method, path.format(item_id), json={}, headers=STAFF_AUTH)
    assert problem(response, 422, "request.invalid")["params"]["field"] == "path.item_id"


def test_the_largest_id_a_column_holds_is_looked_up(client: TestClient) -> None:
    response = client.post(f"/staff/api/announcements/{INT_MAX}/withdraw", headers=STAFF_AUTH)
    problem(response, 404, "info.not_found")


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/staff/api/offices/粤D", {"name": "名" * 81}, "body.name"),
        ("/staff/api/offices/粤D", {"address": "址" * 201}, "body.address"),
        ("/staff/api/offices/粤D", {"batch_size": True}, "body.batch_size"),
        ("/staff/api/offices/粤D", {"batch_size": "5"}, "body.batch_size"),
        ("/staff/api/offices/粤D", {"batch_size": 31}, "body.batch_size"),
        ("/staff/api/offices/粤D", {"colour": "red"}, "body.colour"),
        ("/staff/api/guides/1", {"position": INT_MAX + 1}, "body.position"),
        ("/staff/api/contacts/1", {"phone": "1" * 41}, "body.phone"),
    ],
)
def test_a_value_past_its_column_or_of_the_wrong_type_is_refused_as_invalid(
    client: TestClient, path: str, body: dict[str, Any], field: str
) -> None:
    client.post("/staff/api/guides", json={"title": "t", "body": "b"}, headers=STAFF_AUTH)
    client.post(
        "/staff/api/contacts",
        json={"name": "n", "phone": "0754-1234567", "address": "a"},
        headers=STAFF_AUTH,
    )
    refused = problem(client.patch(path, json=body, headers=STAFF_AUTH), 422, "request.invalid")
    assert refused["params"]["field"] == field
    assert field in refused["message"]


def test_values_as_long_as_their_columns_are_kept(client: TestClient) -> None:
    changed = client.patch(
        "/staff/api/offices/粤D",
        json={"name": "名" * 80, "address": "址" * 200, "batch_size": 5.0},
        headers=STAFF_AUTH,
    )
    assert changed.status_code == 200, changed.text
    assert (len(changed.json()["name"]), changed.json()["batch_size"]) == (80, 5)
    contact = client.post(
        "/staff/api/contacts",
        json={"name": "名" * 80, "phone": "1" * 40, "address": "址" * 200, "hours": "时" * 80},
        headers=STAFF_AUTH,
    )
    assert contact.status_code == 201, contact.text


@HTTP_ONLY
@pytest.mark.parametrize("day", ["0", "20261001", "2026-13-01", "2026-10-01T00:00:00"])
def test_a_holiday_is_a_date_written_yyyy_mm_dd(client: TestClient, day: str) -> None:
    response = client.put(f"/staff/api/offices/粤D/holidays/{day}", headers=STAFF_AUTH)
    assert problem(response, 422, "request.invalid")["params"]["field"] == "path.day"
    kept = client.put("/staff/api/offices/粤D/holidays/2026-10-01", headers=STAFF_AUTH)
    assert kept.status_code == 204


@HTTP_ONLY
@pytest.mark.parametrize("body", [b"{", b"\xff\xfe{}", b"[1,"])
def test_a_body_that_is_not_json_is_refused_as_unparsable(client: TestClient, body: bytes) -> None:
    headers = {**STAFF_AUTH, "Content-Type": "application/json"}
    response = client.post("/staff/api/guides", content=body, headers=headers)
    problem(response, 400, "request.unparsable")


@HTTP_ONLY
def test_a_request_without_the_token_learns_nothing_of_its_body_or_path(client: TestClient) -> None:
    headers = {"Content-Type": "application/json"}
    for response in (
        client.post("/staff/api/guides", content=b"{", headers=headers),
        client.post("/staff/api/guides", json={"title": 1}),
        client.get("/staff/api/no-such-thing"),
        client.delete("/staff/api/offices"),
        client.post("/staff/api/registry/import", content=b""),
    ):
        problem(response, 401, "auth.required")
        assert response.headers["www-authenticate"] == "Bearer"


@HTTP_ONLY
def test_an_unknown_path_and_a_method_a_path_does_not_take_are_problems(client: TestClient) -> None:
    problem(client.get("/staff/api/no-such-thing", headers=STAFF_AUTH), 404, "request.no_route")
    refused = problem(
        client.delete("/staff/api/offices", headers=STAFF_AUTH), 405, "request.method"
    )
    assert refused["params"]["allowed"] == "GET, POST"
    options = client.options("/staff/api/guides/1", headers=STAFF_AUTH)
    assert options.status_code == 405 and options.headers["allow"] == "DELETE, PATCH"
    # The other areas of the staff API (orders, the sale …) name their methods too.
    orders = client.delete("/staff/api/orders", headers=STAFF_AUTH)
    assert problem(orders, 405, "request.method")["params"]["allowed"] == "GET"
    assert orders.headers["allow"] == "GET"
    listings = client.patch("/staff/api/sale/listings", headers=STAFF_AUTH)
    assert problem(listings, 405, "request.method")["params"]["allowed"] == "GET, POST"


@HTTP_ONLY
@pytest.mark.parametrize(
    "path", ["/staff/api/registry/import", "/staff/api/offices/粤D/pool/csv?kind=small"]
)
def test_a_csv_upload_without_a_file_is_refused(client: TestClient, path: str) -> None:
    refused = problem(client.post(path, content=b"", headers=CSV), 422, "request.invalid")
    assert refused["params"]["field"] == "body"


@HTTP_ONLY
def test_a_registry_file_without_its_columns_is_refused_whole(client: TestClient) -> None:
    response = client.post("/staff/api/registry/import", content=b"name,phone\nx,y\n", headers=CSV)
    body = problem(response, 422, "registry.columns")
    assert "vin" in body["message"]


@HTTP_ONLY
def test_a_csv_field_past_the_csv_module_limit_is_refused_not_a_server_error(
    client: TestClient,
) -> None:
    huge = b"serial\n" + b"A" * 200_000 + b"\n"
    response = client.post("/staff/api/offices/粤D/pool/csv?kind=small", content=huge, headers=CSV)
    problem(response, 422, "csv.unreadable")


@HTTP_ONLY
def test_other_paths_keep_fastapi_answers(client: TestClient) -> None:
    """The staff API's handlers answer for ``/staff/api`` alone."""
    response = client.get("/nowhere")
    assert response.status_code == 404 and response.json() == {"detail": "Not Found"}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/staff/api/guides", {"title": "a\x00b", "body": "正文"}),
        (
            "POST",
            "/staff/api/contacts",
            {"name": "n", "phone": "1", "address": "a", "office_code": "粤\x00"},
        ),
        ("PATCH", "/staff/api/offices/粤D", {"notice": "\x00"}),
        ("GET", "/staff/api/preselections?office=粤%00", None),
        ("GET", "/staff/api/offices/粤%00/pool", None),
    ],
)
def test_a_text_holding_a_nul_character_is_refused_before_the_database_sees_it(
    client: TestClient, method: str, path: str, body: dict[str, Any] | None
) -> None:
    """PostgreSQL cannot keep a NUL character in a text (it raises; that was a 500)."""
    response = client.request(method, path, json=body, headers=STAFF_AUTH)
    problem(response, 422, "request.invalid")


def test_a_csv_file_holding_a_nul_character_is_refused(client: TestClient) -> None:
    csv = (
        f"vin,certificate_no,owner_id,plate_kind,model\n{vin(1)},{cert(1)},{PERSON_ID},small,a\x00b"
    )
    response = client.post("/staff/api/registry/import", content=csv.encode(), headers=CSV)
    assert problem(response, 422, "request.invalid")["params"]["field"] == "body"
