"""Bodies and answers of the staff HTTP API (``web/staff.py``), as pydantic models: they make
the OpenAPI document."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from core.plates import PlateKind


class OfficeSettings(BaseModel):
    name: str | None = None
    name_en: str | None = Field(default=None, examples=["Shantou Vehicle Management Office"])
    region_code: str | None = Field(default=None, examples=["4405"])
    address: str | None = None
    address_en: str | None = None
    hours: str | None = Field(default=None, examples=["09:00-21:00"])
    notice: str | None = None
    notice_en: str | None = None
    self_choice_allowance: int | None = None
    batch_allowance: int | None = None
    batch_size: int | None = None
    candidates_per_check: int | None = None
    validity_working_days: int | None = None
    patterns: list[str] | None = Field(default=None, examples=[["LLDDD", "DDDDD"]])


class NewOffice(OfficeSettings):
    code: str = Field(examples=["粤D"])
    name: str = Field(examples=["汕头市车辆管理所"])
    region_code: str = Field(examples=["4405"])


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


class PoolLoad(BaseModel):
    kind: PlateKind
    ranges: list[str] = Field(default=[], examples=[["10000-19999"]])
    patterns: list[str] = Field(default=[], examples=[["LDDDD"]])
    serials: list[str] = Field(default=[], examples=[["AB123"]])
    exclude: list[str] = Field(default=[], examples=[["88888"]])


class PoolLoaded(BaseModel):
    added: int
    already: int
    excluded: int


class RowProblem(BaseModel):
    line: int
    code: str
    message: str


class RegistryImported(BaseModel):
    added: int
    updated: int
    errors: list[RowProblem]


class Confirm(BaseModel):
    vin: str = Field(examples=["LGBH52E08NY000001"])


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


class Lift(BaseModel):
    phone: str = Field(examples=["+8613800138000"])


class BlacklistOut(BaseModel):
    id: int
    phone: str | None
    since: str
    lifts_on: str
    lifted_at: str | None
    lifted_early: bool


class GuideIn(BaseModel):
    title: str
    body: str
    title_en: str = ""
    body_en: str = ""
    position: int = 0


class ContactIn(BaseModel):
    name: str
    phone: str
    address: str
    hours: str = ""
    office_code: str | None = None
    name_en: str = ""
    address_en: str = ""


class AnnouncementIn(BaseModel):
    title: str
    body: str
    title_en: str = ""
    body_en: str = ""


class InfoChange(BaseModel):
    """Fields to change (others stay)."""

    title: str | None = None
    body: str | None = None
    title_en: str | None = None
    body_en: str | None = None
    position: int | None = None
    name: str | None = None
    name_en: str | None = None
    phone: str | None = None
    address: str | None = None
    address_en: str | None = None
    hours: str | None = None


InfoKind = Literal["guides", "contacts", "announcements"]
KINDS: dict[str, str] = {"guides": "guide", "contacts": "contact", "announcements": "announcement"}
