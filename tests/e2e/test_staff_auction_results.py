"""Auction results over the staff HTTP API (``/staff/api/auction-results``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from core.clock import ManualClock
from platebot.bootstrap import App
from platebot.server import create_web_app
from tests.auction_journey_world import JourneyWorld, closed_period, masked
from tests.support import STAFF_AUTH, CapturingSender, build_staff_app


@pytest.fixture
def staff_app(db: Engine, clock: ManualClock, sms: CapturingSender) -> App:
    return build_staff_app(db, clock, sms)


@pytest.fixture
def client(staff_app: App) -> Iterator[TestClient]:
    with TestClient(create_web_app(staff_app, run_workers=False)) as test_client:
        yield test_client


def test_staff_read_the_results_of_closed_periods(staff_app: App, client: TestClient) -> None:
    world = JourneyWorld(staff_app)
    period_id, (first, _) = closed_period(world, lots=3)
    assert client.get("/staff/api/auction-results").status_code == 401
    every = client.get("/staff/api/auction-results", headers=STAFF_AUTH)
    assert every.status_code == 200, every.text
    assert [p["period_id"] for p in every.json()] == [period_id]
    one = client.get(f"/staff/api/auction-results/{period_id}", headers=STAFF_AUTH).json()
    assert one["sold"] == 2
    assert one["lots"][0] == {
        "position": 1,
        "plate": "粤D·88888",
        "sold": True,
        "price_fen": 1_100_000,
        "winner": masked(first.bidder_number),
    }
    assert one["lots"][1]["sold"] is False and one["lots"][1]["winner"] is None


def test_unknown_or_unfinished_periods_are_refused(staff_app: App, client: TestClient) -> None:
    world = JourneyWorld(staff_app)
    period_id = world.period()
    unknown = client.get("/staff/api/auction-results/999", headers=STAFF_AUTH)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "auction.period_unknown")
    running = client.get(f"/staff/api/auction-results/{period_id}", headers=STAFF_AUTH)
    assert (running.status_code, running.json()["code"]) == (
        409,
        "auction.results_not_published",
    )
