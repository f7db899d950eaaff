"""A refused setting is named in words staff understand, in their language, with what they
gave (``{setting:setting}``, ``{value:given}``): "竞价期的报名时间（…）无效", not the name
"signup" and an empty "（）"."""

from __future__ import annotations

import pytest

from core.accounts import Language
from core.office_admin import CHANGEABLE
from core.offices import LIMITS
from dialogs.catalog import CATALOGS, render_text
from dialogs.replies import Text


@pytest.mark.parametrize(
    ("language", "params", "shown"),
    [
        (
            Language.ZH,
            {"setting": "signup", "value": ""},
            "竞价期的报名时间无效（报名开始早于截止，截止不晚于开拍），请改正后再试。",
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


def test_an_office_setting_is_named_in_words_with_its_range() -> None:
    params: dict[str, str | int] = {"setting": "validity_working_days", "value": 99}
    text = render_text(Text("error.office.setting_invalid", params), Language.ZH)
    assert text == "选号有效期（工作日）“99”无效（1至30），请改正后再试。"


def test_every_office_setting_staff_can_change_has_words_in_both_languages() -> None:
    names = set(LIMITS) | (CHANGEABLE - {"notice", "notice_en", "name_en", "address", "address_en"})
    for language in Language:
        missing = {name for name in names if f"setting.{name}" not in CATALOGS[language]}
        assert not missing, (language, missing)
