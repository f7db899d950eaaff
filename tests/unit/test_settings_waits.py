"""How long an SMS's turn may wait for the database, when the webhook answers, and how long a
health check may take: settings (tests set them short), with the defaults they always had."""

from __future__ import annotations

import inspect

import pytest

from platebot import dispatcher
from platebot.settings import SettingsError, load_settings
from sms import webhook

NAMES = ["PLATEBOT_SMS_TURN_DEADLINE", "PLATEBOT_SMS_ANSWER_WITHIN", "PLATEBOT_HEALTH_WAIT"]


def test_the_waits_default_to_8_12_and_5_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(_env_file=None)
    assert (settings.sms_turn_deadline, settings.sms_answer_within, settings.health_wait) == (
        8.0,
        12.0,
        5.0,
    )
    # the parts built without settings take the same defaults
    mount = inspect.signature(webhook.mount).parameters
    assert (mount["turn_deadline"].default, mount["answer_within"].default) == (8.0, 12.0)
    assert webhook.SmsService.health_wait == 5.0


def test_a_sending_lane_is_held_10_seconds_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PLATEBOT_LANE_LEASE_SECONDS", raising=False)
    assert load_settings(_env_file=None).lane_lease_seconds == 10.0
    assert dispatcher.LANE_LEASE.total_seconds() == 10.0


def test_the_waits_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in zip(NAMES, ["3", "4.5", "2"], strict=True):
        monkeypatch.setenv(name, value)
    settings = load_settings(_env_file=None)
    assert (settings.sms_turn_deadline, settings.sms_answer_within, settings.health_wait) == (
        3.0,
        4.5,
        2.0,
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("sms_answer_within", 15),  # Twilio would have given up
        ("sms_turn_deadline", 0),
        ("health_wait", -1),
        ("lane_lease_seconds", 0.5),  # shorter than a dispatcher round can be
    ],
)
def test_a_wait_out_of_range_is_refused_naming_it(name: str, value: float) -> None:
    with pytest.raises(SettingsError, match=f"PLATEBOT_{name.upper()}"):
        load_settings(_env_file=None, **{name: value})
