"""How times are written for users and staff: China time; a deadline at midnight is the end of
the day before."""

from __future__ import annotations

from datetime import UTC, datetime

from core.clock import format_deadline, format_local


def test_a_deadline_at_midnight_is_written_as_the_end_of_the_day_before() -> None:
    midnight = datetime(2026, 12, 15, 16, 0, tzinfo=UTC)  # 2026-12-16 00:00 in China
    assert format_local(midnight) == "2026-12-16 00:00"
    assert format_deadline(midnight) == "2026-12-15 24:00"
    year_end = datetime(2026, 12, 31, 16, 0, tzinfo=UTC)
    assert format_deadline(year_end) == "2026-12-31 24:00"


def test_any_other_deadline_is_written_as_it_is() -> None:
    for moment, written in (
        (datetime(2026, 12, 15, 16, 1, tzinfo=UTC), "2026-12-16 00:01"),
        (datetime(2026, 12, 15, 15, 59, tzinfo=UTC), "2026-12-15 23:59"),
        (datetime(2026, 12, 15, 16, 0, 30, tzinfo=UTC), "2026-12-16 00:00"),
    ):
        assert format_deadline(moment) == written
