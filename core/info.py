"""Read-only information for users (SPEC §9): guides, contact details per office and system
announcements. Staff write them (in Chinese, optionally in English too); users read them in
their language, falling back to Chinese.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.accounts import Language
from core.clock import as_utc
from core.plate_errors import InfoNotFound, InvalidInfo, OfficeUnknown
from core.ports import UnitOfWork

TITLE_MAX = 80
BODY_MAX = 4000


def localised(zh: str, en: str, language: Language) -> str:
    return en if language is Language.EN and en else zh


def _text(value: str, *, name: str, maximum: int, required: bool = True) -> str:
    value = value.strip()
    if (required and not value) or len(value) > maximum:
        raise InvalidInfo(field=name, maximum=maximum)
    return value


@dataclass(eq=False)
class Guide:
    """An article: how to do something at the office."""

    title: str
    body: str
    created_at: datetime
    title_en: str = ""
    body_en: str = ""
    position: int = 0
    id: int | None = None


@dataclass(eq=False)
class Contact:
    """How to reach an office (or any other service point)."""

    name: str
    phone: str
    address: str
    hours: str
    office_id: int | None = None
    name_en: str = ""
    address_en: str = ""
    id: int | None = None


@dataclass(eq=False)
class Announcement:
    """A system announcement, shown from ``published_at`` until ``withdrawn_at`` (if set)."""

    title: str
    body: str
    published_at: datetime
    title_en: str = ""
    body_en: str = ""
    withdrawn_at: datetime | None = None
    id: int | None = None

    def is_shown(self, now: datetime) -> bool:
        shown_from = as_utc(self.published_at) <= now
        return shown_from and (self.withdrawn_at is None or now < as_utc(self.withdrawn_at))


# -- staff use cases ---------------------------------------------------------------------------


def add_guide(
    uow: UnitOfWork,
    *,
    title: str,
    body: str,
    now: datetime,
    title_en: str = "",
    body_en: str = "",
    position: int = 0,
) -> Guide:
    guide = Guide(
        title=_text(title, name="title", maximum=TITLE_MAX),
        body=_text(body, name="body", maximum=BODY_MAX),
        title_en=_text(title_en, name="title_en", maximum=TITLE_MAX, required=False),
        body_en=_text(body_en, name="body_en", maximum=BODY_MAX, required=False),
        position=position,
        created_at=now,
    )
    uow.info.add(guide)
    return guide


def add_contact(
    uow: UnitOfWork,
    *,
    name: str,
    phone: str,
    address: str,
    hours: str,
    office_code: str | None = None,
    name_en: str = "",
    address_en: str = "",
) -> Contact:
    office_id = None
    if office_code:
        office = uow.offices.by_code(office_code)
        if office is None:
            raise OfficeUnknown(office=office_code)
        office_id = office.id
    contact = Contact(
        name=_text(name, name="name", maximum=TITLE_MAX),
        phone=_text(phone, name="phone", maximum=40),
        address=_text(address, name="address", maximum=200),
        hours=_text(hours, name="hours", maximum=80, required=False),
        office_id=office_id,
        name_en=_text(name_en, name="name_en", maximum=TITLE_MAX, required=False),
        address_en=_text(address_en, name="address_en", maximum=200, required=False),
    )
    uow.info.add(contact)
    return contact


def announce(
    uow: UnitOfWork,
    *,
    title: str,
    body: str,
    now: datetime,
    title_en: str = "",
    body_en: str = "",
    published_at: datetime | None = None,
) -> Announcement:
    item = Announcement(
        title=_text(title, name="title", maximum=TITLE_MAX),
        body=_text(body, name="body", maximum=BODY_MAX),
        title_en=_text(title_en, name="title_en", maximum=TITLE_MAX, required=False),
        body_en=_text(body_en, name="body_en", maximum=BODY_MAX, required=False),
        published_at=published_at or now,
    )
    uow.info.add(item)
    return item


_KINDS = ("guide", "contact", "announcement")


def find(uow: UnitOfWork, kind: str, item_id: int) -> Guide | Contact | Announcement:
    getter = {
        "guide": uow.info.guide,
        "contact": uow.info.contact,
        "announcement": uow.info.announcement,
    }.get(kind)
    item = getter(item_id) if getter else None
    if item is None:
        raise InfoNotFound(kind=kind, id=item_id)
    return item


def change(
    uow: UnitOfWork, kind: str, item_id: int, **values: Any
) -> Guide | Contact | Announcement:
    """Staff change some fields of a guide, contact or announcement."""
    item = find(uow, kind, item_id)
    for name, value in values.items():
        if value is None:
            continue
        if not hasattr(item, name) or name == "id":
            raise InvalidInfo(field=name, maximum=0)
        if isinstance(value, str):
            required = not name.endswith("_en") and name != "hours"
            maximum = BODY_MAX if name.startswith("body") else TITLE_MAX
            setattr(item, name, _text(value, name=name, maximum=maximum, required=required))
        else:
            setattr(item, name, value)
    return item


def remove(uow: UnitOfWork, kind: str, item_id: int) -> None:
    uow.info.remove(find(uow, kind, item_id))


def withdraw(uow: UnitOfWork, announcement_id: int, now: datetime) -> Announcement:
    item = find(uow, "announcement", announcement_id)
    if not isinstance(item, Announcement):  # pragma: no cover - find returns the kind asked
        raise InfoNotFound(kind="announcement", id=announcement_id)
    item.withdrawn_at = now
    return item
