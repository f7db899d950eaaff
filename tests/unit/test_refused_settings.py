"""A refused setting is named in words staff understand, in their language, with what they
gave (``{setting:setting}``, ``{value:given}``): "竞价期的报名时间（…）无效", not the name
"signup" and an empty "（）"."""

from __future__ import annotations

import pytest

from core.accounts import Language
from dialogs.catalog import render_text
from dialogs.replies import Text


@pytest.mark.parametrize(
    ("language", "params", "shown"),
    [
        (
            Language.ZH,
            {"setting": "signup", "value": ""},
            "竞价期的报名时间（报名开始早于截止，截止不晚于开拍）无效，请改正后再试。",
        ),
        (
            Language.EN,
            {"setting": "deposit", "value": 0},
            'The period\'s deposit per share "0" is not valid: correct it and try again.',
        ),
    ],
)
def test_an_auction_setting_is_named_in_words_with_what_was_given(
    language: Language, params: dict[str, str | int], shown: str
) -> None:
    assert render_text(Text("error.auction.setting_invalid", params), language) == shown


def test_a_setting_without_words_is_named_as_staff_type_it_on_the_command_line() -> None:
    params: dict[str, str | int] = {"setting": "validity_days", "value": 99}
    text = render_text(Text("error.office.setting_invalid", params), Language.ZH)
    assert text == "validity_days“99”无效，请改正后再试。"
