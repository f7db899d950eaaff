"""Message catalogs: every user-facing text, in zh (default) and en.

Each area keeps its texts in a pair of modules, ``<area>_zh.py`` and ``<area>_en.py``, each with a
``MESSAGES`` dict; they are merged here. A key defined twice is an error, and a test checks that
both languages have the same keys and placeholders.

A word that depends on a number takes its form by the language's CLDR plural rules (Babel's):
``{left} {left:plural:one=try;other=tries} left`` gives "1 try left", "2 tries left". An amount
in fen written ``{amount:yuan}`` is shown as users read money, ``¥5,000`` (so a notice written in
core carries the number, and the catalog its form). A refusal's setting, ``{setting:setting}``,
is shown in words (``setting.<name>``; else its name), ``{setting:rule}`` is `` (what it must
be)`` where the catalog says it (``setting_rule.<name>``), and ``{value:given}`` is
`` "value"`` (``“value”``), or nothing for an empty value.

A channel may word a text its own way: ``sms/<key>`` (shorter, for SMS and the console, where
every character costs) and ``telegram/<key>`` (buttons are pressed, nothing is "replied") are
taken over ``<key>`` when that channel renders. The variants live in the channel's catalog
modules (``sms_*.py``, ``telegram_*.py``) and use the placeholders of ``<key>``.

A text rendered for a channel is what a user reads there (SMS, Telegram, the console): in
English every plate in it is written ``Yue D 12345``, not ``粤D·12345`` as it is kept and as
flows and core pass it (``core.plates.plates_in_text``), so that an English SMS stays in
the GSM-7 alphabet (SPEC §13) whatever list or parameter the plate came in. Staff pages and
commands render without a channel and keep the Chinese form.
"""

from __future__ import annotations

import importlib
import pkgutil
import string
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from babel import Locale

from core.accounts import Language
from core.plates import plates_in_text
from dialogs.money import format_yuan
from dialogs.replies import Text


def _load() -> dict[Language, dict[str, str]]:
    merged: dict[Language, dict[str, str]] = {language: {} for language in Language}
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        area, _, suffix = module_info.name.rpartition("_")
        if not area or suffix not in {language.value for language in Language}:
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        messages: dict[str, str] = module.MESSAGES
        target = merged[Language(suffix)]
        clash = target.keys() & messages.keys()
        if clash:
            raise RuntimeError(f"catalog keys defined twice: {sorted(clash)}")
        target.update(messages)
    return merged


CATALOGS: Mapping[Language, Mapping[str, str]] = MappingProxyType(
    {language: MappingProxyType(messages) for language, messages in _load().items()}
)


_LOCALES = {Language.ZH: Locale.parse("zh_CN"), Language.EN: Locale.parse("en")}
_PLURAL = ":plural:"
_SPECS = (
    _PLURAL,
    ":yuan}",
    ":setting}",
    ":rule}",
    ":given}",
)  # a text with one takes the formatter


class _PluralFormatter(string.Formatter):
    """``str.format`` plus the formats of the module's docstring: ``plural:``, ``yuan``,
    ``setting`` and ``given``."""

    def __init__(self, language: Language) -> None:
        self.language = language
        self.locale = _LOCALES[language]

    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec == "yuan":
            return format_yuan(int(value))
        if format_spec == "setting":
            return CATALOGS[self.language].get(f"setting.{value}", str(value))
        if format_spec == "rule":
            rule = CATALOGS[self.language].get(f"setting_rule.{value}")
            if rule is None:
                return ""
            return f"（{rule}）" if self.language is Language.ZH else f" ({rule})"
        if format_spec == "given":
            if value in ("", None):
                return ""
            return f"“{value}”" if self.language is Language.ZH else f' "{value}"'
        if not format_spec.startswith("plural:"):
            return str(super().format_field(value, format_spec))
        forms = dict(form.split("=", 1) for form in format_spec[len("plural:") :].split(";"))
        return forms.get(self.locale.plural_form(value), forms["other"])


_FORMATTERS = {language: _PluralFormatter(language) for language in _LOCALES}


def render_text(text: Text, language: Language, channel: str | None = None) -> str:
    """Fill a catalog text, in ``channel``'s wording where it has its own, with its plates in
    the form ``language`` shows a user (see the module's docstring) when rendered for a
    channel. A parameter named ``x_key`` is itself a catalog key, rendered into ``{x}`` (so a
    category or a language name is translated too)."""
    catalog = CATALOGS[language]

    def look_up(key: str) -> str:
        if channel is not None:
            variant = catalog.get(f"{channel}/{key}")
            if variant is not None:
                return variant
        return catalog[key]

    params: dict[str, str | int] = {}
    for name, value in text.params.items():
        if name.endswith("_key"):
            params[name[:-4]] = look_up(str(value))
        else:
            params[name] = value
    template = look_up(text.key)
    if any(spec in template for spec in _SPECS):
        rendered = _FORMATTERS[language].vformat(template, (), params)
    else:
        rendered = template.format(**params)
    return rendered if channel is None else plates_in_text(rendered, language)
