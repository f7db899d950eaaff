"""Fixtures of the end-to-end tests: the app with the staff API on."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from core.clock import ManualClock
from platebot.bootstrap import App
from tests.support import CapturingSender, build_staff_app


@pytest.fixture
def staff_app(db: Engine, clock: ManualClock, sms: CapturingSender) -> App:
    """The app as ``app`` builds it, with a staff token configured."""
    return build_staff_app(db, clock, sms)
