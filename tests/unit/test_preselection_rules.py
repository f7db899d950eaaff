"""Rules of pre-selection without a database: VINs, offices, working days, deadlines,
allowances, the blacklist's two years (SPEC §4)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from core.accounts import Account, Category, Language, PersonDetails
from core.clock import OFFICE_TZ
from core.offices import (
    Office,
    add_working_days,
    last_valid_day,
    may_choose,
    offices_for,
    parse_hours,
    validity_deadline,
)
from core.plate_errors import (
    InvalidOfficeSetting,
    InvalidVin,
    NoBatchesLeft,
    NoSelfChoiceLeft,
    PreselectionLapsed,
    SelectionSessionEnded,
    TooManyCandidates,
    VinChecksumWrong,
)
from core.plates import PlateKind
from core.preselection import Preselection, PreselectionState, SelectionSession, two_years_after
from core.registry import validate_vin, vin_check_digit

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=OFFICE_TZ).astimezone(UTC)


# -- VINs -----------------------------------------------------------------------------------


def test_vin_check_digit_follows_iso_3779() -> None:
    assert vin_check_digit("1M8GDM9A_KP042788".replace("_", "0")) == "X"
    assert validate_vin("1M8GDM9AXKP042788") == "1M8GDM9AXKP042788"
    assert validate_vin("11111111111111111") == "11111111111111111"


def test_vin_input_is_forgiving() -> None:
    assert validate_vin(" 1m8gdm9axkp042788 ") == "1M8GDM9AXKP042788"
    assert validate_vin("１M8GDM9AXKP 042788") == "1M8GDM9AXKP042788"


@pytest.mark.parametrize("typed", ["1M8GDM9AXKP04278", "1M8GDM9AXKP0427888", "1M8GDM9AXKP04278O"])
def test_vin_of_wrong_length_or_with_i_o_q_is_refused(typed: str) -> None:
    with pytest.raises(InvalidVin):
        validate_vin(typed)


def test_vin_with_a_wrong_check_digit_is_refused() -> None:
    with pytest.raises(VinChecksumWrong):
        validate_vin("1M8GDM9A1KP042788")


# -- offices ----------------------------------------------------------------------------------


def office(**changes: object) -> Office:
    values: dict[str, object] = {
        "province": "粤",
        "letter": "D",
        "name": "汕头市车辆管理所",
        "region_code": "4405",
    }
    values.update(changes)
    return Office(**values)  # type: ignore[arg-type]


def account(category: Category, region: str = "4405", window: bool = False) -> Account:
    found = Account.for_person(
        phone="+8613800138000",
        details=PersonDetails("张三", "440304199001011233", region, "汕头市某路1号", category),
        language=Language.ZH,
        now=NOW,
    )
    found.window_user = window
    return found


def test_office_defaults_are_specs() -> None:
    o = office()
    assert (o.opens, o.closes) == (time(9), time(21))
    assert (o.self_choice_allowance, o.batch_allowance, o.batch_size) == (20, 5, 10)
    assert (o.candidates_per_check, o.validity_working_days) == (5, 3)
    assert o.code == "粤D" and o.plate("12345") == "粤D·12345"


def test_selection_hours_are_office_time() -> None:
    o = office()
    assert o.is_open(local(2026, 11, 23, 9, 0))
    assert o.is_open(local(2026, 11, 23, 20, 59))
    assert not o.is_open(local(2026, 11, 23, 21, 0))
    assert not o.is_open(local(2026, 11, 23, 8, 59))


@pytest.mark.parametrize(
    "changes",
    [
        {"letter": "I"},
        {"letter": "DD"},
        {"province": "X"},
        {"region_code": "9999"},
        {"batch_size": 0},
        {"self_choice_allowance": -1},
        {"opens": time(21), "closes": time(9)},
        {"patterns": ["LLLDD5"]},
    ],
)
def test_office_settings_that_make_no_sense_are_refused(changes: dict[str, object]) -> None:
    with pytest.raises(Exception) as refused:
        office(**changes).validate()
    assert refused.type.__name__ in {"InvalidOfficeSetting", "UnknownRegion", "InvalidPattern"}


def test_hours_are_read_from_text() -> None:
    assert parse_hours("08:30-17:30") == (time(8, 30), time(17, 30))
    with pytest.raises(InvalidOfficeSetting):
        parse_hours("nine to five")


@pytest.mark.parametrize(
    ("category", "window", "own_only"),
    [
        (Category.NEW_CAR_OWNER, False, True),
        (Category.STUDENT, False, True),
        (Category.EXISTING_OWNER, False, False),
        (Category.NEW_CAR_OWNER, True, False),
    ],
)
def test_who_may_choose_offices_of_other_regions(
    category: Category, window: bool, own_only: bool
) -> None:
    shantou, shenzhen = office(), office(letter="B", region_code="4403", name="深圳")
    user = account(category, window=window)
    assert may_choose(user, shantou)
    assert may_choose(user, shenzhen) is not own_only
    listed = offices_for(user, [shenzhen, shantou])
    assert listed[0] is shantou  # own certificate location first


# -- working days and deadlines ----------------------------------------------------------------


def test_working_days_skip_weekends() -> None:
    friday = date(2026, 11, 27)
    assert add_working_days(friday, 1, set()) == date(2026, 11, 30)
    assert add_working_days(friday, 3, set()) == date(2026, 12, 2)


def test_working_days_skip_staff_holidays() -> None:
    friday = date(2026, 11, 27)
    holidays = {date(2026, 11, 30), date(2026, 12, 1)}
    assert add_working_days(friday, 3, holidays) == date(2026, 12, 4)


def test_deadline_is_the_end_of_the_last_working_day_in_office_time() -> None:
    selected = local(2026, 11, 27, 20, 30)  # Friday evening
    deadline = validity_deadline(selected, 3, {date(2026, 12, 1)})
    assert deadline == local(2026, 12, 4)  # Thursday 3 Dec is the last valid day
    assert last_valid_day(deadline) == date(2026, 12, 3)


def test_two_years_later_keeps_the_date_or_takes_the_28th() -> None:
    assert two_years_after(NOW) == NOW.replace(year=2028)
    leap = datetime(2028, 2, 29, 12, tzinfo=UTC)
    assert two_years_after(leap) == datetime(2030, 2, 28, 12, tzinfo=UTC)


# -- allowances ----------------------------------------------------------------------------------


def preselection(self_left: int = 20, batches: int = 5) -> Preselection:
    return Preselection(
        account_id=1,
        office_id=1,
        vin="LGBH52E08NY000001",
        plate_kind=PlateKind.SMALL,
        owner_id="440304199001011233",
        self_choice_left=self_left,
        batches_left=batches,
        created_at=NOW,
    )


def test_a_batch_costs_one_and_none_left_blocks_random_choice() -> None:
    p = preselection(batches=1)
    p.spend_batch()
    assert p.batches_left == 0 and p.has_chances
    with pytest.raises(NoBatchesLeft):
        p.spend_batch()


def test_candidates_are_limited_by_the_check_size_and_by_what_is_left() -> None:
    p = preselection(self_left=3)
    with pytest.raises(TooManyCandidates) as refused:
        p.check_candidates(4, per_check=5)
    assert refused.value.params == {"maximum": 3}
    p.check_candidates(3, per_check=5)
    p.spend_self_choice(3)
    with pytest.raises(NoSelfChoiceLeft):
        p.check_candidates(1, per_check=5)


def test_both_allowances_at_zero_leave_no_chances() -> None:
    assert not preselection(self_left=0, batches=0).has_chances


def test_confirmation_after_the_deadline_is_refused() -> None:
    p = preselection()
    p.select("12345", now=NOW, deadline=NOW + timedelta(days=3))
    with pytest.raises(PreselectionLapsed):
        p.confirm(NOW + timedelta(days=3))
    p.confirm(NOW + timedelta(days=2))
    assert p.state is PreselectionState.CONFIRMED


def test_an_idle_session_cannot_be_used_again() -> None:
    session = SelectionSession(1, 1, NOW, NOW + timedelta(minutes=20))
    session.touch(NOW + timedelta(minutes=19))
    assert session.expires_at == NOW + timedelta(minutes=39)
    with pytest.raises(SelectionSessionEnded):
        session.touch(NOW + timedelta(minutes=39))
