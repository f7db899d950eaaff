"""Identity documents are checked as the standards say (SPEC §2)."""

from __future__ import annotations

from datetime import date

import pytest
from stdnum.cn import ric

from core import errors
from core.identity import (
    organisation_check_digit,
    validate_address,
    validate_name,
    validate_permit_number,
    validate_resident_id,
    validate_unit_code,
)

TODAY = date(2026, 11, 21)


def test_resident_id_with_right_check_digit_is_accepted_in_any_typing() -> None:
    assert validate_resident_id("4403 0419 9001 0112 33", today=TODAY) == "440304199001011233"
    assert validate_resident_id("11010519491231002x", today=TODAY) == "11010519491231002X"
    assert (
        validate_resident_id("１１０１０５１９４９１２３１００２Ｘ", today=TODAY)
        == "11010519491231002X"
    )


@pytest.mark.parametrize(
    ("number", "error"),
    [
        ("440304199001011235", errors.IdChecksumWrong),
        ("440304199002301232", errors.IdBirthDateImpossible),  # 30 February
        ("440304203001011232", errors.IdBirthDateImpossible),  # born in 2030
        ("44030419900101123", errors.InvalidIdNumber),  # 17 characters
        ("44030419900101123Y", errors.InvalidIdNumber),
        ("", errors.InvalidIdNumber),
    ],
)
def test_bad_resident_id_is_refused_with_the_reason(
    number: str, error: type[errors.DomainError]
) -> None:
    with pytest.raises(error):
        validate_resident_id(number, today=TODAY)


def test_birth_date_of_today_is_possible_and_tomorrow_is_not() -> None:
    born_today = "44030420261121001"
    born_today += ric.calc_check_digit(born_today + "0")
    assert validate_resident_id(born_today, today=TODAY) == born_today
    with pytest.raises(errors.IdBirthDateImpossible):
        validate_resident_id(born_today, today=date(2026, 11, 20))


def test_unified_social_credit_code_is_checked_by_gb_32100() -> None:
    assert validate_unit_code("91440300ma5f0a0b1x") == "91440300MA5F0A0B1X"
    with pytest.raises(errors.UnitCodeChecksumWrong):
        validate_unit_code("91440300MA5F0A0B1Y")
    with pytest.raises(errors.InvalidUnitCode):
        validate_unit_code("91440300MA5F0A0BIX")  # I is not in the alphabet


def test_legacy_organisation_code_is_checked_by_gb_11714() -> None:
    assert organisation_check_digit("D2143569") == "X"
    assert validate_unit_code("D2143569-X") == "D2143569X"
    with pytest.raises(errors.UnitCodeChecksumWrong):
        validate_unit_code("D21435691")
    with pytest.raises(errors.InvalidUnitCode):
        validate_unit_code("D2143569")


def test_permit_number_takes_letters_and_digits_only() -> None:
    assert validate_permit_number("sz-2024 00123") == "SZ202400123"
    for bad in ("12345", "SZ2024#001", "粤2024001"):
        with pytest.raises(errors.InvalidPermitNumber):
            validate_permit_number(bad)


def test_names_and_addresses_are_tidied_and_bounded() -> None:
    assert validate_name("  张   三 ") == "张 三"
    assert validate_address("深圳市 福田区\t1号") == "深圳市 福田区 1号"
    for bad in ("", "12345", "a\x00b", "x" * 61):
        with pytest.raises(errors.InvalidName):
            validate_name(bad)
    with pytest.raises(errors.InvalidAddress):
        validate_address("1号")
