"""The staff console in a real browser: Debian's Chromium driven by Playwright, against the app
served by uvicorn on a free port (a thread of this process, so the test's manual clock and SMS
sender are the server's). Skipped, saying why, where no Chromium can be had.

Screenshots go to a temporary directory, or to ``PLATEBOT_SCREENSHOTS`` when set (the README's
come from ``PLATEBOT_SCREENSHOTS=docs/screenshots``)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from core.clock import ManualClock
from core.outbox import Channel
from platebot.bootstrap import App, build_app
from platebot.server import create_web_app
from platebot.settings import Settings
from store import migrate
from store.db import create_engine
from tests.sms_support import ACCOUNT_SID, AUTH_TOKEN, OUR_NUMBER
from tests.support import STAFF_TOKEN, CapturingSender
from tests.thread_server import free_port, served_in_thread

CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")


def chromium_path() -> str | None:
    given = os.environ.get("PLATEBOT_CHROMIUM")
    for path in (given, *CHROMIUM_PATHS, shutil.which("chromium")):
        if path and Path(path).is_file() and os.access(path, os.X_OK):
            return path
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    path = chromium_path()
    if path is None:
        pytest.skip(
            "no Chromium to drive: install Debian's (apt-get install -y chromium) or set "
            "PLATEBOT_CHROMIUM to a Chromium executable; .ci/run installs it where apt-get can"
        )
    try:
        from playwright.sync_api import sync_playwright  # noqa: PLC0415
    except ImportError:
        pytest.skip("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=path, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        yield launched
        launched.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where screenshots go."""
    given = os.environ.get("PLATEBOT_SCREENSHOTS")
    folder = Path(given) if given else tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def browser_db(tmp_path: Path) -> Iterator[Engine]:
    """A SQLite file: what the browser shows is the same on either database (the console's
    rules are held on both by tests/e2e/test_staff_console.py)."""
    engine = create_engine(f"sqlite:///{tmp_path / 'platebot.db'}")
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def served(
    browser_db: Engine, clock: ManualClock, sms: CapturingSender
) -> Iterator[tuple[App, str]]:
    """The app (staff API on, Twilio's webhook on: texts arrive signed for this base URL)
    served on a free port: (app, base URL)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = Settings(
        database_url=str(browser_db.url),
        secret_key="test-secret",
        public_url=base,
        staff_token=STAFF_TOKEN,
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        twilio_from=OUR_NUMBER,
    )
    app = build_app(settings, clock=clock, senders={Channel.SMS: sms}, db=browser_db, upgrade=False)
    with served_in_thread(create_web_app(app, run_workers=False), port):
        yield app, base
