"""Staff CSV uploads that are not UTF-8 (a spreadsheet saved as a GBK "CSV", an .xlsx workbook)
are refused with 422 and say how to save the file, instead of failing with 500; nothing of
them is imported."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from platebot.bootstrap import App
from platebot.server import create_web_app
from store.preselection_tables import vehicle_records
from tests.preselect_world import PERSON_ID, cert, vin
from tests.support import STAFF_AUTH

AUTH = {**STAFF_AUTH, "Content-Type": "text/csv"}
XLSX = b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\xb1\xc8\xd1\xc7"  # a zip's first bytes


@pytest.fixture
def client(staff_app: App) -> Iterator[TestClient]:
    with TestClient(create_web_app(staff_app, run_workers=False)) as test_client:
        created = test_client.post(
            "/staff/api/offices",
            json={"code": "粤D", "name": "汕头市车辆管理所", "region_code": "4405"},
            headers=STAFF_AUTH,
        )
        assert created.status_code == 201, created.text
        yield test_client


def registry_csv(model: str) -> str:
    header = "vin,certificate_no,owner_id,plate_kind,registered,model"
    return f"{header}\n{vin(1)},{cert(1)},{PERSON_ID},small,no,{model}\n"


def assert_refused_as_not_utf8(response: object) -> None:
    assert getattr(response, "status_code", None) == 422
    detail = response.json()  # type: ignore[attr-defined]
    assert detail["code"] == "csv.not_utf8"
    assert "UTF-8" in detail["message"] and "CSV UTF-8" in detail["message"]


@pytest.mark.parametrize(
    "body", [registry_csv("比亚迪秦").encode("gbk"), XLSX], ids=["gbk", "xlsx"]
)
def test_a_registry_file_that_is_not_utf8_is_refused_with_what_to_do(
    client: TestClient, db: Engine, body: bytes
) -> None:
    response = client.post("/staff/api/registry/import", content=body, headers=AUTH)
    assert_refused_as_not_utf8(response)
    with db.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(vehicle_records)).scalar() == 0


def test_a_pool_file_that_is_not_utf8_is_refused_with_what_to_do(client: TestClient) -> None:
    body = "serial,备注\nAB123,新号段\n".encode("gbk")
    response = client.post("/staff/api/offices/粤D/pool/csv?kind=small", content=body, headers=AUTH)
    assert_refused_as_not_utf8(response)
    counts = client.get("/staff/api/offices/粤D/pool", headers=AUTH).json()
    assert counts["small"] == 0


def test_the_same_files_saved_as_csv_utf8_are_imported(client: TestClient) -> None:
    """Excel's "CSV UTF-8" starts with a byte order mark: that is fine."""
    bom = b"\xef\xbb\xbf"
    registry = client.post(
        "/staff/api/registry/import",
        content=bom + registry_csv("比亚迪秦").encode(),
        headers=AUTH,
    )
    assert registry.status_code == 200, registry.text
    assert (registry.json()["added"], registry.json()["errors"]) == (1, [])
    pool = client.post(
        "/staff/api/offices/粤D/pool/csv?kind=small",
        content=bom + "serial,备注\nAB123,新号段\n".encode(),
        headers=AUTH,
    )
    assert pool.json() == {"added": 1, "already": 0, "excluded": 0, "refused": []}
