"""Bodies, parameters and answers of the staff HTTP API (``web/staff.py``), as pydantic models:
they make the OpenAPI document, and FastAPI checks every request against them before a route
runs, so what the document allows is what the server accepts.

Bounds come from where the values go: ids and counts are ``sa.Integer`` columns (32-bit on
PostgreSQL), texts have the length of their column or of the office's rule, office settings
have the bounds of ``core.offices.LIMITS``. Integers in a body are JSON's: ``true`` is not 1.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from annotated_types import Interval
from fastapi import Path
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

from core.broadcast_ports import Audience, AudienceKind, Channels
from core.info import BODY_MAX, TITLE_MAX
from core.offices import LIMITS
from core.plates import OFFICE_LETTERS, PROVINCES, PlateKind

# ``sa.Integer`` columns hold 32-bit signed integers on PostgreSQL (SQLite's hold 64 bits): an id
# past this cannot exist, and a value past it would make the database raise.
INT_MAX = 2**31 - 1
INT_MIN = -(2**31)

# PostgreSQL keeps no NUL character in a text column (it raises): no text of a request may hold
# one, as the document says (this pattern on every string).
NO_NUL = r"^[^\x00]*$"


def text(min_length: int | None = None, max_length: int | None = None) -> StringConstraints:
    return StringConstraints(pattern=NO_NUL, min_length=min_length, max_length=max_length)


Text = Annotated[str, text()]
ItemId = Annotated[int, Path(ge=1, le=INT_MAX, description="The item's id.", examples=[1])]
OfficeCode = Annotated[str, Path(pattern=NO_NUL, description="The office code.", examples=["粤D"])]

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_date_text(value: Any) -> Any:
    """Only ``YYYY-MM-DD`` (pydantic alone would also take ``0`` as 1970-01-01, a Unix time)."""
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
        raise ValueError("a date is written YYYY-MM-DD, e.g. 2026-10-01")
    return value


Day = Annotated[
    date,
    BeforeValidator(_iso_date_text),
    Path(description="The day, YYYY-MM-DD.", examples=["2026-10-01"]),
]


def _json_integer(value: Any) -> Any:
    """JSON's integers, ``5`` or ``5.0``; not ``true`` or ``"5"`` (pydantic would take them as 1
    and 5, where the document says they are not integers)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("an integer is expected")
    return value


# After the bounds, so that the document states them (as minimum and maximum).
JSON_INTEGER = BeforeValidator(_json_integer)


def _limit(name: str) -> Interval:
    low, high = LIMITS[name]
    return Interval(ge=low, le=high)


# The office settings, with the bounds ``Office.validate`` holds them to.
SelfChoice = Annotated[int, _limit("self_choice_allowance"), JSON_INTEGER]
Batches = Annotated[int, _limit("batch_allowance"), JSON_INTEGER]
BatchSize = Annotated[int, _limit("batch_size"), JSON_INTEGER]
PerCheck = Annotated[int, _limit("candidates_per_check"), JSON_INTEGER]
ValidDays = Annotated[int, _limit("validity_working_days"), JSON_INTEGER]


