"""How the staff HTTP API says no: every refusal under ``/staff/api`` is a ``Problem``
(``{"code", "message", "params"}``), whoever raised it — a rule of the office (a
``DomainError``), FastAPI's check of the request against the OpenAPI document, the bearer
token check, or the router (no such path, no such method).

| status | code | when |
|---|---|---|
| 400 | ``request.unparsable`` | the body is not JSON (or not text) |
| 401 | ``auth.required`` | no staff token, or a wrong one (before anything else is looked at) |
| 404 | the rule's (``office.unknown``…), ``request.no_route`` | unknown thing, or no such path |
| 405 | ``request.method`` | the path exists, not with that method (``Allow`` lists those it has) |
| 409 | the rule's (``office.exists``…) | the thing is not in a state that allows it |
| 422 | ``request.invalid``, or the rule's | the request does not match the document, or a value
breaks an office rule |
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security.utils import get_authorization_scheme_param
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Match

from core.errors import DomainError
from platebot.staff_service import message_of
from web.staff_models import Problem

T = TypeVar("T")

PREFIX = "/staff/api"

NOT_FOUND = frozenset(
    {"office.unknown", "preselection.not_found", "account.unknown", "info.not_found"}
    | {"reservation.unknown", "broadcast.not_found"}
)
CONFLICT = frozenset(
    {"office.exists", "preselection.not_open", "preselection.lapsed", "blacklist.none"}
    | {"reservation.not_pending", "broadcast.wrong_state"}
)

AUTH_REQUIRED = (
    "A staff bearer token is required: send Authorization: Bearer <PLATEBOT_STAFF_TOKEN>."
)
UNPARSABLE = (
    "The body could not be read as JSON. Send a JSON object (Content-Type: application/json)."
)
INVALID = "The request does not match the API: {errors}."
NO_ROUTE = "There is no {path} in the staff API (see /openapi.json)."
METHOD = "{path} does not take {method}; it takes {allowed}."


def status_of(code: str) -> int:
    """The HTTP status a refusal of the office's rules is answered with."""
    if code in NOT_FOUND:
        return 404
    if code in CONFLICT:
        return 409
    return 422


