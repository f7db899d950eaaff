"""The staff web console's machinery (``/staff/…``, SPEC §10): the signed session cookie, the
CSRF token of every form, the signed-in member and what their role may open, the page language
(zh, en) and rendering (Jinja2, ``web/templates/staff``). The pages themselves are in
``web/staff_pages.py``; every page goes through the staff services, as the CLI and the API do.

The session is a cookie signed with a key derived from the server's secret (itsdangerous): the
member's id, their session key (changed when they sign out, so an older copy of the cookie stops
working), the CSRF token and the language. Every POST carries the CSRF token in a hidden field,
checked before the route runs; a form without it, or with another session's, is refused (403).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from jinja2 import Environment, PackageLoader, select_autoescape

from core.accounts import Language
from core.errors import DomainError
from core.staff import Actor, Permission, Role
from dialogs.catalog import CATALOGS, render_text
from dialogs.replies import Text
from platebot.staff_accounts import SignedIn, StaffAccounts
from platebot.staff_auctions import StaffAuctions
from platebot.staff_broadcasts import StaffBroadcasts
from platebot.staff_orders import StaffOrders
from platebot.staff_reservations import StaffReservations
from platebot.staff_sale import StaffSale
from platebot.staff_service import StaffService

COOKIE = "platebot_staff"
# The pages load only their own CSS and script, post only to themselves and are never framed
# (no clickjacking of a staff form).
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
SESSION_HOURS = 12
STATIC = Path(__file__).parent / "static"

_TEMPLATES = Environment(
    loader=PackageLoader("web", "templates/staff"),
    autoescape=select_autoescape(default=True),
    auto_reload=False,
)


def derive_cookie_key(key: bytes) -> bytes:
    """The session cookie's signing key, made from the server's secret key."""
    return hmac.new(key, b"platebot staff console sessions", hashlib.sha256).digest()


@dataclass(frozen=True)
class NavItem:
    """A page in the console's menu: its path, its title's catalog key, who may open it."""

    path: str
    key: str
    permission: Permission


@dataclass
class Session:
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    member_id: int | None = None
    session_key: str = ""
    lang: str = Language.ZH.value

    def dump(self) -> dict[str, Any]:
        return {"c": self.csrf, "m": self.member_id, "k": self.session_key, "l": self.lang}

    @classmethod
    def load(cls, data: Any) -> Session:
        if not isinstance(data, dict) or not isinstance(data.get("c"), str):
            return cls()
        member = data.get("m")
        lang = data.get("l") if data.get("l") in {x.value for x in Language} else Language.ZH
        return cls(
            csrf=data["c"],
            member_id=member if isinstance(member, int) else None,
            session_key=str(data.get("k") or ""),
            lang=str(lang),
        )


class SignInNeeded(Exception):
    """Answered with a redirect to the sign-in page."""


class PageRefused(Exception):
    """Answered with the refusal page: ``status`` and a catalog key."""

    def __init__(self, status: int, key: str, **params: str | int) -> None:
        super().__init__(key)
        self.status, self.key, self.params = status, key, params


@dataclass
class Page:
    """One request of a page: the session, the member (None on the sign-in page), the language,
    and the services acting for the member."""

    request: Request
    session: Session
    console: Console
    member: SignedIn | None = None

    @property
    def language(self) -> Language:
        return Language(self.session.lang)

    def t(self, key: str, **params: Any) -> str:
        return render_text(Text(f"staffweb.{key}", params), self.language)

    def error_text(self, error: DomainError) -> str:
        return self.refusal(error.code, error.params)

    def refusal(self, code: str, params: dict[str, str | int]) -> str:
        """A refusal of the office's rules (``error.<code>``) in the page's language."""
        key = f"error.{code}"
        if key not in CATALOGS[self.language]:
            return f"{code} {params}"
        return render_text(Text(key, params), self.language)

    @property
    def address(self) -> str:
        return self.request.client.host if self.request.client else "?"

    @property
    def actor(self) -> Actor:
        member = self.member
        if member is None:
            raise SignInNeeded
        return Actor(member.name, "web", self.address, member.role, member.office_code)

    def may(self, permission: Permission, office_code: str | None = None) -> bool:
        return self.member is not None and self.actor.may(permission, office_code)

    def require(self, permission: Permission) -> None:
        if not self.may(permission):
            role = self.member.role.value if self.member else ""
            raise PageRefused(403, "refused.role", role=self.t(f"role.{role}"))

    @property
    def staff(self) -> StaffService:
        return self.console.staff.acting(self.actor)

    @property
    def orders(self) -> StaffOrders:
        return self.console.orders.acting(self.actor)

    @property
    def accounts(self) -> StaffAccounts:
        return self.console.accounts.acting(self.actor)

    @property
    def sale(self) -> StaffSale:
        return self.console.business.sale.acting(self.actor)

    @property
    def auctions(self) -> StaffAuctions:
        return self.console.business.auctions.acting(self.actor)

    @property
    def reservations(self) -> StaffReservations:
        return self.console.business.reservations.acting(self.actor)

    @property
    def broadcasts(self) -> StaffBroadcasts:
        return self.console.business.broadcasts.acting(self.actor)

    @property
    def is_admin(self) -> bool:
        return self.member is not None and self.member.role is Role.ADMIN

    def nav(self) -> list[tuple[str, str, bool]]:
        path = self.request.url.path
        return [
            (item.path, self.t(item.key), path == item.path)
            for item in self.console.nav
            if self.may(item.permission)
        ]

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = _TEMPLATES.get_template(template).render(page=self, t=self.t, **context)
        response = HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)
        self.console.write_session(response, self.session)
        return response


@dataclass(frozen=True)
class Business:
    """The staff services of the sale, auctions, reservations and broadcasts."""

    sale: StaffSale
    auctions: StaffAuctions
    reservations: StaffReservations
    broadcasts: StaffBroadcasts


class Console:
    """What the pages are handed by the composition root, and the session machinery."""

    def __init__(
        self,
        *,
        staff: StaffService,
        orders: StaffOrders,
        accounts: StaffAccounts,
        business: Business,
        cookie_key: bytes,
        secure_cookie: bool = False,
    ) -> None:
        self.staff = staff
        self.orders = orders
        self.accounts = accounts
        self.business = business
        self.secure_cookie = secure_cookie
        self._signer = URLSafeTimedSerializer(cookie_key, salt="staff-session")
        self.nav: list[NavItem] = []
        # name -> (who may read it, what it says): the live parts' JSON (``/staff/live/{name}``)
        self.live: dict[str, tuple[Permission, Callable[[Page, dict[str, str]], Any]]] = {}

    def add_nav(self, items: Iterable[NavItem]) -> None:
        self.nav.extend(items)

    def read_session(self, request: Request) -> Session:
        raw = request.cookies.get(COOKIE)
        if not raw:
            return Session()
        try:
            data = self._signer.loads(raw, max_age=SESSION_HOURS * 3600)
        except BadSignature:
            return Session()
        return Session.load(data)

    def write_session(self, response: Response, session: Session) -> None:
        response.set_cookie(
            COOKIE,
            self._signer.dumps(session.dump()),
            max_age=SESSION_HOURS * 3600,
            path="/staff",
            httponly=True,
            samesite="lax",
            secure=self.secure_cookie,
        )

    def page(self, request: Request, *, signed_in: bool = True) -> Page:
        """The request's page; ``signed_in``: a member must be signed in (else ``SignInNeeded``)."""
        session = self.read_session(request)
        page = Page(request, session, self)
        if session.member_id is not None:
            page.member = self.accounts.session_member(session.member_id, session.session_key)
        if signed_in and page.member is None:
            raise SignInNeeded
        return page

    async def check_csrf(self, request: Request) -> None:
        """Every POST under ``/staff/`` (but the API) carries the session's CSRF token."""
        form = await request.form()
        given = form.get("csrf")
        expected = self.read_session(request).csrf
        if not isinstance(given, str) or not secrets.compare_digest(given, expected):
            raise PageRefused(403, "refused.csrf")

    def redirect(self, page: Page, path: str) -> RedirectResponse:
        response = RedirectResponse(path, status_code=303)
        self.write_session(response, page.session)
        return response
