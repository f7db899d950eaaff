"""Words the SMS channel answers itself, before the dialogs see a message (SPEC §11).

``STOP``/``退订`` and Twilio's other opt-out words opt the number out of everything; ``START``
opts it back in; ``HELP``/``帮助`` says what the service is, how to stop, and that ``?`` gives
help for the current step (the dialogs answer ``?``); ``N`` shows the next page of a long
reply. ``CANCEL`` is not an opt-out word here: it stops the current dialog (SPEC §11). When
Twilio's Advanced Opt-Out runs on the number, Twilio says what it did in the ``OptOutType``
field, and that wins.
"""

from __future__ import annotations

import enum

from dialogs.keywords import normalise


class SmsWord(enum.Enum):
    STOP = "stop"
    START = "start"
    HELP = "help"
    MORE = "more"


_WORDS: dict[str, SmsWord] = {
    **dict.fromkeys(
        ("stop", "stopall", "unsubscribe", "end", "quit", "revoke", "optout", "退订"),
        SmsWord.STOP,
    ),
    **dict.fromkeys(("start", "unstop", "订阅"), SmsWord.START),
    **dict.fromkeys(("help", "info", "帮助"), SmsWord.HELP),
    **dict.fromkeys(("n", "more", "更多", "下一页"), SmsWord.MORE),
}

_OPT_OUT_TYPES = {"STOP": SmsWord.STOP, "START": SmsWord.START, "HELP": SmsWord.HELP}


def sms_word(text: str, opt_out_type: str | None = None) -> SmsWord | None:
    """``' Stop '`` → STOP; Twilio's ``OptOutType`` (STOP, START, HELP) decides when given."""
    if opt_out_type:
        told = _OPT_OUT_TYPES.get(opt_out_type.strip().upper())
        if told is not None:
            return told
    word = normalise(text)
    return _WORDS.get(word) if len(word) <= 12 else None
