"""Global keywords (SPEC §11): they work in every state, in both languages and any case."""

from __future__ import annotations

import enum
import unicodedata


class Keyword(enum.Enum):
    MENU = "menu"
    BACK = "back"
    CANCEL = "cancel"
    HELP = "help"
    LANGUAGE = "language"
    ENGLISH = "english"
    CHINESE = "chinese"


_WORDS: dict[str, Keyword] = {
    "menu": Keyword.MENU,
    "菜单": Keyword.MENU,
    "start": Keyword.MENU,
    "主菜单": Keyword.MENU,
    "back": Keyword.BACK,
    "返回": Keyword.BACK,
    "上一步": Keyword.BACK,
    "cancel": Keyword.CANCEL,
    "取消": Keyword.CANCEL,
    "help": Keyword.HELP,
    "帮助": Keyword.HELP,
    "?": Keyword.HELP,
    "lang": Keyword.LANGUAGE,
    "language": Keyword.LANGUAGE,
    "语言": Keyword.LANGUAGE,
    "en": Keyword.ENGLISH,
    "english": Keyword.ENGLISH,
    "中文": Keyword.CHINESE,
    "zh": Keyword.CHINESE,
    "chinese": Keyword.CHINESE,
}


def clean_input(text: str) -> str:
    """What a user typed, without the characters nobody types on purpose and that would be
    echoed back unseen (format characters: bidi overrides, zero-width spaces and joiners, the
    BOM), and with each lone surrogate (a byte a console could not decode; no channel can send
    one) shown as the replacement character ``�``."""
    if text.isascii():
        return text
    return "".join(_SHOWN.get(unicodedata.category(ch), ch) for ch in text)


_SHOWN = {"Cf": "", "Cs": "\ufffd"}


def is_number(word: str) -> bool:
    """Plain digits 0-9 only: ``isdigit()`` also holds for ``❶``, ``፩`` and ``²``, which
    ``int()`` refuses."""
    return word.isascii() and word.isdigit()


def normalise(text: str) -> str:
    """Full-width to half-width, surrounding space dropped, case folded."""
    return unicodedata.normalize("NFKC", text).strip().casefold()


END_MARKS = " .,;:!?'\"。，；：！？、"  # punctuation typed around words, left out when matching


def match_keyword(text: str) -> Keyword | None:
    """``/Menu``, ``MENU``, ``菜单``, ``／menu@platebot``, ``Menu.`` → ``Keyword.MENU`` (``?`` is
    a keyword as it is; punctuation around a word is left out)."""
    word = normalise(text)
    if len(word) > 24:
        return None
    if word.startswith("/"):
        word = word[1:].split("@", 1)[0]
    found = _WORDS.get(word)
    return found if found is not None else _WORDS.get(word.strip(END_MARKS))
