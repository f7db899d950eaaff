"""Vehicle management offices (SPEC §3, §4, §10): who may choose them, when numbers can be
picked, and how long a pre-selected number stays valid.

Every number staff can change per office lives on ``Office``; the defaults are SPEC's.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from core.accounts import Account, Category, Language
from core.clock import OFFICE_TZ, as_utc
from core.plate_errors import InvalidOfficeSetting, OfficeNotInYourRegion
from core.plates import OFFICE_LETTERS, PROVINCES, PROVINCES_PINYIN, display, parse_pattern
from core.regions import get_region

# Categories that may only pre-select at an office of their own certificate location.
LOCAL_ONLY = frozenset({Category.NEW_CAR_OWNER, Category.STUDENT, Category.UNIT})

# The settings staff may change (``platebot staff office set``), with their bounds.
LIMITS: dict[str, tuple[int, int]] = {
    "self_choice_allowance": (0, 1000),
    "batch_allowance": (0, 1000),
    "batch_size": (1, 30),
    "candidates_per_check": (1, 10),
    "validity_working_days": (1, 30),
}


@dataclass(eq=False)
class Office:
    """A vehicle management office and its pre-selection rules."""

    province: str
    letter: str
    name: str
    region_code: str
    address: str = ""
    opens: time = time(9, 0)
    closes: time = time(21, 0)
    notice: str = ""
    notice_en: str = ""
    name_en: str = ""
    address_en: str = ""
    self_choice_allowance: int = 20
    batch_allowance: int = 5
    batch_size: int = 10
    candidates_per_check: int = 5
    validity_working_days: int = 3
    patterns: list[str] = field(default_factory=list)
    id: int | None = None

    @property
    def code(self) -> str:
        """``粤D``: the province character and the office letter."""
        return self.province + self.letter

    def code_in(self, language: Language) -> str:
        """``粤D``; in English ``Yue D`` (the province's one-character name in pinyin)."""
        if language is not Language.EN:
            return self.code
        return f"{PROVINCES_PINYIN.get(self.province, self.province)} {self.letter}"

    def name_in(self, language: Language) -> str:
        """The name in ``language``; in English staff's, else one made from the region's."""
        if language is not Language.EN:
            return self.name
        return self.name_en or f"{get_region(self.region_code).city_en} Vehicle Management Office"

    def address_in(self, language: Language) -> str:
        """The address in ``language`` where staff gave one (else as it is)."""
        return (self.address_en or self.address) if language is Language.EN else self.address

    def plate(self, serial: str) -> str:
        return display(self.province, self.letter, serial)

    def is_open(self, now: datetime) -> bool:
        """Inside the selection hours (office time)."""
        local = as_utc(now).astimezone(OFFICE_TZ).time()
        return self.opens <= local < self.closes

    def validate(self) -> None:
        """Refuse settings that make no sense, naming the first wrong one."""
        if len(self.province) != 1 or self.province not in PROVINCES:
            raise InvalidOfficeSetting(setting="province", value=self.province)
        if len(self.letter) != 1 or self.letter not in OFFICE_LETTERS:
            raise InvalidOfficeSetting(setting="letter", value=self.letter)
        get_region(self.region_code)
        if not self.name.strip():
            raise InvalidOfficeSetting(setting="name", value="")
        if not self.opens < self.closes:
            raise InvalidOfficeSetting(setting="hours", value=f"{self.opens}-{self.closes}")
        for name, (low, high) in LIMITS.items():
            value = getattr(self, name)
            if not low <= value <= high:
                raise InvalidOfficeSetting(setting=name, value=value)
        self.patterns = [parse_pattern(p) for p in self.patterns]


def parse_hours(text: str) -> tuple[time, time]:
    """``09:00-21:00`` → (09:00, 21:00)."""
    try:
        first, last = (part.strip() for part in text.replace("–", "-").split("-"))
        return time.fromisoformat(first), time.fromisoformat(last)
    except ValueError as exc:
        raise InvalidOfficeSetting(setting="hours", value=text[:20]) from exc


def may_choose(account: Account, office: Office) -> bool:
    """New-car owners, students and units choose only offices of their certificate location;
    existing car owners/drivers and window users may choose any office."""
    if account.window_user or account.category not in LOCAL_ONLY:
        return True
    return account.region_code == office.region_code


def check_may_choose(account: Account, office: Office) -> None:
    if not may_choose(account, office):
        raise OfficeNotInYourRegion(office=office.code)


def offices_for(account: Account, offices: Iterable[Office]) -> list[Office]:
    """The offices ``account`` may choose, own certificate location first."""
    allowed = [office for office in offices if may_choose(account, office)]
    return sorted(allowed, key=lambda o: (o.region_code != account.region_code, o.code))


# -- working days ----------------------------------------------------------------------------


def is_working_day(day: date, holidays: Collection[date]) -> bool:
    return day.weekday() < 5 and day not in holidays


def add_working_days(day: date, count: int, holidays: Collection[date]) -> date:
    """The ``count``-th working day after ``day`` (weekends and ``holidays`` skipped)."""
    current, left = day, count
    while left > 0:
        current += timedelta(days=1)
        if is_working_day(current, holidays):
            left -= 1
    return current


def validity_deadline(
    selected_at: datetime, working_days: int, holidays: Collection[date]
) -> datetime:
    """The moment a pre-selection lapses: the end (midnight, office time) of the
    ``working_days``-th working day after the day of selection."""
    day = as_utc(selected_at).astimezone(OFFICE_TZ).date()
    last = add_working_days(day, working_days, holidays)
    end = datetime.combine(last + timedelta(days=1), time(0, 0), tzinfo=OFFICE_TZ)
    return as_utc(end)


def last_valid_day(deadline: datetime) -> date:
    """The last day a deadline still counts (office time)."""
    return (as_utc(deadline) - timedelta(microseconds=1)).astimezone(OFFICE_TZ).date()


def holiday_window(selected_at: datetime, working_days: int) -> tuple[date, date]:
    """Dates between which holidays can matter for a deadline (generous: weeks of holidays)."""
    day = as_utc(selected_at).astimezone(OFFICE_TZ).date()
    return day, day + timedelta(days=working_days * 7 + 60)
