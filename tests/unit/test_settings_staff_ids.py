"""``PLATEBOT_TELEGRAM_STAFF_IDS``: the Telegram user ids allowed the staff commands."""

from __future__ import annotations

import pytest

from platebot.settings import SettingsError, load_settings


def test_staff_ids_are_read_from_a_comma_separated_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PLATEBOT_TELEGRAM_STAFF_IDS", "4242, 5151,")
    assert load_settings(_env_file=None).telegram_staff_ids == frozenset({4242, 5151})


def test_nobody_is_staff_when_the_variable_is_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PLATEBOT_TELEGRAM_STAFF_IDS", raising=False)
    assert load_settings(_env_file=None).telegram_staff_ids == frozenset()


def test_a_staff_id_that_is_not_a_number_stops_start_up_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PLATEBOT_TELEGRAM_STAFF_IDS", "4242,@wang")
    with pytest.raises(SettingsError) as refused:
        load_settings(_env_file=None)
    assert "PLATEBOT_TELEGRAM_STAFF_IDS" in str(refused.value)
    assert "numbers, separated by commas" in str(refused.value)
