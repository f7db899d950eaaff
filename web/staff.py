"""The staff HTTP API (``/staff/api/…``, SPEC §10, §12): offices, pools, the vehicle registry,
counter confirmations, the blacklist, guides, contacts and announcements.

Every route needs ``Authorization: Bearer <PLATEBOT_STAFF_TOKEN>`` (401 without it or with a wrong
one, compared in constant time); with no token configured the API is not mounted at all (404).
Refusals of the office's rules come back as ``{"code", "message", "params"}`` with 404 (unknown
thing), 409 (state does not allow it) or 422 (bad value). OpenAPI: ``/docs``, ``/openapi.json``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from core.errors import DomainError
from core.plates import PlateKind
from core.pools import serials_from_csv
from core.preselection import PreselectionState
from platebot.staff_service import StaffService, message_of
from web.staff_models import (
    KINDS,
    AnnouncementIn,
    BlacklistOut,
    Confirm,
    ContactIn,
    GuideIn,
    InfoChange,
    InfoKind,
    Lift,
    NewOffice,
    OfficeOut,
    OfficeSettings,
    PoolLoad,
    PoolLoaded,
    PreselectionOut,
    RegistryImported,
    RowProblem,
)

T = TypeVar("T")

_NOT_FOUND = {"office.unknown", "preselection.not_found", "account.unknown", "info.not_found"}
_CONFLICT = {
    "office.exists",
    "preselection.not_open",
    "preselection.lapsed",
    "blacklist.none",
}
_CSV_BODY = {
    "requestBody": {
        "required": True,
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}


def error_body(error: DomainError) -> dict[str, Any]:
    return {
        "code": error.code,
        "message": message_of(error.code, error.params),
        "params": error.params,
    }


def _call(action: Callable[[], T]) -> T:
    try:
        return action()
    except DomainError as error:
        code = (
            status.HTTP_404_NOT_FOUND
            if error.code in _NOT_FOUND
            else status.HTTP_409_CONFLICT
            if error.code in _CONFLICT
            else status.HTTP_422_UNPROCESSABLE_CONTENT
        )
        raise HTTPException(code, detail=error_body(error)) from error


async def _csv_text(request: Request) -> str:
    """The request's CSV as text: UTF-8 (a byte order mark is allowed); anything else (a
    spreadsheet saved as GBK "CSV", an .xlsx file) is refused with 422 and what to do instead."""
    body = await request.body()
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail={
                "code": "csv.not_utf8",
                "message": _NOT_UTF8.format(offset=error.start),
                "params": {"offset": error.start},
            },
        ) from error


_NOT_UTF8 = (
    "The file is not UTF-8 text (the bytes at offset {offset} are not UTF-8). Send the CSV "
    "encoded as UTF-8: in Excel or WPS choose Save As > 'CSV UTF-8 (Comma delimited)'; an .xlsx "
    "workbook or a GBK-encoded CSV is not accepted. Nothing was imported."
)


# -- routes --------------------------------------------------------------------------------------


_bearer = HTTPBearer(auto_error=False, description="The staff token (PLATEBOT_STAFF_TOKEN).")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def router(staff: StaffService, token: str) -> APIRouter:
    def require_staff(credentials: Credentials) -> None:
        given = credentials.credentials.encode() if credentials is not None else b""
        if not secrets.compare_digest(given, token.encode()):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                detail="a staff bearer token is required",
                headers={"WWW-Authenticate": "Bearer"},
            )

    api = APIRouter(prefix="/staff/api", tags=["staff"], dependencies=[Depends(require_staff)])

    @api.get("/offices", summary="List offices")
    def offices() -> list[OfficeOut]:
        return [OfficeOut(**o) for o in staff.offices()]

    @api.post("/offices", status_code=201, summary="Create an office")
    def create_office(body: NewOffice) -> OfficeOut:
        values = body.model_dump(exclude_none=True)
        return OfficeOut(**_call(lambda: staff.create_office(**values)))

    @api.patch("/offices/{code}", summary="Change an office's settings")
    def change_office(code: str, body: OfficeSettings) -> OfficeOut:
        values = body.model_dump(exclude_none=True)
        return OfficeOut(**_call(lambda: staff.change_office(code, **values)))

    @api.put("/offices/{code}/holidays/{day}", status_code=204, summary="Add an office holiday")
    def add_holiday(code: str, day: date) -> None:
        _call(lambda: staff.set_holidays(code, [day], on=True))

    @api.delete("/offices/{code}/holidays/{day}", status_code=204, summary="Remove a holiday")
    def remove_holiday(code: str, day: date) -> None:
        _call(lambda: staff.set_holidays(code, [day], on=False))

    @api.get("/offices/{code}/pool", summary="Pooled numbers per plate kind")
    def pool(code: str) -> dict[str, int]:
        return _call(lambda: staff.pool_counts(code))

    @api.post(
        "/offices/{code}/pool", summary="Load numbers into the pool (ranges, patterns, serials)"
    )
    def load_pool(code: str, body: PoolLoad) -> PoolLoaded:
        sources = body.model_dump(exclude={"kind"})
        report = _call(lambda: staff.load_pool(code, body.kind, **sources))
        return PoolLoaded(added=report.added, already=report.already, excluded=report.excluded)

    @api.post(
        "/offices/{code}/pool/csv",
        summary="Load numbers into the pool from CSV (first column: the serial)",
        openapi_extra=_CSV_BODY,
    )
    async def load_pool_csv(
        code: str, kind: Annotated[PlateKind, Query()], request: Request
    ) -> PoolLoaded:
        serials = serials_from_csv(await _csv_text(request))
        report = await run_in_threadpool(
            _call, lambda: staff.load_pool(code, kind, serials=serials)
        )
        return PoolLoaded(added=report.added, already=report.already, excluded=report.excluded)

    @api.post(
        "/registry/import",
        summary="Import the vehicle certificate registry from CSV",
        description="Columns: vin, certificate_no, owner_id, plate_kind[, registered, model]. "
        "Bad rows are reported with their line numbers; good rows are kept.",
        openapi_extra=_CSV_BODY,
    )
    async def import_registry(request: Request) -> RegistryImported:
        text = await _csv_text(request)
        report = await run_in_threadpool(staff.import_registry, text)
        problems = [
            RowProblem(line=e["line"], code=e["code"], message=message_of(e["code"], e["params"]))
            for e in report.errors
        ]
        return RegistryImported(added=report.added, updated=report.updated, errors=problems)

    @api.post("/preselections/confirm", summary="Confirm a pre-selection at the counter by VIN")
    def confirm(body: Confirm) -> PreselectionOut:
        return PreselectionOut(**_call(lambda: staff.confirm(body.vin)))

    @api.get("/preselections", summary="List pre-selections (newest first)")
    def preselections(
        state: PreselectionState | None = None,
        office: str | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> list[PreselectionOut]:
        found = _call(lambda: staff.preselections(state=state, office=office, limit=limit))
        return [PreselectionOut(**p) for p in found]

    @api.get("/blacklist", summary="Accounts barred from online pre-selection now")
    def blacklist() -> list[BlacklistOut]:
        return [BlacklistOut(**b) for b in staff.blacklist()]

    @api.post("/blacklist/lift", summary="Lift an account's blacklist early")
    def lift(body: Lift) -> BlacklistOut:
        return BlacklistOut(**_call(lambda: staff.lift(body.phone)))

    _info_routes(api, staff)
    return api


def _info_routes(api: APIRouter, staff: StaffService) -> None:
    @api.get("/guides", summary="List guides")
    def guides() -> list[dict[str, Any]]:
        return staff.items("guide")

    @api.get("/contacts", summary="List contact details")
    def contacts() -> list[dict[str, Any]]:
        return staff.items("contact")

    @api.get("/announcements", summary="List announcements (withdrawn ones too)")
    def announcements() -> list[dict[str, Any]]:
        return staff.items("announcement")

    @api.post("/guides", status_code=201, summary="Add a guide")
    def add_guide(body: GuideIn) -> dict[str, Any]:
        return _call(lambda: staff.add_guide(**body.model_dump()))

    @api.post("/contacts", status_code=201, summary="Add contact details")
    def add_contact(body: ContactIn) -> dict[str, Any]:
        return _call(lambda: staff.add_contact(**body.model_dump()))

    @api.post("/announcements", status_code=201, summary="Publish an announcement")
    def announce(body: AnnouncementIn) -> dict[str, Any]:
        return _call(lambda: staff.announce(**body.model_dump()))

    @api.post("/announcements/{item_id}/withdraw", summary="Withdraw an announcement")
    def withdraw(item_id: int) -> dict[str, Any]:
        return _call(lambda: staff.withdraw(item_id))

    @api.patch("/{kind}/{item_id}", summary="Change a guide, contact or announcement")
    def change(kind: InfoKind, item_id: int, body: InfoChange) -> dict[str, Any]:
        values = body.model_dump(exclude_none=True)
        return _call(lambda: staff.change_item(KINDS[kind], item_id, **values))

    @api.delete(
        "/{kind}/{item_id}", status_code=204, summary="Remove a guide, contact or announcement"
    )
    def remove(kind: InfoKind, item_id: int) -> None:
        _call(lambda: staff.remove_item(KINDS[kind], item_id))


def mount(api: FastAPI, staff: StaffService, token: str | None) -> None:
    """Add the staff API to ``api`` when a staff token is configured."""
    if not token:
        return
    api.include_router(router(staff, token))
