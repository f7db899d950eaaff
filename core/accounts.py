"""Accounts: a verified mobile number and who stands behind it (SPEC §2)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class Language(enum.StrEnum):
    ZH = "zh"
    EN = "en"


class AccountKind(enum.StrEnum):
    PERSON = "person"
    UNIT = "unit"


class Category(enum.StrEnum):
    """Who the account is, as far as plate rules care (manual 000, SPEC §4)."""

    NEW_CAR_OWNER = "new_car_owner"
    STUDENT = "student"
    EXISTING_OWNER = "existing_owner"
    UNIT = "unit"


PERSON_CATEGORIES = (Category.NEW_CAR_OWNER, Category.STUDENT, Category.EXISTING_OWNER)


@dataclass(frozen=True, slots=True)
class PersonDetails:
    real_name: str
    id_number: str
    region_code: str
    address: str
    category: Category
    permit_number: str | None = None


@dataclass(frozen=True, slots=True)
class UnitDetails:
    unit_name: str
    unit_code: str
    address: str
    legal_rep_name: str
    legal_rep_id_number: str
    region_code: str


@dataclass(eq=False)
class Account:
    """A person or unit, identified by a verified mobile number in E.164."""

    phone: str
    kind: AccountKind
    category: Category
    name: str
    id_number: str
    region_code: str
    address: str
    language: Language
    created_at: datetime
    permit_number: str | None = None
    unit_code: str | None = None
    legal_rep_name: str | None = None
    window_user: bool = False
    id: int | None = None

    @classmethod
    def for_person(
        cls, *, phone: str, details: PersonDetails, language: Language, now: datetime
    ) -> Account:
        return cls(
            phone=phone,
            kind=AccountKind.PERSON,
            category=details.category,
            name=details.real_name,
            id_number=details.id_number,
            permit_number=details.permit_number,
            region_code=details.region_code,
            address=details.address,
            language=language,
            created_at=now,
        )

    @classmethod
    def for_unit(
        cls, *, phone: str, details: UnitDetails, language: Language, now: datetime
    ) -> Account:
        return cls(
            phone=phone,
            kind=AccountKind.UNIT,
            category=Category.UNIT,
            name=details.unit_name,
            id_number=details.legal_rep_id_number,
            unit_code=details.unit_code,
            legal_rep_name=details.legal_rep_name,
            region_code=details.region_code,
            address=details.address,
            language=language,
            created_at=now,
        )
