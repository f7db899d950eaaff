"""Plate numbers (SPEC §3): formats per kind, forgiving input, self-choice patterns, pool loads."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.plate_errors import (
    InvalidPattern,
    InvalidPlateNumber,
    PatternNotAllowed,
    UnknownPlateKind,
)
from core.plates import (
    LETTERS,
    SERIAL_ALPHABET,
    PlateKind,
    check_self_choice,
    clean_serial,
    display,
    expand_pattern,
    expand_range,
    is_serial_of,
    matches,
    parse_kind,
    parse_pattern,
    parse_serial,
    split_candidates,
)
from core.pools import serials_from_csv, serials_to_load

K = PlateKind


@pytest.mark.parametrize(
    ("kind", "serial"),
    [
        (K.SMALL, "12345"),
        (K.SMALL, "AB123"),
        (K.SMALL, "1A2B3"),
        (K.LARGE, "Z9999"),
        (K.SMALL_NEV, "D12345"),
        (K.SMALL_NEV, "FA1234"),
        (K.SMALL_NEV, "D91234"),
        (K.LARGE_NEV, "12345D"),
        (K.LARGE_NEV, "00001F"),
    ],
)
def test_serials_of_each_kind_are_accepted(kind: PlateKind, serial: str) -> None:
    assert parse_serial(kind, serial) == serial


@pytest.mark.parametrize(
    ("kind", "typed"),
    [
        (K.SMALL, "ABC12"),  # three letters
        (K.SMALL, "1234"),
        (K.SMALL, "123456"),
        (K.SMALL, "I1234"),  # I is never used
        (K.SMALL, "O1234"),  # nor O
        (K.SMALL_NEV, "A12345"),  # must start with D or F
        (K.SMALL_NEV, "D1234A"),
        (K.SMALL_NEV, "DI1234"),
        (K.LARGE_NEV, "1234DD"),
        (K.LARGE_NEV, "D12345"),
        (K.SMALL, "１２３４５６"),
        (K.SMALL, ""),
    ],
)
def test_malformed_serials_are_refused_naming_the_format(kind: PlateKind, typed: str) -> None:
    with pytest.raises(InvalidPlateNumber) as refused:
        parse_serial(kind, typed)
    assert refused.value.params["format_key"] == f"plate.format.{kind.value}"


@pytest.mark.parametrize(
    "typed", ["ab123", "ＡＢ１２３", " AB 123 ", "AB·123", "粤D·AB123", "粤d ab123", "ab-123"]
)
def test_input_is_forgiving_about_width_case_spaces_and_prefix(typed: str) -> None:
    assert parse_serial(K.SMALL, typed) == "AB123"


@pytest.mark.parametrize(
    "typed",
    ["Yue D AB123", "yue d ab123", "YUE D·AB123", "Yue D AB123 ", "Yue DAB123", "Jing A ab123"],
)
def test_a_plate_typed_as_english_screens_write_it_is_read_too(typed: str) -> None:
    """English screens show ``Yue D 12345`` (SPEC §13): typed back, it is that serial."""
    assert parse_serial(K.SMALL, typed) == "AB123"
    assert parse_serial(K.SMALL_NEV, "Yue D D12345") == "D12345"
    assert clean_serial("EA123") == "EA123"  # a serial of its own, not the province E (鄂)
    assert clean_serial("E A123") == "EA123"  # nor with a space: 123 is no serial


def test_display_puts_province_office_letter_and_dot() -> None:
    assert display("粤", "D", "12345") == "粤D·12345"
    assert clean_serial(display("粤", "D", "D12345")) == "D12345"


def test_candidates_split_on_spaces_and_commas_in_either_width() -> None:
    assert split_candidates("12345, ab123；粤D·3K2J8、 10000") == [
        "12345",
        "ab123",
        "粤D·3K2J8",
        "10000",
    ]
    assert split_candidates("Yue D 12345, yue d ab123 10000") == ["12345", "ab123", "10000"]


def test_letters_exclude_i_and_o() -> None:
    assert "I" not in LETTERS and "O" not in LETTERS and len(LETTERS) == 24


@given(st.text(alphabet=SERIAL_ALPHABET, min_size=5, max_size=5))
def test_ordinary_serial_is_valid_exactly_when_it_has_at_most_two_letters(serial: str) -> None:
    letters = sum(ch in LETTERS for ch in serial)
    assert is_serial_of(K.SMALL, serial) is (letters <= 2)


def test_plate_kinds_are_read_in_either_language() -> None:
    assert parse_kind("小型新能源汽车") is K.SMALL_NEV
    assert parse_kind("LARGE") is K.LARGE
    with pytest.raises(UnknownPlateKind):
        parse_kind("tractor")


# -- self-choice patterns ----------------------------------------------------------------


def test_pattern_letters_mean_letter_digit_and_anything() -> None:
    assert matches("LLDDD", "AB123")
    assert not matches("LLDDD", "A1123")
    assert matches("*DDDD", "A1234") and matches("*DDDD", "91234")
    assert matches("8DDDD", "81234") and not matches("8DDDD", "91234")


def test_self_choice_must_match_one_of_the_office_patterns() -> None:
    check_self_choice(K.SMALL, "AB123", ["LLDDD", "DDDDD"])
    check_self_choice(K.SMALL, "12345", ["LLDDD", "DDDDD"])
    with pytest.raises(PatternNotAllowed):
        check_self_choice(K.SMALL, "A1234", ["LLDDD", "DDDDD"])


def test_without_patterns_any_ordinary_serial_is_a_valid_self_choice() -> None:
    check_self_choice(K.SMALL, "A1B23", [])


def test_new_energy_numbers_ignore_ordinary_patterns() -> None:
    check_self_choice(K.SMALL_NEV, "D12345", ["LLDDD"])


@pytest.mark.parametrize("typed", ["LLD", "LLDDDD", "AB!23", "IDDDD"])
def test_malformed_patterns_are_refused(typed: str) -> None:
    with pytest.raises(InvalidPattern):
        parse_pattern(typed)


# -- loading pools -------------------------------------------------------------------------


def test_range_counts_up_the_numeric_part_keeping_letters() -> None:
    assert list(expand_range(K.SMALL, "A0998", "A1001")) == ["A0998", "A0999", "A1000", "A1001"]
    assert list(expand_range(K.SMALL_NEV, "D00009", "D00011")) == ["D00009", "D00010", "D00011"]
    assert list(expand_range(K.LARGE_NEV, "00001D", "00002D")) == ["00001D", "00002D"]


@pytest.mark.parametrize(("first", "last"), [("A1000", "B1000"), ("10010", "10001")])
def test_ranges_of_different_shapes_or_backwards_are_refused(first: str, last: str) -> None:
    with pytest.raises(InvalidPattern):
        list(expand_range(K.SMALL, first, last))


def test_pattern_expands_to_every_serial_it_stands_for() -> None:
    found = list(expand_pattern("LDDD8"))
    assert len(found) == 24 * 1000
    assert found[0] == "A0008" and "Z9998" in found


def test_pool_load_combines_ranges_patterns_and_serials_minus_held_back_numbers() -> None:
    kept, excluded = serials_to_load(
        K.SMALL,
        ranges=["88880-88889"],
        patterns=["AB12D"],
        serials=["ab123", "12345"],
        exclude=["88888", "粤D·AB129"],
    )
    assert "88888" not in kept and "AB129" not in kept
    assert excluded == 2
    assert len(kept) == len(set(kept)) == 10 + 10 + 1 - 2  # AB123 twice counts once


def test_csv_of_serials_skips_a_header() -> None:
    assert serials_from_csv("serial\n12345\n ab123 ,x\n\n") == ["12345", "ab123"]
