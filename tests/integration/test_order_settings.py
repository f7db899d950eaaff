"""The order settings: ``PLATEBOT_ORDER_MINUTES`` reaches what places orders, the dialogs
(``Services.order_minutes``, which flows pass to ``place_order``), in the server, the console and
the turn process alike (each builds its app from the settings); a bad value, or a payment provider
that is not built in, stops start-up naming the variable."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from core.clock import ManualClock
from core.orders import Purpose
from core.outbox import Channel
from core.payments import place_order
from platebot.bootstrap import build_app
from platebot.settings import SettingsError, load_settings
from tests.order_world import account
from tests.support import CapturingSender


def test_orders_placed_in_dialogs_wait_the_configured_minutes(
    db: Engine, clock: ManualClock, sms: CapturingSender, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLATEBOT_ORDER_MINUTES", "45")
    settings = load_settings(database_url=str(db.url), secret_key="test-secret")
    app = build_app(settings, clock=clock, senders={Channel.SMS: sms}, db=db, upgrade=False)
    minutes = app.dialogs.services.order_minutes
    assert minutes == 45
    owner = account(app)
    with app.uow() as uow:
        order = place_order(
            uow,
            account_id=owner,
            purpose=Purpose.PLATE_PURCHASE,
            reference="listing:1",
            subject="粤D·A1234",
            amount=100,
            now=clock.now(),
            minutes=minutes,
        )
    assert (order.deadline - order.created_at).total_seconds() == 45 * 60


@pytest.mark.parametrize("value", ["0", "1441", "half an hour"])
def test_an_order_minutes_setting_out_of_range_stops_start_up_naming_it(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLATEBOT_ORDER_MINUTES", value)
    with pytest.raises(SettingsError, match="PLATEBOT_ORDER_MINUTES"):
        load_settings()


def test_only_the_built_in_sandbox_is_a_payment_provider_today(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PLATEBOT_PAYMENT_PROVIDER", "alipay")
    with pytest.raises(SettingsError, match="PLATEBOT_PAYMENT_PROVIDER"):
        load_settings()
