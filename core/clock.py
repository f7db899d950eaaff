"""Time comes from an injected clock; core never reads the system time itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo

OFFICE_TZ: tzinfo = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to: for tests, benchmarks and practice rooms."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 11, 23, 2, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    def set(self, when: datetime) -> None:
        self._now = when


def as_utc(value: datetime) -> datetime:
    """Databases may hand back naive datetimes (SQLite): they are UTC by our convention."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def format_local(value: datetime) -> str:
    """A time as the office shows it: ``2026-11-21 14:05`` in Asia/Shanghai."""
    return as_utc(value).astimezone(OFFICE_TZ).strftime("%Y-%m-%d %H:%M")


def format_deadline(value: datetime) -> str:
    """A deadline as the office writes it: one at midnight is the end of the day before
    (``2026-12-15 24:00``, as official notices say ``24时前``), not ``2026-12-16 00:00``, which
    reads as if the 16th still counted."""
    local = as_utc(value).astimezone(OFFICE_TZ)
    if (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0):
        return (local - timedelta(days=1)).strftime("%Y-%m-%d 24:00")
    return local.strftime("%Y-%m-%d %H:%M")
