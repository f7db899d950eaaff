"""The checks ``/healthz`` runs: each area of the app adds its own (``add_health_check``); the
server is healthy when every one succeeds within ``PLATEBOT_HEALTH_WAIT`` seconds (by default
``platebot.settings.HEALTH_WAIT``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI

Check = Callable[[], Awaitable[object]]


def add_health_check(api: FastAPI, name: str, check: Check) -> None:
    """``check`` raises (or takes longer than the health wait) when ``name`` cannot work."""
    api.state.health_checks.append((name, check))


def health_checks(api: FastAPI) -> list[tuple[str, Check]]:
    checks: list[tuple[str, Check]] = api.state.health_checks
    return checks
