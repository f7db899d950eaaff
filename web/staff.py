"""The staff HTTP API (``/staff/api/…``, SPEC §10, §12): offices, pools, the vehicle registry,
counter confirmations, the blacklist, guides, contacts and announcements.

Every route needs ``Authorization: Bearer <PLATEBOT_STAFF_TOKEN>`` (401 without it or with a wrong
one, compared in constant time); with no token configured the API is not mounted at all (404).
The OpenAPI document (``/docs``, ``/openapi.json``) is the contract: each operation lists every
status it can answer, refusals are a ``Problem`` (``web/staff_errors.py`` says which status means
what), and ``tests/e2e/test_staff_api_contract.py`` holds every operation to it.

A route refuses by raising a ``DomainError`` (or letting one through) or a ``Refused``: the
app's handlers (``web/staff_errors.py``) answer it with the status the document names.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from core.plates import PlateKind
from core.pools import LoadReport, serials_from_csv
from core.preselection import PreselectionState
from platebot.staff_acting import ACTING, program_actor
from platebot.staff_service import StaffService, message_of
from web.routes import add_routes
from web.staff_csv import CSV_BODY, csv_text, read_csv
from web.staff_errors import (
    JSON_BODY,
    Refused,
    StaffErrors,
    document_only_what_is_sent,
    refusals,
)
from web.staff_models import (
    NO_NUL,
    AnnouncementChange,
    AnnouncementIn,
    AnnouncementOut,
    BlacklistOut,
    Confirm,
    ContactChange,
    ContactIn,
    ContactOut,
    Day,
    GuideChange,
    GuideIn,
    GuideOut,
    ItemId,
    Lift,
    NewOffice,
    OfficeCode,
    OfficeOut,
    OfficeSettings,
    PoolLoad,
    PoolLoaded,
    PoolRefusal,
    PreselectionOut,
    RegistryImported,
    RowProblem,
)

# -- routes --------------------------------------------------------------------------------------


_bearer = HTTPBearer(auto_error=False, description="The staff token (PLATEBOT_STAFF_TOKEN).")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


async def _acting_program(request: Request) -> AsyncIterator[None]:
    """The request acts as the program holding the token, from its address (for the audit)."""
    token = ACTING.set(program_actor(request.client.host if request.client else "?"))
    try:
        yield
    finally:
        ACTING.reset(token)


class StaffRouter(Protocol):
    """A router for one area of the staff API: its routes are under ``/staff/api`` + ``prefix``,
    need the token and are tagged ``staff`` and ``tags``."""

    def __call__(self, prefix: str = "", *, tags: Sequence[str] = ()) -> APIRouter: ...


# An area of the staff API (``web.staff_orders`` …): its routes, on the router it is given.
Area = Callable[[StaffRouter], APIRouter]


def _staff_router(api: FastAPI, errors: StaffErrors) -> StaffRouter:
    def require_staff(request: Request, _scheme: Credentials) -> None:
        """The token (``Credentials`` puts the bearer scheme in the document)."""
        if not errors.authorised(request.headers.get("Authorization")):
            raise HTTPException(401, "a staff bearer token is required")

    def new_router(prefix: str = "", *, tags: Sequence[str] = ()) -> APIRouter:
        return APIRouter(
            prefix="/staff/api" + prefix,
            tags=["staff", *tags],
            dependencies=[Depends(require_staff), Depends(_acting_program)],
            responses=refusals(401),
            dependency_overrides_provider=api,
        )

    return new_router


def router(staff: StaffService, new_router: StaffRouter) -> APIRouter:
    api = new_router()

    @api.get("/offices", summary="List offices")
    def offices() -> list[OfficeOut]:
        return [OfficeOut(**o) for o in staff.offices()]

    @api.post(
        "/offices", status_code=201, summary="Create an office", responses=refusals(*JSON_BODY, 409)
    )
    def create_office(body: NewOffice) -> OfficeOut:
        return OfficeOut(**staff.create_office(**body.model_dump(exclude_none=True)))

    @api.patch(
        "/offices/{code}",
        summary="Change an office's settings",
        responses=refusals(*JSON_BODY, 404),
    )
    def change_office(code: OfficeCode, body: OfficeSettings) -> OfficeOut:
        return OfficeOut(**staff.change_office(code, **body.model_dump(exclude_none=True)))

    @api.put(
        "/offices/{code}/holidays/{day}",
        status_code=204,
        summary="Add an office holiday",
        responses=refusals(404, 422),
    )
    def add_holiday(code: OfficeCode, day: Day) -> None:
        staff.set_holidays(code, [day], on=True)

    @api.delete(
        "/offices/{code}/holidays/{day}",
        status_code=204,
        summary="Remove a holiday",
        responses=refusals(404, 422),
    )
    def remove_holiday(code: OfficeCode, day: Day) -> None:
        staff.set_holidays(code, [day], on=False)

    @api.get(
        "/offices/{code}/pool",
        summary="Pooled numbers per plate kind",
        responses=refusals(404, 422),
    )
    def pool(code: OfficeCode) -> dict[str, int]:
        return staff.pool_counts(code)

    @api.post(
        "/offices/{code}/pool",
        summary="Load numbers into the pool (ranges, patterns, serials)",
        responses=refusals(*JSON_BODY, 404),
    )
    def load_pool(code: OfficeCode, body: PoolLoad) -> PoolLoaded:
        report = staff.load_pool(code, body.kind, **body.model_dump(exclude={"kind"}))
        return _pool_loaded(report)

    @api.post(
        "/offices/{code}/pool/csv",
        summary="Load numbers into the pool from CSV (first column: the serial)",
        openapi_extra=CSV_BODY,
        responses=refusals(404, 422),
    )
    async def load_pool_csv(
        code: OfficeCode, kind: Annotated[PlateKind, Query()], request: Request
    ) -> PoolLoaded:
        text = await csv_text(request)
        serials = read_csv(lambda: serials_from_csv(text))
        report = await run_in_threadpool(lambda: staff.load_pool(code, kind, serials=serials))
        return _pool_loaded(report)

    @api.post(
        "/registry/import",
        summary="Import the vehicle certificate registry from CSV",
        description="Columns: vin, certificate_no, owner_id, plate_kind[, registered, model]. "
        "Bad rows are reported with their line numbers; good rows are kept. A file without "
        "those columns is refused whole (422 `registry.columns`).",
        openapi_extra=CSV_BODY,
        responses=refusals(422),
    )
    async def import_registry(request: Request) -> RegistryImported:
        text = await csv_text(request)
        report = await run_in_threadpool(read_csv, lambda: staff.import_registry(text))
        if [e["code"] for e in report.errors] == ["registry.columns"]:  # not a registry file
            error = report.errors[0]
            raise Refused(
                422, error["code"], message_of(error["code"], error["params"]), error["params"]
            )
        problems = [
            RowProblem(line=e["line"], code=e["code"], message=message_of(e["code"], e["params"]))
            for e in report.errors
        ]
        return RegistryImported(added=report.added, updated=report.updated, errors=problems)

    @api.post(
        "/preselections/confirm",
        summary="Confirm a pre-selection at the counter by VIN",
        responses=refusals(*JSON_BODY, 404, 409),
    )
    def confirm(body: Confirm) -> PreselectionOut:
        return PreselectionOut(**staff.confirm(body.vin))

    @api.get(
        "/preselections",
        summary="List pre-selections (newest first)",
        responses=refusals(404, 422),
    )
    def preselections(
        state: PreselectionState | None = None,
        office: Annotated[str | None, Query(pattern=NO_NUL, examples=["粤D"])] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> list[PreselectionOut]:
        found = staff.preselections(state=state, office=office, limit=limit)
        return [PreselectionOut(**p) for p in found]

    @api.get("/blacklist", summary="Accounts barred from online pre-selection now")
    def blacklist() -> list[BlacklistOut]:
        return [BlacklistOut(**b) for b in staff.blacklist()]

    @api.post(
        "/blacklist/lift",
        summary="Lift an account's blacklist early",
        responses=refusals(*JSON_BODY, 404, 409),
    )
    def lift(body: Lift) -> BlacklistOut:
        return BlacklistOut(**staff.lift(body.phone))

    _info_routes(api, staff)
    return api


def _info_routes(api: APIRouter, staff: StaffService) -> None:
    @api.get("/guides", summary="List guides")
    def guides() -> list[GuideOut]:
        return [GuideOut(**g) for g in staff.items("guide")]

    @api.get("/contacts", summary="List contact details")
    def contacts() -> list[ContactOut]:
        return [ContactOut(**c) for c in staff.items("contact")]

    @api.get("/announcements", summary="List announcements (withdrawn ones too)")
    def announcements() -> list[AnnouncementOut]:
        return [AnnouncementOut(**a) for a in staff.items("announcement")]

    @api.post("/guides", status_code=201, summary="Add a guide", responses=refusals(*JSON_BODY))
    def add_guide(body: GuideIn) -> GuideOut:
        return GuideOut(**staff.add_guide(**body.model_dump()))

    @api.post(
        "/contacts",
        status_code=201,
        summary="Add contact details",
        responses=refusals(*JSON_BODY, 404),
    )
    def add_contact(body: ContactIn) -> ContactOut:
        return ContactOut(**staff.add_contact(**body.model_dump()))

    @api.post(
        "/announcements",
        status_code=201,
        summary="Publish an announcement",
        responses=refusals(*JSON_BODY),
    )
    def announce(body: AnnouncementIn) -> AnnouncementOut:
        target = body.broadcast.target() if body.broadcast is not None else None
        return AnnouncementOut(
            **staff.announce(broadcast=target, **body.model_dump(exclude={"broadcast"}))
        )

    @api.post(
        "/announcements/{item_id}/withdraw",
        summary="Withdraw an announcement",
        responses=refusals(404, 422),
    )
    def withdraw(item_id: ItemId) -> AnnouncementOut:
        return AnnouncementOut(**staff.withdraw(item_id))

    @api.patch("/guides/{item_id}", summary="Change a guide", responses=refusals(*JSON_BODY, 404))
    def change_guide(item_id: ItemId, body: GuideChange) -> GuideOut:
        return GuideOut(**staff.change_item("guide", item_id, **_given(body)))

    @api.patch(
        "/contacts/{item_id}", summary="Change contact details", responses=refusals(*JSON_BODY, 404)
    )
    def change_contact(item_id: ItemId, body: ContactChange) -> ContactOut:
        return ContactOut(**staff.change_item("contact", item_id, **_given(body)))

    @api.patch(
        "/announcements/{item_id}",
        summary="Change an announcement",
        responses=refusals(*JSON_BODY, 404),
    )
    def change_announcement(item_id: ItemId, body: AnnouncementChange) -> AnnouncementOut:
        return AnnouncementOut(**staff.change_item("announcement", item_id, **_given(body)))

    for kind in ("guide", "contact", "announcement"):
        _removal(api, staff, f"{kind}s", kind)


def _pool_loaded(report: LoadReport) -> PoolLoaded:
    refused = [
        PoolRefusal(serial=r.serial, code=r.code, message=message_of(r.code, r.params))
        for r in report.refused
    ]
    return PoolLoaded(
        added=report.added, already=report.already, excluded=report.excluded, refused=refused
    )


def _given(body: BaseModel) -> dict[str, Any]:
    """The fields a change names (``null`` or left out: unchanged)."""
    return body.model_dump(exclude_none=True)


def _removal(api: APIRouter, staff: StaffService, path: str, kind: str) -> None:
    """``DELETE /{path}/{item_id}``: remove a guide, contact or announcement."""

    def remove(item_id: ItemId) -> None:
        staff.remove_item(kind, item_id)

    api.add_api_route(
        f"/{path}/{{item_id}}",
        remove,
        methods=["DELETE"],
        status_code=204,
        summary=f"Remove a {kind}",
        name=f"remove_{kind}",
        responses=refusals(404, 422),
    )


def mount(api: FastAPI, staff: StaffService, token: str | None, more: Sequence[Area] = ()) -> None:
    """Add the staff API to ``api`` when a staff token is configured; ``more``: other areas under
    ``/staff/api`` (``web.staff_orders``), held to the same token and refusals."""
    if not token:
        return
    errors = StaffErrors(token)
    errors.install(api)
    new_router = _staff_router(api, errors)
    areas: list[Area] = [functools.partial(router, staff), *more]
    for area in areas:
        area_router = area(new_router)
        errors.routes.extend(area_router.routes)
        add_routes(api, area_router)
    document_only_what_is_sent(api)