class _In(BaseModel):
    """A request body: fields it does not name are refused, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class Problem(BaseModel):
    """Why a request was refused. ``code`` is stable (``office.unknown``, ``request.invalid``…),
    ``message`` says it in words (English), ``params`` are the values the message names."""

    code: str = Field(examples=["office.unknown"])
    message: str
    params: dict[str, str | int]


class OfficeSettings(_In):
    name: Annotated[str, text(1, 80)] | None = None
    name_en: Annotated[str, text(max_length=120)] | None = Field(
        default=None, examples=["Shantou Vehicle Management Office"]
    )
    region_code: str | None = Field(default=None, pattern="^[0-9]{4}$", examples=["4405"])
    address: Annotated[str, text(max_length=200)] | None = None
    address_en: Annotated[str, text(max_length=200)] | None = None
    hours: Text | None = Field(default=None, examples=["09:00-21:00"])
    notice: Text | None = None
    notice_en: Text | None = None
    self_choice_allowance: SelfChoice | None = None
    batch_allowance: Batches | None = None
    batch_size: BatchSize | None = None
    candidates_per_check: PerCheck | None = None
    validity_working_days: ValidDays | None = None
    patterns: list[Text] | None = Field(default=None, examples=[["LLDDD", "DDDDD"]])


class NewOffice(OfficeSettings):
    code: str = Field(pattern=f"^[{PROVINCES}][{OFFICE_LETTERS}]$", examples=["粤D"])
    name: Annotated[str, text(1, 80)] = Field(examples=["汕头市车辆管理所"])
    region_code: str = Field(pattern="^[0-9]{4}$", examples=["4405"])


class OfficeOut(BaseModel):
    code: str
    name: str
    name_en: str
    region_code: str
    address: str
    address_en: str
    hours: str
    notice: str
    notice_en: str
    self_choice_allowance: int
    batch_allowance: int
    batch_size: int
    candidates_per_check: int
    validity_working_days: int
    patterns: list[str]


class PoolLoad(_In):
    kind: PlateKind
    ranges: list[Text] = Field(default=[], examples=[["10000-10099"]])
    patterns: list[Text] = Field(default=[], examples=[["AB12D"]])
    serials: list[Text] = Field(default=[], examples=[["AB123"]])
    exclude: list[Text] = Field(default=[], examples=[["10088"]])


class PoolRefusal(BaseModel):
    """A number left out of a load: taken outside the pool (reserved, a lot, a sale's)."""

    serial: str
    code: str
    message: str


class PoolLoaded(BaseModel):
    added: int
    already: int
    excluded: int
    refused: list[PoolRefusal] = []


class RowProblem(BaseModel):
    line: int
    code: str
    message: str


class RegistryImported(BaseModel):
    added: int
    updated: int
    errors: list[RowProblem]


class Confirm(_In):
    vin: Text = Field(examples=["LGBH52E08NY000001"])


class PreselectionOut(BaseModel):
    id: int
    vin: str
    office: str | None
    plate_kind: str
    state: str
    plate: str | None
    self_choice_left: int
    batches_left: int
    selected_at: str | None
    last_valid_day: str | None
    confirmed_at: str | None


class Lift(_In):
    phone: Text = Field(examples=["+8613800138000"])


class BlacklistOut(BaseModel):
    id: int
    phone: str | None
    since: str
    lifts_on: str
    lifted_at: str | None
    lifted_early: bool


# -- guides, contacts, announcements (lengths: core.info and the columns) -----------------------

Title = Annotated[str, text(1, TITLE_MAX)]
Body = Annotated[str, text(1, BODY_MAX)]
TitleEn = Annotated[str, text(max_length=TITLE_MAX)]
BodyEn = Annotated[str, text(max_length=BODY_MAX)]
Position = Annotated[int, Interval(ge=INT_MIN, le=INT_MAX), JSON_INTEGER]


class GuideIn(_In):
    title: Title
    body: Body
    title_en: TitleEn = ""
    body_en: BodyEn = ""
    position: Position = 0


class GuideChange(_In):
    """Fields to change (others stay)."""

    title: Title | None = None
    body: Body | None = None
    title_en: TitleEn | None = None
    body_en: BodyEn | None = None
    position: Position | None = None


class GuideOut(BaseModel):
    id: int
    title: str
    body: str
    title_en: str
    body_en: str
    position: int


class ContactIn(_In):
    name: Title
    phone: Annotated[str, text(1, 40)]
    address: Annotated[str, text(1, 200)]
    hours: Annotated[str, text(max_length=80)] = ""
    office_code: Text | None = Field(default=None, examples=["粤D"])
    name_en: TitleEn = ""
    address_en: Annotated[str, text(max_length=200)] = ""


class ContactChange(_In):
    """Fields to change (others stay). A changed address is held to the 80 characters of
    ``core.info.change``, which checks every changed text but a body against ``TITLE_MAX``."""

    name: Title | None = None
    name_en: TitleEn | None = None
    phone: Annotated[str, text(1, 40)] | None = None
    address: Annotated[str, text(1, TITLE_MAX)] | None = None
    address_en: Annotated[str, text(max_length=TITLE_MAX)] | None = None
    hours: Annotated[str, text(max_length=80)] | None = None


class ContactOut(BaseModel):
    id: int
    name: str
    phone: str
    address: str
    hours: str
    office_id: int | None
    name_en: str
    address_en: str


class AnnouncementBroadcast(_In):
    """Who an announcement is sent to as a broadcast (``/staff/api/broadcasts`` for more)."""

    audience: Literal["everyone", "region", "bidders", "unfinished_orders"]
    region_code: str | None = Field(
        default=None,
        max_length=40,
        pattern=NO_NUL,
        description="audience region: its code (4405) or its city (汕头, Shantou).",
    )
    period_id: int | None = Field(
        default=None, ge=1, le=INT_MAX, description="audience bidders: the auction period."
    )
    channels: Channels = Channels.TELEGRAM_ELSE_SMS
    created_by: str = Field(default="staff", min_length=1, max_length=80, pattern=NO_NUL)

    def target(self) -> tuple[Audience, Channels, str]:
        kind = AudienceKind(self.audience)
        audience = Audience(kind, region_code=self.region_code, period_id=self.period_id)
        return audience, self.channels, self.created_by


class AnnouncementIn(_In):
    title: Title
    body: Body
    title_en: TitleEn = ""
    body_en: BodyEn = ""
    broadcast: AnnouncementBroadcast | None = Field(
        default=None, description="Also send it now as a broadcast to this audience."
    )


class AnnouncementChange(_In):
    """Fields to change (others stay)."""

    title: Title | None = None
    body: Body | None = None
    title_en: TitleEn | None = None
    body_en: BodyEn | None = None


class AnnouncementOut(BaseModel):
    id: int
    title: str
    body: str
    title_en: str
    body_en: str
    published_at: str
    withdrawn_at: str | None
    broadcast_id: int | None = Field(default=None, description="The broadcast it was sent as.")
    broadcast_recipients: int | None = Field(
        default=None, description="How many that broadcast goes to (its progress says more)."
    )
