"""Words the SMS channel answers itself (SPEC §11), in both languages and any case."""

from __future__ import annotations

import pytest

from sms.keywords import SmsWord, sms_word


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("STOP", SmsWord.STOP),
        ("stop", SmsWord.STOP),
        (" Stop ", SmsWord.STOP),
        ("退订", SmsWord.STOP),
        ("STOPALL", SmsWord.STOP),
        ("Unsubscribe", SmsWord.STOP),
        ("END", SmsWord.STOP),
        ("QUIT", SmsWord.STOP),
        ("START", SmsWord.START),
        ("unstop", SmsWord.START),
        ("ＳＴＡＲＴ", SmsWord.START),  # full-width, as some phones send it
        ("HELP", SmsWord.HELP),
        ("帮助", SmsWord.HELP),
        ("info", SmsWord.HELP),
        ("N", SmsWord.MORE),
        ("更多", SmsWord.MORE),
        ("CANCEL", None),  # stops the dialog, not the SMS
        ("?", None),  # help for the current step, from the dialogs
        ("stop it", None),
        ("1", None),
    ],
)
def test_words(text: str, word: SmsWord | None) -> None:
    assert sms_word(text) is word


def test_twilios_opt_out_type_wins_over_the_words() -> None:
    assert sms_word("CANCEL", "STOP") is SmsWord.STOP
    assert sms_word("YES", "START") is SmsWord.START
    assert sms_word("whatever", "help") is SmsWord.HELP
    assert sms_word("STOP", "") is SmsWord.STOP
