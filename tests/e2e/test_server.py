"""The HTTP app as a server process would run it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from core.clock import ManualClock
from platebot.bootstrap import App, build_app
from platebot.server import create_web_app
from platebot.settings import Settings


def test_health_answers_when_the_database_does(app: App) -> None:
    with TestClient(create_web_app(app)) as client:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_health_reports_an_unreachable_database() -> None:
    settings = Settings(database_url="postgresql://nobody@127.0.0.1:9/nowhere", secret_key="k")
    down = build_app(settings, clock=ManualClock(), upgrade=False)
    with TestClient(create_web_app(down, run_workers=False)) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "database unavailable"}


def test_the_server_warns_when_the_code_key_is_kept_in_the_database(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    """Without PLATEBOT_SECRET_KEY a copy of the database could reveal a pending code."""
    create_web_app(app, run_workers=False)  # the app fixture sets a key
    assert "PLATEBOT_SECRET_KEY" not in caplog.text
    keyless = build_app(
        Settings(database_url=str(app.db.url)), clock=ManualClock(), db=app.db, upgrade=False
    )
    create_web_app(keyless, run_workers=False)
    assert "PLATEBOT_SECRET_KEY is not set" in caplog.text
