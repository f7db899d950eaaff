"""The pages of the staff web console (``/staff/…``), server-rendered (``web/templates/staff``).

Each page is a GET route that renders its template and, for what it changes, POST routes that
call the staff services (acting for the signed-in member, so refused by their role and recorded
in the audit) and render the page again with what happened. Adding a page for another use case is
a route here (or in a module of its own, given the ``Console``), a template, a ``NavItem`` and
its title in the ``staffweb`` catalog. A live part of a page is a JSON feed
(``console.live[name]``) that ``static/staff.js`` polls (``data-live="name"``).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, File, Form, Query, Request, UploadFile, params
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException

from core.clock import format_local
from core.errors import DomainError
from core.plates import PlateKind
from core.preselection import PreselectionState
from core.staff import NotAllowed, Permission, Role, SignInThrottled
from web.routes import add_routes
from web.staff_console import (
    STATIC,
    Console,
    NavItem,
    Page,
    PageRefused,
    SignInNeeded,
)

NAV = [
    NavItem("/staff/", "nav.home", Permission.COUNTER),
    NavItem("/staff/counter", "nav.counter", Permission.COUNTER),
    NavItem("/staff/preselections", "nav.preselections", Permission.COUNTER),
    NavItem("/staff/orders", "nav.orders", Permission.COUNTER),
    NavItem("/staff/offices", "nav.offices", Permission.OFFICE),
    NavItem("/staff/pool", "nav.pool", Permission.OFFICE),
    NavItem("/staff/registry", "nav.registry", Permission.OFFICE),
    NavItem("/staff/blacklist", "nav.blacklist", Permission.OFFICE),
    NavItem("/staff/info", "nav.info", Permission.OFFICE),
    NavItem("/staff/audit", "nav.audit", Permission.OFFICE),
    NavItem("/staff/users", "nav.users", Permission.ADMIN),
]

Text = Annotated[str, Form(max_length=4000)]
OptionalText = Annotated[str, Form(max_length=4000)]
MAX_UPLOAD = 20 * 1024 * 1024


def outcome(page: Page, action: Callable[[], str]) -> tuple[int, str | None, str | None]:
    """Run ``action``; (status, notice, error): a refusal of the office's rules in words."""
    try:
        return 200, action(), None
    except DomainError as error:
        status = 403 if isinstance(error, NotAllowed) else 422
        return status, None, page.error_text(error)


def csv_upload(page: Page, upload: UploadFile) -> str:
    data = upload.file.read(MAX_UPLOAD + 1)
    if not data:
        raise Upload(page.t("upload.empty"))
    if len(data) > MAX_UPLOAD:
        raise Upload(page.t("upload.too_big"))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise Upload(page.t("upload.not_utf8", offset=error.start)) from error
    if "\x00" in text:
        raise Upload(page.t("upload.not_text"))
    return text


def _answer(page: Page, action: Callable[[], str], view: Callable[..., Response]) -> Response:
    """The page ``view`` again, saying what ``action`` did or why it was refused."""
    status, notice, error = outcome(page, action)
    return view(page, status, notice=notice, error=error)


class Upload(Exception):
    """A file that is not a UTF-8 CSV: said on the page, nothing imported."""


