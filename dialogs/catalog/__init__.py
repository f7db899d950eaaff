"""Message catalogs: every user-facing text, in zh (default) and en.

Each area keeps its texts in a pair of modules, ``<area>_zh.py`` and ``<area>_en.py``, each with a
``MESSAGES`` dict; they are merged here. A key defined twice is an error, and a test checks that
both languages have the same keys and placeholders.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from types import MappingProxyType

from core.accounts import Language
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
