"""``/healthz`` says whether the server can run turns: 200 when the database takes a committed
write and the lane the SMS turns run in answers and can write too; 503 naming what cannot."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import datetime

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from platebot.bootstrap import App
from platebot.server import create_web_app
from platebot.turn_process import TurnProcessFailed
from store import health
from store.health import health_probes


@pytest.fixture
def client(app: App) -> Iterator[TestClient]:
    with TestClient(create_web_app(app, run_workers=False)) as running:
        yield running


def test_health_is_ok_after_a_committed_write(app: App, client: TestClient) -> None:
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    with app.db.connect() as conn:
        assert conn.execute(sa.select(health_probes.c.probed_at)).scalar_one() == app.clock.now()


def test_a_database_that_refuses_writes_is_unhealthy(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(_engine: Engine, _now: datetime, _wait: float) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(health, "probe", refused)
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (503, {"status": "database unavailable"})


def test_a_lane_of_sms_turns_that_cannot_run_them_is_unhealthy(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def down(*_args: object) -> None:
        raise TurnProcessFailed("platebot-sms-turns could not start")

    monkeypatch.setattr(client.app.state.sms_turns, "run", down)  # type: ignore[attr-defined]
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (503, {"status": "sms turns unavailable"})
