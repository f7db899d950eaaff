"""Adding a router's routes to the app without ``include_router``."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute


def add_routes(api: FastAPI, router: APIRouter) -> None:
    """The routes of ``router`` added to ``api`` as they are: an ``APIRouter`` builds each route
    complete as it is added (its prefix, dependencies, tags and responses applied), so nothing is
    left to combine. ``include_router`` would build every route a second time, at the first
    request or the first OpenAPI document (FastAPI includes lazily): 0.17 s of the staff API's and
    console's first request, paid by every server process and every test's app.

    What ``include_router`` took from the app must then be the router's own: it is made with
    ``dependency_overrides_provider=api`` (so that ``api.dependency_overrides`` applies), and the
    app sets no dependencies, responses or tags of its own. Routes are added before the OpenAPI
    document is first built (it would not see them)."""
    if api.openapi_schema is not None:
        raise RuntimeError("routes added after the OpenAPI document was built")
    for route in router.routes:
        if isinstance(route, APIRoute) and route.dependency_overrides_provider is not api:
            raise ValueError(f"{route.path}: its router needs dependency_overrides_provider=api")
    api.router.routes.extend(router.routes)