def problem(
    status: int,
    code: str,
    message: str,
    params: dict[str, str | int] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = {"code": code, "message": message, "params": params or {}}
    return JSONResponse(body, status_code=status, headers=headers)


def refusal(error: DomainError) -> JSONResponse:
    message = message_of(error.code, error.params)
    return problem(status_of(error.code), error.code, message, error.params)


class Refused(Exception):
    """A refusal of the HTTP layer itself (what the office's rules do not know about, such as a CSV
    file that is not UTF-8), answered as a ``Problem``."""

    def __init__(
        self, status: int, code: str, message: str, params: dict[str, str | int] | None = None
    ) -> None:
        super().__init__(code, message)
        self.status, self.code, self.message, self.params = status, code, message, params or {}


def _where(loc: Iterable[Any]) -> str:
    return ".".join(str(part) for part in loc)


class StaffErrors:
    """The exception handlers of the app, answering for ``/staff/api`` and leaving every other path
    to FastAPI's own handlers."""

    def __init__(self, token: str) -> None:
        self._token = token.encode()
        self.routes: list[BaseRoute] = []  # the staff API's, for ``Allow``

    def install(self, api: FastAPI) -> None:
        api.add_exception_handler(DomainError, self._domain_error)  # type: ignore[arg-type]
        api.add_exception_handler(Refused, self._refused)  # type: ignore[arg-type]
        api.add_exception_handler(RequestValidationError, self._invalid)  # type: ignore[arg-type]
        api.add_exception_handler(HTTPException, self._http_error)  # type: ignore[arg-type]

    def authorised(self, header: str | None) -> bool:
        """``Authorization: Bearer <token>``, compared in constant time."""
        scheme, given = get_authorization_scheme_param(header)
        if scheme.lower() != "bearer":
            given = ""
        return secrets.compare_digest(given.encode(), self._token)

    def unauthorised(self) -> JSONResponse:
        return problem(401, "auth.required", AUTH_REQUIRED, headers={"WWW-Authenticate": "Bearer"})

    def _first_the_token(self, request: Request) -> JSONResponse | None:
        """FastAPI reads the body and routes before the token dependency runs: a request without
        the token learns nothing about either."""
        if self.authorised(request.headers.get("Authorization")):
            return None
        return self.unauthorised()

    async def _domain_error(self, request: Request, error: DomainError) -> Response:
        if not _is_staff(request):
            raise error
        return refusal(error)

    async def _refused(self, request: Request, error: Refused) -> Response:
        if not _is_staff(request):
            raise error
        return problem(error.status, error.code, error.message, error.params)

    async def _invalid(self, request: Request, error: RequestValidationError) -> Response:
        if not _is_staff(request):
            return await request_validation_exception_handler(request, error)
        if refused := self._first_the_token(request):
            return refused
        errors = list(error.errors())
        if any(e.get("type") == "json_invalid" for e in errors):
            return problem(400, "request.unparsable", UNPARSABLE)
        first = errors[0] if errors else {"loc": (), "msg": "invalid"}
        listed = "; ".join(f"{_where(e['loc'])}: {e['msg']}" for e in errors)
        params: dict[str, str | int] = {"field": _where(first["loc"]), "reason": str(first["msg"])}
        return problem(422, "request.invalid", INVALID.format(errors=listed), params)

    async def _http_error(self, request: Request, error: HTTPException) -> Response:
        if not _is_staff(request):
            return await http_exception_handler(request, error)
        if error.status_code == 401:
            return self.unauthorised()
        if refused := self._first_the_token(request):
            return refused
        path = request.url.path
        if error.status_code == 400:  # FastAPI could not read the body (bytes that are not text)
            return problem(400, "request.unparsable", UNPARSABLE)
        if error.status_code == 404:
            return problem(404, "request.no_route", NO_ROUTE.format(path=path), {"path": path})
        if error.status_code == 405:
            allowed = ", ".join(_methods_of(self.routes, request))
            message = METHOD.format(path=path, method=request.method, allowed=allowed)
            params: dict[str, str | int] = {"method": request.method, "allowed": allowed}
            return problem(405, "request.method", message, params, headers={"Allow": allowed})
        detail = error.detail if isinstance(error.detail, str) else "refused"
        return problem(error.status_code, "request.refused", detail, headers=error.headers)


def _is_staff(request: Request) -> bool:
    path = request.url.path
    return path == PREFIX or path.startswith(PREFIX + "/")


def _methods_of(routes: Iterable[BaseRoute], request: Request) -> list[str]:
    """Every method some route takes at this path (Starlette's own ``Allow`` names only the first
    route that matched the path, and FastAPI makes one route per method)."""
    methods: set[str] = set()
    for route in routes:
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods.update(getattr(route, "methods", None) or ())
    return sorted(methods)


# -- what the document says of them ----------------------------------------------------------

_WHY = {
    400: "The body is not JSON (`request.unparsable`).",
    401: "No staff token, or a wrong one (`auth.required`).",
    404: "No such thing (`office.unknown`, `info.not_found`, …), or no such path "
    "(`request.no_route`).",
    409: "The thing is not in a state that allows this (`office.exists`, …).",
    422: "The request does not match this document (`request.invalid`; `params.field` says "
    "where), or breaks an office rule (that rule's code, e.g. `office.setting_invalid`).",
}


def refusals(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses`` of an operation's refusals, each a ``Problem``."""
    documented: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        documented[status] = {"model": Problem, "description": _WHY[status]}
        if status == 401:
            documented[status]["headers"] = {
                "WWW-Authenticate": {"schema": {"type": "string"}, "description": "`Bearer`"}
            }
    return documented


# With a JSON body: 400 (not JSON) and 422 (not this schema) come with it.
JSON_BODY = (400, 422)


def document_only_what_is_sent(api: FastAPI) -> None:
    """FastAPI documents its ``HTTPValidationError`` 422 on every operation with a parameter. The
    staff API never sends it (a malformed request is a ``Problem``, documented where one can
    happen): drop it from the staff operations, and its schemas once nothing refers to them."""
    build = api.openapi

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is not None:
            return api.openapi_schema
        document = build()
        for path, item in document["paths"].items():
            if path.startswith(PREFIX + "/"):
                for operation in item.values():
                    responses = operation.get("responses", {})
                    if _VALIDATION_ERROR in json.dumps(responses.get("422", {})):
                        del responses["422"]
        schemas = document.get("components", {}).get("schemas", {})
        if _VALIDATION_ERROR not in json.dumps(document):
            schemas.pop("HTTPValidationError", None)
            schemas.pop("ValidationError", None)
        return document

    api.openapi = openapi  # type: ignore[method-assign]


_VALIDATION_ERROR = "#/components/schemas/HTTPValidationError"


def call_refusing(
    action: Callable[[], T], *, not_found: Collection[str], conflict: Collection[str]
) -> T:
    """Run a staff action; a refusal of the office's rules becomes a ``Problem``: 404 for a code
    in ``not_found``, 409 in ``conflict``, else 422."""
    try:
        return action()
    except DomainError as error:
        status = 404 if error.code in not_found else 409 if error.code in conflict else 422
        message = message_of(error.code, error.params)
        raise Refused(status, error.code, message, error.params) from error
