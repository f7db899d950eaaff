"""Message catalogs: every user-facing text, in zh (default) and en."""

from __future__ import annotations

from collections.abc import Mapping

from core.accounts import Language
from dialogs.catalog import en, zh
from dialogs.replies import Text

CATALOGS: Mapping[Language, Mapping[str, str]] = {
    Language.ZH: zh.MESSAGES,
    Language.EN: en.MESSAGES,
}


def render_text(text: Text, language: Language) -> str:
    """Fill a catalog text. A parameter named ``x_key`` is itself a catalog key, rendered into
    ``{x}`` (so a category or a language name is translated too)."""
    catalog = CATALOGS[language]
    params: dict[str, str | int] = {}
    for name, value in text.params.items():
        if name.endswith("_key"):
            params[name[:-4]] = catalog[str(value)]
        else:
            params[name] = value
    return catalog[text.key].format(**params)
