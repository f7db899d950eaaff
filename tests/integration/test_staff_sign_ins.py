"""Staff sign-in attempts: they throttle an account for 15 minutes, and housekeeping deletes
them after 30 days."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.clock import ManualClock
from core.staff import SignInRefused, SignInThrottled
from platebot.bootstrap import App
from platebot.staff_accounts import StaffAccounts
from store.housekeeping import Housekeeping
from store.staff_tables import staff_sign_ins
from tests.preselect_world import add_office
from tests.staff_console_world import PASSWORD, QUICK_HASHER, add_staff


def _attempts(app: App) -> int:
    with app.db.connect() as conn:
        return int(
            conn.execute(sa.select(sa.func.count()).select_from(staff_sign_ins)).scalar_one()
        )


def test_failed_sign_ins_throttle_then_age_out_and_are_deleted_after_30_days(
    app: App, clock: ManualClock
) -> None:
    add_office(app)
    add_office(app, code="粤A", region="4401")
    add_staff(app)
    accounts = StaffAccounts(app.uow, app.clock, hasher=QUICK_HASHER)
    for _ in range(5):
        with pytest.raises(SignInRefused):
            accounts.sign_in(name="clerk", password="wrong password", address="10.0.0.7")
    clock.advance(timedelta(minutes=10))
    with pytest.raises(SignInThrottled) as waits:
        accounts.sign_in(name="clerk", password=PASSWORD, address="10.0.0.7")
    assert waits.value.params == {"minutes": 5}
    clock.advance(timedelta(minutes=5, seconds=1))
    assert accounts.sign_in(name="clerk", password=PASSWORD, address="10.0.0.7").name == "clerk"
    assert _attempts(app) == 6
    clock.advance(timedelta(days=29))
    Housekeeping(app.db, clock).run_once()
    assert _attempts(app) == 6
    clock.advance(timedelta(days=1, hours=1))
    Housekeeping(app.db, clock).run_once()
    assert _attempts(app) == 0
