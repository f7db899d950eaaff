"""The HTTP app as a server process would run it."""

from __future__ import annotations

from fastapi.testclient import TestClient

from core.clock import ManualClock
from platebot.bootstrap import App, build_app
from platebot.settings import Settings
from web.app import create_web_app


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