def rows(page: Page, errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """An import's bad rows: line number and why, in words."""
    return [{"line": e["line"], "message": page.refusal(e["code"], e["params"])} for e in errors]


def _console(request: Request) -> Console:
    console: Console = request.app.state.staff_console
    return console


def _signed_in(request: Request) -> Page:
    return _console(request).page(request)


def _anyone(request: Request) -> Page:
    return _console(request).page(request, signed_in=False)


Member = Annotated[Page, Depends(_signed_in)]  # a signed-in member's page (else: sign in)
Visitor = Annotated[Page, Depends(_anyone)]  # the sign-in page's


def _member_name(page: Page) -> str:
    if page.member is None:
        raise SignInNeeded
    return page.member.name


Routes = Callable[[APIRouter, Console], None]


def router(
    api: FastAPI,
    console: Console,
    more: Sequence[Routes] = (),
    dependencies: Sequence[params.Depends] = (),
) -> APIRouter:
    """The pages, for ``api``; ``more``: other modules' routes (``web.staff_business_pages``);
    each page depends first on ``dependencies``."""
    pages = APIRouter(
        prefix="/staff",
        include_in_schema=False,
        dependencies=dependencies,
        dependency_overrides_provider=api,
    )

    # -- signing in and out, language ---------------------------------------------------------

    @pages.get("/login")
    def login_form(page: Visitor, next: str = "/staff/") -> Response:
        if page.member is not None:
            return console.redirect(page, "/staff/")
        return page.render("login.html", next=next if _LOCAL.fullmatch(next) else "/staff/")

    @pages.post("/login")
    def login(page: Visitor, name: Text, password: Text, next: Text = "/staff/") -> Response:
        """Signing in gives a new session: a new CSRF token, the member's session key."""
        try:
            member = console.accounts.sign_in(
                name=name.strip(), password=password, address=page.address
            )
        except SignInThrottled as error:
            said = {"error": page.error_text(error), "name": name, "next": next}
            return page.render("login.html", 429, **said)
        except DomainError as error:
            said = {"error": page.error_text(error), "name": name, "next": next}
            return page.render("login.html", 401, **said)
        page.session.member_id = member.id
        page.session.session_key = member.session_key
        page.session.csrf = _fresh_csrf()  # a new session, a new token
        return console.redirect(page, next if _LOCAL.fullmatch(next) else "/staff/")

    @pages.post("/logout")
    def logout(page: Member) -> Response:
        member = page.member
        if member is not None:
            console.accounts.sign_out(member.id, address=page.address)
        page.session.member_id = None
        page.session.session_key = ""
        page.session.csrf = _fresh_csrf()
        return console.redirect(page, "/staff/login")

    @pages.get("/lang/{lang}")
    def language(page: Visitor, lang: str, back: str = "/staff/") -> Response:
        if lang in {"zh", "en"}:
            page.session.lang = lang
        safe = back if _LOCAL.fullmatch(back) else "/staff/"
        return console.redirect(page, safe)

    @pages.get("/static/{name}")
    def static(name: str) -> Response:
        path = STATIC / name
        if not re.fullmatch(r"[\w\-]+\.(css|js)", name) or not path.is_file():
            raise HTTPException(404)
        return FileResponse(path, headers={"Cache-Control": "max-age=3600"})

    _counter_routes(pages, console)
    _office_routes(pages)
    _pool_routes(pages)
    _info_routes(pages)
    _admin_routes(pages)
    for routes in more:
        routes(pages, console)
    return pages


def _fed(
    page: Page, feed: Callable[[Page, dict[str, str]], Any], params: dict[str, str]
) -> Response:
    """A live part's figures; a refusal of the rules as the pages answer it (403 when the
    member may not, else 404: an unknown lot, another office's broadcast), in their words."""
    try:
        return JSONResponse(feed(page, params))
    except NotAllowed as error:
        raise HTTPException(403, page.error_text(error)) from error
    except DomainError as error:
        raise HTTPException(404, page.error_text(error)) from error


def _counter_routes(pages: APIRouter, console: Console) -> None:
    """Home with its live part, the counter, pre-selections and orders."""

    @pages.get("/live/{name}")
    def live(page: Member, name: str, request: Request) -> Response:
        found = console.live.get(name)
        if found is None:
            raise HTTPException(404)
        permission, feed = found
        page.require(permission)
        return _fed(page, feed, dict(request.query_params))

    def waiting(page: Page, _params: dict[str, str]) -> dict[str, Any]:
        found = page.staff.preselections(state=PreselectionState.SELECTED, limit=1000)
        return {"waiting": len(found), "at": format_local(console.staff.clock.now())}

    console.live["counter"] = (Permission.COUNTER, waiting)

    @pages.get("/")
    def home(page: Member) -> Response:
        return page.render("home.html", tiles=page.nav()[1:], live=waiting(page, {}))

    # -- the counter and pre-selections ------------------------------------------------------

    def counter_page(page: Page, status: int = 200, **said: Any) -> HTMLResponse:
        page.require(Permission.COUNTER)
        waiting_now = page.staff.preselections(state=PreselectionState.SELECTED)
        return page.render("counter.html", status, waiting=waiting_now, **said)

    @pages.get("/counter")
    def counter(page: Member) -> Response:
        return counter_page(page)

    @pages.post("/counter/confirm")
    def confirm(page: Member, vin: Text) -> Response:
        def run() -> str:
            done = page.staff.confirm(vin.strip().upper())
            return page.t("counter.confirmed", plate=done["plate"] or "", vin=done["vin"])

        status, notice, error = outcome(page, run)
        return counter_page(page, status, notice=notice, error=error, vin=vin)

    @pages.get("/preselections")
    def preselections(page: Member, state: str = "", office: str = "") -> Response:
        page.require(Permission.COUNTER)
        chosen = PreselectionState(state) if state in set(PreselectionState) else None
        status, error = 200, None
        found: list[dict[str, Any]] = []
        try:
            found = page.staff.preselections(state=chosen, office=office.strip() or None)
        except DomainError as refused:
            status, error = 422, page.error_text(refused)
        return page.render(
            "preselections.html",
            status,
            found=found,
            states=list(PreselectionState),
            state=state,
            office=office,
            error=error,
        )

    # -- orders ------------------------------------------------------------------------------

    def orders_page(page: Page, order_id: int | None, status: int = 200, **said: Any) -> Response:
        page.require(Permission.COUNTER)
        order = None
        if order_id is not None:
            try:
                order = page.orders.order(order_id)
            except DomainError as error:
                status, said["error"] = 404, said.get("error") or page.error_text(error)
        return page.render("orders.html", status, order=order, order_id=order_id, **said)

    @pages.get("/orders")
    def orders(
        page: Member, id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None
    ) -> Response:
        return orders_page(page, id)

    @pages.post("/orders/{order_id}/pay")
    def pay(page: Member, order_id: int, receipt: Text) -> Response:
        def run() -> str:
            staff = _member_name(page)
            page.orders.pay_at_counter(order_id, receipt=receipt.strip(), staff=staff)
            return page.t("orders.paid", order=order_id)

        status, notice, error = outcome(page, run)
        return orders_page(page, order_id, status, notice=notice, error=error)

    @pages.post("/orders/{order_id}/refund")
    def refund(
        page: Member, order_id: int, amount: OptionalText = "", receipt: OptionalText = ""
    ) -> Response:
        def run() -> str:
            refund_fen = fen(page, amount)
            page.orders.refund(
                order_id,
                staff=_member_name(page),
                amount=refund_fen,
                receipt=receipt.strip() or None,
            )
            return page.t("orders.refunded", order=order_id)

        status, notice, error = outcome(page, run)
        return orders_page(page, order_id, status, notice=notice, error=error)


def _fresh_csrf() -> str:
    return secrets.token_urlsafe(24)


class AmountInvalid(DomainError):
    code = "staffweb.amount"


def fen(page: Page, amount: str) -> int | None:
    """Yuan as typed (``50``, ``12.5``) in fen; empty: None (all)."""
    text = amount.strip().replace(",", "").lstrip("¥")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation as error:
        raise AmountInvalid(typed=amount[:20]) from error
    fen = value * 100
    if fen != fen.to_integral_value() or fen <= 0:
        raise AmountInvalid(typed=amount[:20])
    return int(fen)


def _office_routes(pages: APIRouter) -> None:
    def offices_page(page: Page, status: int = 200, **said: Any) -> Response:
        page.require(Permission.OFFICE)
        listed = page.staff.offices()
        editable = [o for o in listed if page.may(Permission.OFFICE, o["code"])]
        return page.render("offices.html", status, offices=listed, editable=editable, **said)

    @pages.get("/offices")
    def offices(page: Member) -> Response:
        return offices_page(page)

    @pages.post("/offices")
    def add_office(
        page: Member, code: Text, name: Text, region_code: Text, name_en: OptionalText = ""
    ) -> Response:
        def run() -> str:
            values = {"name_en": name_en.strip()} if name_en.strip() else {}
            made = page.staff.create_office(
                code=code.strip(), name=name.strip(), region_code=region_code.strip(), **values
            )
            return page.t("offices.created", office=made["code"])

        return _answer(page, run, offices_page)

    @pages.post("/offices/{code}")
    def change_office(
        page: Member,
        code: str,
        *,
        hours: OptionalText = "",
        notice: OptionalText = "",
        notice_en: OptionalText = "",
        self_choice_allowance: OptionalText = "",
        batch_allowance: OptionalText = "",
        validity_working_days: OptionalText = "",
    ) -> Response:
        def run() -> str:
            changes: dict[str, Any] = {
                "hours": hours.strip() or None,
                "notice": notice.strip() or None,
                "notice_en": notice_en.strip() or None,
            }
            for name, typed in (
                ("self_choice_allowance", self_choice_allowance),
                ("batch_allowance", batch_allowance),
                ("validity_working_days", validity_working_days),
            ):
                if typed.strip():
                    if not typed.strip().isdigit():
                        raise setting(name, typed)
                    changes[name] = int(typed.strip())
            page.staff.change_office(code, **changes)
            return page.t("offices.changed", office=code)

        status, said_notice, error = outcome(page, run)
        return offices_page(page, status, notice=said_notice, error=error)

    @pages.post("/offices/{code}/holidays")
    def holiday(page: Member, code: str, day: Text, remove: OptionalText = "") -> Response:
        def run() -> str:
            try:
                when = date.fromisoformat(day.strip())
            except ValueError as error:
                raise setting("holiday", day) from error
            page.staff.set_holidays(code, [when], on=not remove)
            key = "offices.holiday_removed" if remove else "offices.holiday_added"
            return page.t(key, office=code, day=when.isoformat())

        return _answer(page, run, offices_page)


def _pool_routes(pages: APIRouter) -> None:
    """The number pool, the vehicle registry (CSV uploads with line-numbered reports) and the
    blacklist."""

    def pool_page(page: Page, status: int = 200, **said: Any) -> Response:
        page.require(Permission.OFFICE)
        shown = [o for o in page.staff.offices() if page.may(Permission.OFFICE, o["code"])]
        counts = {o["code"]: page.staff.pool_counts(o["code"]) for o in shown}
        return page.render(
            "pool.html", status, offices=shown, counts=counts, kinds=list(PlateKind), **said
        )

    @pages.get("/pool")
    def pool(page: Member) -> Response:
        return pool_page(page)

    @pages.post("/pool")
    def load_pool(
        page: Member,
        office: Text,
        kind: Text,
        ranges: OptionalText = "",
        file: Annotated[UploadFile | None, File()] = None,
    ) -> Response:
        report: dict[str, Any] | None = None

        def run() -> str:
            nonlocal report
            try:
                plate_kind = PlateKind(kind)
            except ValueError as error:
                raise setting("kind", kind) from error
            if file is not None and file.filename:
                loaded = page.staff.load_pool_csv(office, plate_kind, csv_upload(page, file))
                report = {
                    "added": loaded.added,
                    "already": loaded.already,
                    "errors": rows(page, loaded.errors),
                }
            else:
                found = [r for r in re.split(r"[\s,]+", ranges.strip()) if r]
                done = page.staff.load_pool(office, plate_kind, ranges=found)
                refused = [
                    {"serial": r.serial, "message": page.refusal(r.code, r.params)}
                    for r in done.refused
                ]
                report = {"added": done.added, "already": done.already, "errors": refused}
            return page.t("pool.loaded", added=report["added"], already=report["already"])

        try:
            status, notice, error = outcome(page, run)
        except Upload as refused:
            status, notice, error = 422, None, str(refused)
        return pool_page(page, status, notice=notice, error=error, report=report)

    @pages.get("/registry")
    def registry(page: Member) -> Response:
        page.require(Permission.OFFICE)
        return page.render("registry.html")

    @pages.post("/registry")
    def import_registry(page: Member, file: Annotated[UploadFile, File()]) -> Response:
        page.require(Permission.OFFICE)
        try:
            text = csv_upload(page, file)
        except Upload as refused:
            return page.render("registry.html", 422, error=str(refused))
        status, error = 200, None
        report = None
        try:
            done = page.staff.import_registry(text)
            report = {
                "added": done.added,
                "updated": done.updated,
                "errors": rows(page, done.errors),
            }
        except DomainError as refused:
            status, error = 422, page.error_text(refused)
        return page.render("registry.html", status, report=report, error=error)

    def blacklist_page(page: Page, status: int = 200, **said: Any) -> Response:
        page.require(Permission.OFFICE)
        return page.render("blacklist.html", status, entries=page.staff.blacklist(), **said)

    @pages.get("/blacklist")
    def blacklist(page: Member) -> Response:
        return blacklist_page(page)

    @pages.post("/blacklist/lift")
    def lift(page: Member, phone: Text) -> Response:
        def run() -> str:
            done = page.staff.lift(phone.strip())
            return page.t("blacklist.lifted", phone=done["phone"] or "")

        return _answer(page, run, blacklist_page)


def setting(name: str, typed: str) -> DomainError:
    from core.plate_errors import InvalidOfficeSetting  # noqa: PLC0415

    return InvalidOfficeSetting(setting=name, value=typed.strip()[:20])


_INFO_KINDS = ("guide", "contact", "announcement")


def _info_routes(pages: APIRouter) -> None:
    def info_page(page: Page, status: int = 200, **said: Any) -> Response:
        page.require(Permission.OFFICE)
        items = {kind: page.staff.items(kind) for kind in _INFO_KINDS}
        return page.render("info.html", status, items=items, **said)

    @pages.get("/info")
    def info(page: Member) -> Response:
        return info_page(page)

    @pages.post("/info/{kind}")
    def add_item(
        page: Member,
        kind: str,
        *,
        title: OptionalText = "",
        body: OptionalText = "",
        title_en: OptionalText = "",
        body_en: OptionalText = "",
        name: OptionalText = "",
        phone: OptionalText = "",
        address: OptionalText = "",
        hours: OptionalText = "",
        office: OptionalText = "",
    ) -> Response:
        def run() -> str:
            if kind == "guide":
                page.staff.add_guide(title=title, body=body, title_en=title_en, body_en=body_en)
            elif kind == "announcement":
                page.staff.announce(title=title, body=body, title_en=title_en, body_en=body_en)
            elif kind == "contact":
                page.staff.add_contact(
                    name=name,
                    phone=phone,
                    address=address,
                    hours=hours,
                    office_code=office.strip() or None,
                )
            else:
                raise HTTPException(404)
            return page.t("info.added")

        return _answer(page, run, info_page)

    @pages.post("/info/{kind}/{item_id}/remove")
    def remove_item(page: Member, kind: str, item_id: int) -> Response:
        if kind not in _INFO_KINDS:
            raise HTTPException(404)

        def run() -> str:
            page.staff.remove_item(kind, item_id)
            return page.t("info.removed")

        return _answer(page, run, info_page)

    @pages.post("/info/announcement/{item_id}/withdraw")
    def withdraw(page: Member, item_id: int) -> Response:
        def run() -> str:
            page.staff.withdraw(item_id)
            return page.t("info.withdrawn")

        return _answer(page, run, info_page)


def _admin_routes(pages: APIRouter) -> None:
    @pages.get("/audit")
    def audit(
        page: Member, before: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None
    ) -> Response:
        page.require(Permission.OFFICE)
        entries = page.accounts.audit(limit=100, before=before)
        more = entries[-1]["id"] if len(entries) == 100 else None
        return page.render("audit.html", entries=entries, more=more)

    def users_page(page: Page, status: int = 200, **said: Any) -> Response:
        page.require(Permission.ADMIN)
        return page.render(
            "users.html",
            status,
            members=page.accounts.members(),
            roles=list(Role),
            offices=page.staff.offices(),
            **said,
        )

    @pages.get("/users")
    def users(page: Member) -> Response:
        return users_page(page)

    @pages.post("/users")
    def add_user(
        page: Member, name: Text, password: Text, role: Text, office: OptionalText = ""
    ) -> Response:
        def run() -> str:
            made = page.accounts.add(
                name=name.strip(), password=password, role=_role(role), office_code=office.strip()
            )
            return page.t("users.added", name=made["name"])

        return _answer(page, run, users_page)

    @pages.post("/users/{name}")
    def change_user(
        page: Member,
        name: str,
        *,
        role: OptionalText = "",
        office: OptionalText = "",
        password: OptionalText = "",
        active: OptionalText = "",
    ) -> Response:
        def run() -> str:
            page.accounts.change(
                name,
                role=_role(role) if role else None,
                office_code=office.strip() if role else None,
                password=password or None,
                active={"yes": True, "no": False}.get(active),
            )
            return page.t("users.changed", name=name)

        return _answer(page, run, users_page)


class RoleUnknown(DomainError):
    code = "staffweb.role"


def _role(typed: str) -> Role:
    try:
        return Role(typed)
    except ValueError as error:
        raise RoleUnknown(role=typed[:20]) from error


def mount(
    api: FastAPI,
    console: Console,
    more: Sequence[tuple[Sequence[NavItem], Routes]] = (),
) -> None:
    """The console's pages under ``/staff/`` (not in the OpenAPI document); ``more``: other
    modules' menu items (before the audit and the staff accounts) and routes."""
    added = [item for items, _routes in more for item in items]
    console.add_nav([*NAV[:-2], *added, *NAV[-2:]])
    api.state.staff_console = console

    async def csrf_first(request: Request) -> None:
        if request.method == "POST":
            await console.check_csrf(request)

    pages = router(api, console, [routes for _items, routes in more], [Depends(csrf_first)])
    add_routes(api, pages)

    async def sign_in_needed(request: Request, _error: SignInNeeded) -> Response:
        return _to_login(console, request)

    async def refused(request: Request, error: PageRefused) -> Response:
        page = console.page(request, signed_in=False)
        message = page.t(error.key, **error.params)
        return page.render("refused.html", error.status, message=message)

    api.add_exception_handler(SignInNeeded, sign_in_needed)  # type: ignore[arg-type]
    api.add_exception_handler(PageRefused, refused)  # type: ignore[arg-type]


def _to_login(console: Console, request: Request) -> Response:
    """To the sign-in page, which comes back to the page asked for (a GET's)."""
    page = console.page(request, signed_in=False)
    path = request.url.path
    if request.method == "GET" and _LOCAL.fullmatch(path) and path != "/staff/":
        return console.redirect(page, f"/staff/login?next={path}")
    return console.redirect(page, "/staff/login")


_LOCAL = re.compile(r"/staff/[\w/\-]*")  # a page of the console: where a link may send back
