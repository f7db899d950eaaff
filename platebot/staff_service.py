"""The office's staff operations (SPEC §10) as one service: each method is one transaction
around a core use case, returning plain data. The staff CLI (``platebot staff …``) and the staff
HTTP API (``/staff/api/…``) are thin layers over it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any, TypeVar

from core import broadcasts, counter, info, office_admin, pools
from core.accounts import Language
from core.broadcast_ports import Audience, Channels
from core.clock import OFFICE_TZ, format_local
from core.info import Announcement, Contact, Guide
from core.masking import mask_phone
from core.offices import Office, last_valid_day
from core.plates import PlateKind
from core.ports import UnitOfWork
from core.preselection import BlacklistEntry, Preselection, PreselectionState
from core.registry import import_registry_csv
from core.staff import Audit, Permission, Role
from dialogs.catalog import render_text
from dialogs.replies import Text
from platebot.staff_acting import Acting

log = logging.getLogger(__name__)

T = TypeVar("T")


def office_view(office: Office) -> dict[str, Any]:
    return {
        "code": office.code,
        "name": office.name,
        "name_en": office.name_en,
        "region_code": office.region_code,
        "address": office.address,
        "address_en": office.address_en,
        "hours": f"{office.opens:%H:%M}-{office.closes:%H:%M}",
        "notice": office.notice,
        "notice_en": office.notice_en,
        "self_choice_allowance": office.self_choice_allowance,
        "batch_allowance": office.batch_allowance,
        "batch_size": office.batch_size,
        "candidates_per_check": office.candidates_per_check,
        "validity_working_days": office.validity_working_days,
        "patterns": list(office.patterns),
    }


def preselection_view(p: Preselection, office: Office | None) -> dict[str, Any]:
    return {
        "id": p.id,
        "vin": p.vin,
        "office": office.code if office else None,
        "plate_kind": p.plate_kind.value,
        "state": p.state.value,
        "plate": office.plate(p.serial) if office and p.serial else None,
        "self_choice_left": p.self_choice_left,
        "batches_left": p.batches_left,
        "selected_at": format_local(p.selected_at) if p.selected_at else None,
        "last_valid_day": last_valid_day(p.deadline).isoformat() if p.deadline else None,
        "confirmed_at": format_local(p.confirmed_at) if p.confirmed_at else None,
    }


def blacklist_view(entry: BlacklistEntry, phone: str | None) -> dict[str, Any]:
    return {
        "id": entry.id,
        "phone": mask_phone(phone) if phone else None,
        "since": format_local(entry.created_at),
        "lifts_on": entry.lifts_at.astimezone(OFFICE_TZ).date().isoformat(),
        "lifted_at": format_local(entry.lifted_at) if entry.lifted_at else None,
        "lifted_early": entry.lifted_early,
    }


def info_view(item: Guide | Contact | Announcement) -> dict[str, Any]:
    values = {k: v for k, v in asdict(item).items() if k not in {"created_at"}}
    for name in ("published_at", "withdrawn_at"):
        if values.get(name) is not None:
            values[name] = format_local(values[name])
    return values


def message_of(code: str, params: dict[str, str | int]) -> str:
    """A refusal in words (English, for staff)."""
    return render_text(Text(f"error.{code}", params), Language.EN)


@dataclass(frozen=True)
class RegistryReport:
    added: int
    updated: int
    errors: list[dict[str, Any]]


@dataclass(frozen=True)
class PoolCsvReport:
    added: int
    already: int
    errors: list[dict[str, Any]]


class StaffService(Acting):
    """Each method is one transaction, refused by the actor's role (``core.staff``) and, when
    it changes something, recorded in the audit in the same transaction."""

    # -- offices ---------------------------------------------------------------------------

    def offices(self) -> list[dict[str, Any]]:
        return self._do(lambda uow: [office_view(o) for o in uow.offices.all()])

    def create_office(
        self, *, code: str, name: str, region_code: str, **settings: Any
    ) -> dict[str, Any]:
        self.require(Permission.ADMIN)
        office = self._do(
            lambda uow: office_admin.create_office(
                uow, code=code, name=name, region_code=region_code, **settings
            ),
            lambda o: Audit("office.create", o.code, o.code),
        )
        log.info("office %s created", office.code)
        return office_view(office)

    def change_office(self, code: str, **changes: Any) -> dict[str, Any]:
        self.require(Permission.OFFICE, code)
        detail = ", ".join(sorted(k for k, v in changes.items() if v is not None))
        return office_view(
            self._do(
                lambda uow: office_admin.change_office(uow, code=code, **changes),
                lambda o: Audit("office.change", o.code, o.code, detail),
            )
        )

    def set_holidays(self, code: str, days: Sequence[date], *, on: bool = True) -> None:
        self.require(Permission.OFFICE, code)
        listed = " ".join(day.isoformat() for day in days)
        self._do(
            lambda uow: office_admin.set_holidays(uow, code=code, days=days, on=on),
            lambda _: Audit(
                "office.holiday_add" if on else "office.holiday_remove", code, code, listed
            ),
        )

    # -- pools and the registry ------------------------------------------------------------

    def load_pool(self, code: str, kind: PlateKind, **sources: Sequence[str]) -> pools.LoadReport:
        self.require(Permission.OFFICE, code)
        report = self._do(
            lambda uow: pools.load_pool(uow, office_code=code, kind=kind, **sources),
            lambda r: Audit(
                "pool.load",
                f"{code} {kind.value}",
                code,
                f"{r.added} added, {r.already} known, {r.excluded} excluded,"
                f" {len(r.refused)} refused",
            ),
        )
        log.info("pool %s %s: %s added, %s known", code, kind.value, report.added, report.already)
        return report

    def load_pool_csv(self, code: str, kind: PlateKind, text: str) -> PoolCsvReport:
        """The numbers of a CSV file (first column) into the pool: bad rows reported with their
        line numbers, the good ones loaded."""
        serials, errors = pools.checked_csv_serials(kind, text)
        report = self.load_pool(code, kind, serials=list(serials))
        rows: list[dict[str, Any]] = [
            {"line": e.line, "code": e.code, "params": e.params} for e in errors
        ]
        rows += [
            {"line": serials[r.serial], "code": r.code, "params": r.params} for r in report.refused
        ]
        rows.sort(key=lambda row: int(row["line"]))
        return PoolCsvReport(report.added, report.already, rows)

    def pool_counts(self, code: str) -> dict[str, int]:
        def counts(uow: UnitOfWork) -> dict[str, int]:
            office = office_admin.get_office(uow, code)
            found = uow.pool.counts(office.id or 0)
            return {kind.value: found.get(kind, 0) for kind in PlateKind}

        return self._do(counts)

    def import_registry(self, text: str) -> RegistryReport:
        self.require(Permission.OFFICE)
        now = self.clock.now()
        report = self._do(
            lambda uow: import_registry_csv(
                uow, text=text, now=now, today=now.astimezone(OFFICE_TZ).date()
            ),
            lambda r: Audit(
                "registry.import",
                "",
                None,
                f"{r.added} added, {r.updated} updated, {len(r.errors)} bad rows",
            ),
        )
        errors = [{"line": e.line, "code": e.code, "params": e.params} for e in report.errors]
        log.info(
            "registry import: %s added, %s updated, %s bad rows",
            report.added,
            report.updated,
            len(errors),
        )
        return RegistryReport(report.added, report.updated, errors)

    # -- pre-selections --------------------------------------------------------------------

    def _with_office(self, uow: UnitOfWork, p: Preselection) -> dict[str, Any]:
        return preselection_view(p, uow.offices.get(p.office_id))

    def confirm(self, vin: str) -> dict[str, Any]:
        self.require(Permission.COUNTER)

        def confirm(uow: UnitOfWork) -> dict[str, Any]:
            done = counter.confirm_at_counter(uow, now=self.clock.now(), vin=vin)
            view = self._with_office(uow, done)
            self.require(Permission.COUNTER, view["office"])  # another office's: rolled back
            return view

        return self._do(
            confirm, lambda v: Audit("preselection.confirm", v["vin"], v["office"], v["plate"])
        )

    def preselections(
        self, *, state: PreselectionState | None = None, office: str | None = None, limit: int = 200
    ) -> list[dict[str, Any]]:
        office = office or (self.actor.office_code if self.actor.role is not Role.ADMIN else None)
        self.require(Permission.COUNTER, office)

        def listed(uow: UnitOfWork) -> list[dict[str, Any]]:
            found = counter.list_preselections(uow, state=state, office_code=office, limit=limit)
            return [self._with_office(uow, p) for p in found]

        return self._do(listed)

    def blacklist(self) -> list[dict[str, Any]]:
        def listed(uow: UnitOfWork) -> list[dict[str, Any]]:
            views = []
            for entry in uow.blacklist.listed(self.clock.now()):
                account = uow.accounts.get(entry.account_id)
                views.append(blacklist_view(entry, account.phone if account else None))
            return views

        return self._do(listed)

    def lift(self, phone: str) -> dict[str, Any]:
        self.require(Permission.OFFICE)

        def lift(uow: UnitOfWork) -> dict[str, Any]:
            entry = counter.lift_blacklist_early(uow, now=self.clock.now(), phone=phone)
            return blacklist_view(entry, phone)

        return self._do(lift, lambda v: Audit("blacklist.lift", v["phone"] or ""))

    # -- guides, contacts, announcements ---------------------------------------------------

    def items(self, kind: str) -> list[dict[str, Any]]:
        def listed(uow: UnitOfWork) -> list[dict[str, Any]]:
            found: Sequence[Guide | Contact | Announcement]
            if kind == "guide":
                found = uow.info.guides()
            elif kind == "contact":
                found = uow.info.contacts()
            else:
                found = uow.info.announcements(now=None)
            return [info_view(item) for item in found]

        return self._do(listed)

    def _info(self, kind: str, verb: str) -> Callable[[dict[str, Any]], Audit]:
        def audit(view: dict[str, Any]) -> Audit:
            title = view.get("title") or view.get("name") or ""
            return Audit(f"{kind}.{verb}", f"#{view.get('id')} {title}")

        return audit

    def add_guide(self, **values: Any) -> dict[str, Any]:
        self.require(Permission.OFFICE)
        return self._do(
            lambda uow: info_view(info.add_guide(uow, now=self.clock.now(), **values)),
            self._info("guide", "add"),
        )

    def add_contact(self, **values: Any) -> dict[str, Any]:
        self.require(Permission.OFFICE, values.get("office_code"))
        return self._do(
            lambda uow: info_view(info.add_contact(uow, **values)), self._info("contact", "add")
        )

    def announce(
        self, *, broadcast: tuple[Audience, Channels, str] | None = None, **values: Any
    ) -> dict[str, Any]:
        """Publish an announcement; with ``broadcast`` (audience, channels, staff name) it is
        also sent as a broadcast now, in the same transaction (``broadcast_id`` in the view): a
        broadcast of the actor's office, by its rules (``core.broadcasts``)."""
        self.require(Permission.OFFICE)
        office = self.actor.own_office() if broadcast is not None else None

        def announced(uow: UnitOfWork) -> dict[str, Any]:
            now = self.clock.now()
            item = info.announce(uow, now=now, **values)
            view = info_view(item)
            if broadcast is not None:
                audience, channels, by = broadcast
                sent = broadcasts.of_announcement(
                    uow,
                    item,
                    audience=audience,
                    channels=channels,
                    created_by=by,
                    office_code=office,
                    now=now,
                )
                view["broadcast_id"] = sent.id
                total = uow.broadcasts.tally(sent.id or 0, now).total
                view["broadcast_recipients"] = total
                self._record(
                    uow,
                    Audit(
                        "broadcast.send",
                        f"#{sent.id}",
                        office,
                        detail=f"{total} recipients, announcement #{item.id}",
                    ),
                )
            return view

        return self._do(announced, self._info("announcement", "add"))

    def change_item(self, kind: str, item_id: int, **values: Any) -> dict[str, Any]:
        self.require(Permission.OFFICE)
        return self._do(
            lambda uow: info_view(info.change(uow, kind, item_id, **values)),
            self._info(kind, "change"),
        )

    def remove_item(self, kind: str, item_id: int) -> None:
        self.require(Permission.OFFICE)
        self._do(
            lambda uow: info.remove(uow, kind, item_id),
            lambda _: Audit(f"{kind}.remove", f"#{item_id}"),
        )

    def withdraw(self, announcement_id: int) -> dict[str, Any]:
        self.require(Permission.OFFICE)
        return self._do(
            lambda uow: info_view(info.withdraw(uow, announcement_id, self.clock.now())),
            self._info("announcement", "withdraw"),
        )
