"""The staff HTTP API keeps the contract it publishes: schemathesis reads the app's OpenAPI
document and sends every operation under ``/staff/api`` the requests it allows (which must be
answered as documented) and requests it forbids (which must be refused), with every check on:
no 5xx, only documented status codes, content types, headers and bodies, forbidden data refused,
allowed data not refused as malformed, the token enforced, undeclared methods answered 405 with
a true ``Allow``. An operation added to the staff API is a test here the day it lands.

Each operation runs against its own SQLite database holding a small office (粤D, a pool, a
vehicle, a guide, a contact and an announcement), so the documented examples reach real things.
Deterministic (fixed seed, derandomized Hypothesis, no example database): what fails once fails
on every run. Examples per operation shrink as operations are added (``BUDGET``), so the run
keeps to about half a minute of one core (26 operations, some 2,900 requests).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis import Case, CheckContext, Response
from schemathesis.config import SchemathesisConfig
from sqlalchemy.engine import Engine

from core.clock import ManualClock
from core.plates import PlateKind
from platebot.bootstrap import App
from platebot.server import create_web_app
from platebot.staff_service import StaffService
from store.db import create_engine
from store.preselection_tables import announcements, contacts, guides
from tests.preselect_world import PERSON_ID, add_accounts, cert, person, vin
from tests.support import STAFF_TOKEN, CapturingSender, build_staff_app
from web.staff_models import INT_MAX

SEED = 17
# Requests the fuzzing phase may generate over all staff operations, and the fewest and most
# for one operation (the examples and coverage phases add one to a few dozen each).
BUDGET = 1000
FEWEST, MOST = 15, 50
STAFF_PATHS = "^/staff/api/"
METHODS = frozenset({"get", "put", "post", "patch", "delete"})

# Refused as not matching the document: never the answer to data the document allows.
MALFORMED = frozenset({"request.invalid", "request.unparsable"})


def published_document() -> dict[str, Any]:
    """The OpenAPI document of the app as the tests build it (writing it touches no database)."""
    engine = create_engine("sqlite://")
    try:
        app = build_staff_app(engine, ManualClock(), CapturingSender())
        return create_web_app(app, run_workers=False).openapi()
    finally:
        engine.dispose()


def staff_operations_of(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        if path.startswith("/staff/api/"):
            for method, operation in item.items():
                if method in METHODS:
                    yield f"{method.upper()} {path}", operation


def config(operations: int) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "generation": {
                "mode": "all",
                "max-examples": max(FEWEST, min(MOST, BUDGET // max(operations, 1))),
                "deterministic": True,
                "database": "none",
            },
            "checks": {
                "enabled": True,
                # A request the schema allows may still break a rule of the office no JSON schema
                # states (a VIN's check digit, a region that exists, hours that close after they
                # open): a documented 422 Problem with the rule's code. Refusing it as malformed
                # is not: ``allowed_data_is_not_refused_as_malformed`` fails on that.
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "401", "403", "404", "409", "422"]
                },
            },
            "auth": {"openapi": {"HTTPBearer": {"bearer": STAFF_TOKEN}}},
        }
    )


class _Serving:
    """The ASGI app schemathesis calls: the app of the test that runs (whose lifespan its fixture
    runs; schemathesis would start one more and keep it to the end of the test process)."""

    app: FastAPI | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            return
        assert self.app is not None, "no staff_web fixture is running"
        await self.app(scope, receive, send)


SERVING = _Serving()
DOCUMENT = published_document()
schema = schemathesis.openapi.from_dict(
    DOCUMENT, config=config(len(list(staff_operations_of(DOCUMENT))))
)
schema.app = SERVING


def seed(app: App) -> None:
    """One of everything the documented examples name: office 粤D, id 1, the person of
    +8613800138000 (registered, not barred), the vehicle LGBH52E08NY000001."""
    staff = StaffService(app.uow, app.clock)
    staff.create_office(code="粤D", name="汕头市车辆管理所", region_code="4405")
    staff.load_pool("粤D", PlateKind.SMALL, ranges=["10000-10009"], serials=["AB123"])
    staff.import_registry(
        f"vin,certificate_no,owner_id,plate_kind\n{vin(1)},{cert(1)},{PERSON_ID},small"
    )
    staff.add_guide(title="办事指南", body="正文")
    staff.add_contact(name="汕头车管所", phone="0754-1234567", address="泰山路1号", hours="")
    staff.announce(title="停电通知", body="周六停办")
    add_accounts(app, person())


@pytest.fixture
def staff_web(db: Engine, clock: ManualClock, sms: CapturingSender) -> Iterator[FastAPI]:
    """The app with the staff API, running, over a seeded database, and the one schemathesis
    calls until the test ends."""
    app = build_staff_app(db, clock, sms)
    seed(app)
    web = create_web_app(app, run_workers=False)
    with TestClient(web) as client:
        assert client.get("/openapi.json").json() == DOCUMENT
        SERVING.app = web
        try:
            yield web
        finally:
            SERVING.app = None


def allowed_data_is_not_refused_as_malformed(
    ctx: CheckContext, response: Response, case: Case[Any]
) -> bool | None:
    """What the document allows, FastAPI's check of the request lets through."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return None
    if response.status_code in {400, 422} and response.json().get("code") in MALFORMED:
        raise AssertionError(f"Data the schema allows was refused as malformed: {response.text}")
    return None


@schema.include(path_regex=STAFF_PATHS).parametrize()
# The database is one per operation and outlives the examples: what one request creates, the
# next ones find (the examples of an operation run in order, from the same seed each time).
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_staff_operation_keeps_its_published_contract(case: Case[Any], staff_web: FastAPI) -> None:
    case.call_and_validate(additional_checks=[allowed_data_is_not_refused_as_malformed])


def can_be_malformed(parameter: dict[str, Any]) -> bool:
    """Not every string is this parameter (a string path parameter without a format is)."""
    declared = parameter["schema"]
    return declared.get("type") != "string" or bool(CONSTRAINTS & set(declared))


CONSTRAINTS = frozenset({"minLength", "maxLength", "pattern", "format", "enum"})


def test_every_staff_operation_documents_its_refusals_as_problems() -> None:
    """401 everywhere; 400 and 422 wherever a JSON body or a parameter can be malformed; every
    4xx a ``Problem``; FastAPI's ``HTTPValidationError`` nowhere (it is never sent)."""
    problem = {"$ref": "#/components/schemas/Problem"}
    for label, operation in staff_operations_of(DOCUMENT):
        responses = operation["responses"]
        assert "401" in responses, label
        for status, response in responses.items():
            if status.startswith("4"):
                assert response["content"]["application/json"]["schema"] == problem, label
        body = operation.get("requestBody")
        if body is not None:
            assert body["required"] is True, label
            assert "422" in responses, label
            if "application/json" in body["content"]:
                assert "400" in responses, label
        if any(can_be_malformed(p) for p in operation.get("parameters", [])):
            assert "422" in responses, label
    assert "HTTPValidationError" not in DOCUMENT["components"]["schemas"]


def test_ids_are_bounded_by_their_columns() -> None:
    """Every integer path parameter names the range of the column it is looked up in: the ids
    of guides, contacts and announcements are ``sa.Integer`` (32 bits on PostgreSQL)."""
    assert all(type(t.c.id.type) is sa.Integer for t in (guides, contacts, announcements))
    for label, operation in staff_operations_of(DOCUMENT):
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path" and parameter["schema"].get("type") == "integer":
                assert parameter["schema"]["maximum"] == 2**31 - 1 == INT_MAX, label
                assert parameter["schema"]["minimum"] == 1, label
