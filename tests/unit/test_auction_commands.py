"""The auction room's short commands are read in both languages and any case (SPEC §7, §11)."""

from __future__ import annotations

import pytest

from dialogs.flows.auction_commands import Command, parse_command


@pytest.mark.parametrize(
    ("typed", "command"),
    [
        ("B 2000", Command("bid", 2000)),
        ("b2000", Command("bid", 2000)),
        ("出价 2000", Command("bid", 2000)),
        ("Ｂ　２０００", Command("bid", 2000)),
        ("B ¥2,000", Command("bid", 2000)),
        ("出价2000元", Command("bid", 2000)),
        ("B", Command("bid")),  # alone: the starting price of a lot with no bid
        ("出价", Command("bid")),
        ("bid", Command("bid")),
        ("S", Command("status")),
        ("s", Command("status")),
        ("状态", Command("status")),
        ("L", Command("lots")),
        ("拍品", Command("lots")),
        ("l 2", Command("lots", 2)),
        ("拍品 2", Command("lots", 2)),
        ("MAX 30000", Command("max", 30000)),
        ("max 30,000", Command("max", 30000)),
        ("最高 30000", Command("max", 30000)),
        ("MAX 0", Command("max", 0)),
    ],
)
def test_commands_in_both_languages_and_any_case(typed: str, command: Command) -> None:
    assert parse_command(typed) == command


@pytest.mark.parametrize(
    "typed", ["bid me", "1", "Bob", "B me", "出价吧", "MAX", "B 1234567890123", "L 1000", "SS", ""]
)
def test_other_text_is_not_a_command(typed: str) -> None:
    assert parse_command(typed) is None
