"""The console's pages of the office's business (``/staff/…``): plates for sale, auction periods
and lots with a live view of a running lot, reservation reviews, and broadcasts with their live
progress. Each goes through its staff service (``StaffSale``, ``StaffAuctions``,
``StaffReservations``, ``StaffBroadcasts``) acting for the signed-in member: refused by their
role, recorded in the audit. The live parts are feeds of ``console.live`` (``lot``,
``broadcast``) that ``static/staff.js`` polls."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, File, UploadFile
from fastapi.responses import Response

from core.broadcast_ports import Audience, AudienceKind, Channels
from core.broadcasts import audiences_for, phones_from
from core.clock import OFFICE_TZ
from core.errors import DomainError
from core.plates import PlateKind
from core.reservations import ReservationState
from core.sale import ListingState
from core.staff import Permission
from web.staff_console import Console, NavItem, Page
from web.staff_pages import (
    Member,
    OptionalText,
    Text,
    Upload,
    csv_upload,
    fen,
    outcome,
    rows,
    setting,
)

NAV = [
    NavItem("/staff/sale", "nav.sale", Permission.OFFICE),
    NavItem("/staff/auctions", "nav.auctions", Permission.OFFICE),
    NavItem("/staff/reservations", "nav.reservations", Permission.OFFICE),
    NavItem("/staff/broadcasts", "nav.broadcasts", Permission.OFFICE),
]


def _yuan(page: Page, typed: str) -> int:
    """Yuan as typed, in fen; required."""
    value = fen(page, typed)
    if value is None:
        raise setting("price", typed)
    return value


def _when(typed: str) -> datetime:
    """A ``datetime-local`` field (the office's time)."""
    try:
        return datetime.fromisoformat(typed.strip()).replace(tzinfo=OFFICE_TZ)
    except ValueError as error:
        raise setting("time", typed) from error


def _kind(typed: str) -> PlateKind:
    try:
        return PlateKind(typed)
    except ValueError as error:
        raise setting("kind", typed) from error


def routes(pages: APIRouter, console: Console) -> None:
    _sale_routes(pages)
    _auction_routes(pages, console)
    _reservation_routes(pages)
    _broadcast_routes(pages, console)


# -- plates for sale ------------------------------------------------------------------------------


def _sale_routes(pages: APIRouter) -> None:
    def sale_page(page: Page, status: int = 200, **said: Any) -> Response:
        page.require(Permission.OFFICE)
        today = page.console.staff.clock.now().astimezone(OFFICE_TZ).date()
        first = said.pop("first", None) or today - timedelta(days=30)
        last = said.pop("last", None) or today
        offices = [o for o in page.staff.offices() if page.may(Permission.OFFICE, o["code"])]
        return page.render(
            "sale.html",
            status,
            listings=page.sale.listings(state=ListingState.LISTED),
            report=page.sale.report(first=first, last=last),
            first=first,
            last=last,
            offices=offices,
            kinds=list(PlateKind),
            **said,
        )

    @pages.get("/sale")
    def sale(page: Member, first: str = "", last: str = "") -> Response:
        try:
            start = date.fromisoformat(first) if first else None
            end = date.fromisoformat(last) if last else None
        except ValueError:
            start = end = None
        return sale_page(page, first=start, last=end)

    @pages.post("/sale")
    def add(page: Member, office: Text, kind: Text, serial: Text, price: Text) -> Response:
        def run() -> str:
            done = page.sale.add(
                office=office.strip(),
                kind=_kind(kind),
                serial=serial.strip().upper(),
                price=_yuan(page, price),
            )
            return page.t("sale.listed", plate=done["plate"], price=done["price"])

        status, notice, error = outcome(page, run)
        return sale_page(page, status, notice=notice, error=error)

    @pages.post("/sale/import")
    def import_csv(page: Member, file: Annotated[UploadFile, File()]) -> Response:
        report: dict[str, Any] | None = None

        def run() -> str:
            nonlocal report
            done = page.sale.import_csv(csv_upload(page, file))
            report = {"listed": len(done["listed"]), "errors": rows(page, done["errors"])}
            return page.t("sale.imported", listed=report["listed"])

        try:
            status, notice, error = outcome(page, run)
        except Upload as refused:
            status, notice, error = 422, None, str(refused)
        return sale_page(page, status, notice=notice, error=error, import_report=report)

    @pages.post("/sale/{listing_id}/price")
    def price(page: Member, listing_id: int, price: Text) -> Response:
        def run() -> str:
            done = page.sale.price(listing_id, _yuan(page, price))
            return page.t("sale.priced", plate=done["plate"], price=done["price"])

        status, notice, error = outcome(page, run)
        return sale_page(page, status, notice=notice, error=error)

    @pages.post("/sale/{listing_id}/withdraw")
    def withdraw(page: Member, listing_id: int) -> Response:
        def run() -> str:
            done = page.sale.withdraw(listing_id)
            return page.t("sale.withdrawn", plate=done["plate"])

        status, notice, error = outcome(page, run)
        return sale_page(page, status, notice=notice, error=error)


# -- auctions -----------------------------------------------------------------------------------

# A setting ``amend_period`` says changed whose page label has another name (``auctions.<label>``).
_AMENDED = {"deposit_fen": "deposit"}


def _changes(page: Page, shown: dict[str, str], typed: dict[str, str]) -> dict[str, Any]:
    """What the change form changes, for ``amend_period``: only the fields typed other than the
    form showed them (``shown``, posted with it: a time to the minute, the deposit in yuan), so
    a time stored with seconds, the deposit once bidders signed up at it, or what another member
    changed since the form was shown is never changed by the page. An English name emptied is
    removed (``""``)."""
    changes: dict[str, Any] = {}
    for field in ("name", "name_en"):
        if typed[field].strip() != shown[field].strip():
            changes[field] = typed[field].strip()
    for field in ("signup_opens", "signup_closes", "starts_at"):
        if typed[field].strip() != shown[field].strip():
            when = _when(typed[field])
            if not shown[field].strip() or when != _when(shown[field]):
                changes[field] = when
    if typed["deposit"].strip() != shown["deposit"].strip():
        deposit_fen = fen(page, typed["deposit"])
        if deposit_fen is None:
            raise setting("deposit", typed["deposit"])
        if not shown["deposit"].strip() or deposit_fen != fen(page, shown["deposit"]):
            changes["deposit_fen"] = deposit_fen
    return changes


def _auction_routes(pages: APIRouter, console: Console) -> None:
    def periods_page(page: Page, status: int = 200, **said: Any) -> Response:
        page.require(Permission.OFFICE)
        return page.render("auctions.html", status, periods=page.auctions.periods(), **said)

    @pages.get("/auctions")
    def periods(page: Member) -> Response:
        return periods_page(page)

    @pages.post("/auctions")
    def publish(
        page: Member,
        *,
        name: Text,
        signup_opens: Text,
        signup_closes: Text,
        starts_at: Text,
        deposit: OptionalText = "",
        name_en: OptionalText = "",
    ) -> Response:
        def run() -> str:
            done = page.auctions.publish_period(
                name=name.strip(),
                name_en=name_en.strip() or None,
                signup_opens=_when(signup_opens),
                signup_closes=_when(signup_closes),
                starts_at=_when(starts_at),
                deposit_fen=fen(page, deposit),
            )
            return page.t("auctions.published", name=done["name"], id=done["id"])

        status, notice, error = outcome(page, run)
        return periods_page(page, status, notice=notice, error=error)

    def period_page(page: Page, period_id: int, status: int = 200, **said: Any) -> Response:
        page.require(Permission.OFFICE)
        try:
            period = page.auctions.period(period_id)
        except DomainError as error:
            return periods_page(page, 404, error=page.error_text(error))
        offices = [o for o in page.staff.offices() if page.may(Permission.OFFICE, o["code"])]
        return page.render(
            "auction.html",
            status,
            period=period,
            lots=page.auctions.lots(period_id),
            offices=offices,
            kinds=list(PlateKind),
            **said,
        )

    @pages.get("/auctions/{period_id}")
    def period(page: Member, period_id: int) -> Response:
        return period_page(page, period_id)

    @pages.post("/auctions/{period_id}/lots")
    def add_lot(
        page: Member, period_id: int, *, office: Text, kind: Text, serial: Text, price: Text
    ) -> Response:
        def run() -> str:
            done = page.auctions.add_lot(
                period_id,
                office=office.strip(),
                kind=_kind(kind),
                serial=serial.strip().upper(),
                starting_price_fen=_yuan(page, price),
            )
            return page.t("auctions.lot_added", plate=done["plate"])

        status, notice, error = outcome(page, run)
        return period_page(page, period_id, status, notice=notice, error=error)

    @pages.post("/auctions/{period_id}/lots/{lot_id}/withdraw")
    def withdraw_lot(page: Member, period_id: int, lot_id: int) -> Response:
        def run() -> str:
            done = page.auctions.withdraw_lot(lot_id)
            return page.t("auctions.lot_withdrawn", plate=done["plate"])

        status, notice, error = outcome(page, run)
        return period_page(page, period_id, status, notice=notice, error=error)

    @pages.post("/auctions/{period_id}/cancel")
    def cancel(page: Member, period_id: int) -> Response:
        def run() -> str:
            done = page.auctions.cancel_period(period_id)
            return page.t("auctions.cancelled", name=done["name"])

        status, notice, error = outcome(page, run)
        return period_page(page, period_id, status, notice=notice, error=error)

    @pages.post("/auctions/{period_id}/amend")
    def amend(
        page: Member,
        period_id: int,
        *,
        name: Text,
        signup_opens: Text,
        signup_closes: Text,
        starts_at: Text,
        deposit: Text,
        name_en: OptionalText = "",
        shown_name: OptionalText = "",
        shown_name_en: OptionalText = "",
        shown_signup_opens: OptionalText = "",
        shown_signup_closes: OptionalText = "",
        shown_starts_at: OptionalText = "",
        shown_deposit: OptionalText = "",
    ) -> Response:
        """Only what was changed in the form goes to ``amend_period`` (``_changes``, against
        the values the form was shown with); nothing changed: its refusal, in words."""

        typed = {
            "name": name,
            "name_en": name_en,
            "signup_opens": signup_opens,
            "signup_closes": signup_closes,
            "starts_at": starts_at,
            "deposit": deposit,
        }
        shown = {
            "name": shown_name,
            "name_en": shown_name_en,
            "signup_opens": shown_signup_opens,
            "signup_closes": shown_signup_closes,
            "starts_at": shown_starts_at,
            "deposit": shown_deposit,
        }

        def run() -> str:
            changes = _changes(page, shown, typed)
            done = page.auctions.amend_period(period_id, **changes)
            labels = [page.t(f"auctions.{_AMENDED.get(field, field)}") for field in done["changed"]]
            return page.t(
                "auctions.amended",
                name=done["name"],
                changed=page.t("auctions.list_separator").join(labels),
            )

        status, notice, error = outcome(page, run)
        return period_page(page, period_id, status, notice=notice, error=error)

    def live_lot(page: Page, lot_id: int) -> dict[str, Any]:
        live = page.auctions.live_lot(lot_id)
        return {**live, "state_text": page.t(f"lot.state.{live['state']}")}

    def lot_feed(page: Page, params: dict[str, str]) -> dict[str, Any]:
        lot_id = params.get("id", "")
        return live_lot(page, int(lot_id)) if lot_id.isdigit() else {}

    console.live["lot"] = (Permission.OFFICE, lot_feed)

    @pages.get("/lots/{lot_id}")
    def lot(page: Member, lot_id: int) -> Response:
        page.require(Permission.OFFICE)
        try:
            live = live_lot(page, lot_id)
        except DomainError as error:
            return periods_page(page, 404, error=page.error_text(error))
        return page.render("lot.html", live=live)


# -- reservations -------------------------------------------------------------------------------


def _reservation_routes(pages: APIRouter) -> None:
    def reservations_page(
        page: Page, status: int = 200, state: str = "pending", **said: Any
    ) -> Response:
        page.require(Permission.OFFICE)
        chosen = ReservationState(state) if state in set(ReservationState) else None
        return page.render(
            "reservations.html",
            status,
            found=page.reservations.list(chosen, office=page.actor.office_code),
            states=list(ReservationState),
            state=state,
            **said,
        )

    @pages.get("/reservations")
    def reservations(page: Member, state: str = "pending") -> Response:
        return reservations_page(page, state=state)

    @pages.post("/reservations/{reservation_id}/approve")
    def approve(
        page: Member, reservation_id: int, deposit: OptionalText = "", price: OptionalText = ""
    ) -> Response:
        def run() -> str:
            given: dict[str, int] = {}
            if (deposit_fen := fen(page, deposit)) is not None:
                given["deposit_fen"] = deposit_fen
            if (price_fen := fen(page, price)) is not None:
                given["starting_price_fen"] = price_fen
            done = page.reservations.approve(reservation_id, staff=page.actor.name, **given)
            return page.t("reservations.approved", plate=done["plate"], deposit=done["deposit"])

        status, notice, error = outcome(page, run)
        return reservations_page(page, status, notice=notice, error=error)

    @pages.post("/reservations/{reservation_id}/reject")
    def reject(page: Member, reservation_id: int, reason: Text) -> Response:
        def run() -> str:
            done = page.reservations.reject(
                reservation_id, staff=page.actor.name, reason=reason.strip()
            )
            return page.t("reservations.rejected", plate=done["plate"])

        status, notice, error = outcome(page, run)
        return reservations_page(page, status, notice=notice, error=error)


# -- broadcasts ---------------------------------------------------------------------------------


def _audience(kind: str, region: str, period: str, phones: str) -> Audience:
    """The form's audience as typed: ``core.broadcasts`` refuses a region, a period or numbers
    filled in for another audience (a box left filled must not be quietly ignored)."""
    try:
        chosen = AudienceKind(kind)
    except ValueError as error:
        raise setting("audience", kind) from error
    period = period.strip()
    if period and not period.isdigit():
        raise setting("period", period)
    return Audience(
        chosen,
        region_code=region.strip() or None,
        period_id=int(period) if period else None,
        phones=_listed(phones) if phones.strip() else (),
    )


# Between numbers on one line of the box (a space is not: "138 0013 8000" is one number).
_BETWEEN_NUMBERS = re.compile(r"[,;，；、\t]")


def _listed(phones: str) -> tuple[str, ...]:
    """The numbers typed or pasted in the box, one a line (or several with commas): each
    checked and written as E.164 (``phones_from``), a line that is not a mobile number named."""
    return phones_from(
        (line_number, part)
        for line_number, line in enumerate(phones.splitlines(), 1)
        for part in _BETWEEN_NUMBERS.split(line)
        if part.strip()
    )


def _broadcast_routes(pages: APIRouter, console: Console) -> None:
    def broadcasts_page(page: Page, status: int = 200, **said: Any) -> Response:
        """The form offers the audiences the member's office may send to (an admin: all);
        ``core.broadcasts`` refuses the others whatever is posted."""
        page.require(Permission.OFFICE)
        office = page.actor.own_office()
        region = next((o["region_code"] for o in page.staff.offices() if o["code"] == office), "")
        return page.render(
            "broadcasts.html",
            status,
            recent=page.broadcasts.recent(limit=20),
            kinds=audiences_for(office),
            channels=list(Channels),
            office=office,
            office_region=region,
            **said,
        )

    @pages.get("/broadcasts")
    def broadcasts(page: Member) -> Response:
        return broadcasts_page(page)

    @pages.post("/broadcasts")
    def compose(
        page: Member,
        *,
        text_zh: Text,
        text_en: Text,
        audience: Text,
        channels: Text,
        region: OptionalText = "",
        period: OptionalText = "",
        phones: OptionalText = "",
    ) -> Response:
        preview: dict[str, Any] | None = None

        def run() -> str:
            nonlocal preview
            try:
                sent_by = Channels(channels)
            except ValueError as error:
                raise setting("channels", channels) from error
            preview = page.broadcasts.compose(
                text_zh=text_zh.strip(),
                text_en=text_en.strip(),
                audience=_audience(audience, region, period, phones),
                channels=sent_by,
                created_by=page.actor.name,
            )
            return page.t("broadcasts.composed", id=preview["id"])

        status, notice, error = outcome(page, run)
        return broadcasts_page(page, status, notice=notice, error=error, preview=preview)

    def broadcast_page(page: Page, broadcast_id: int, status: int = 200, **said: Any) -> Response:
        page.require(Permission.OFFICE)
        try:
            progress = page.broadcasts.progress(broadcast_id)
            preview = page.broadcasts.preview(broadcast_id)
        except DomainError as error:
            return broadcasts_page(page, 404, error=page.error_text(error))
        return page.render("broadcast.html", status, progress=progress, preview=preview, **said)

    @pages.get("/broadcasts/{broadcast_id}")
    def broadcast(page: Member, broadcast_id: int) -> Response:
        return broadcast_page(page, broadcast_id)

    def change(name: str) -> None:
        @pages.post(f"/broadcasts/{{broadcast_id}}/{name}", name=f"broadcast_{name}")
        def changed(page: Member, broadcast_id: int) -> Response:
            def run() -> str:
                getattr(page.broadcasts, name)(broadcast_id)
                return page.t(f"broadcasts.{name}_done", id=broadcast_id)

            status, notice, error = outcome(page, run)
            return broadcast_page(page, broadcast_id, status, notice=notice, error=error)

    for name in ("pause", "resume", "cancel"):
        change(name)

    @pages.post("/broadcasts/{broadcast_id}/send")
    def send(page: Member, broadcast_id: int, at: OptionalText = "") -> Response:
        """Now, or at the time given (Beijing time)."""

        def run() -> str:
            when = _when(at) if at.strip() else None
            page.broadcasts.send(broadcast_id, at=when)
            if when is None:
                return page.t("broadcasts.send_done", id=broadcast_id)
            return page.t("broadcasts.scheduled", id=broadcast_id, at=at.replace("T", " "))

        status, notice, error = outcome(page, run)
        return broadcast_page(page, broadcast_id, status, notice=notice, error=error)

    def progress_feed(page: Page, params: dict[str, str]) -> dict[str, Any]:
        broadcast_id = params.get("id", "")
        if not broadcast_id.isdigit():
            return {}
        done = page.broadcasts.progress(int(broadcast_id))  # another office's: 404 (``live``)
        to_finish = done["seconds_to_finish"]
        return {
            **done,
            "status_text": page.t(f"broadcasts.status.{done['status']}"),
            "seconds_to_finish": "–" if to_finish is None else to_finish,
        }

    console.live["broadcast"] = (Permission.OFFICE, progress_feed)
