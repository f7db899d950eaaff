"""The auction room's short commands (SPEC §7, §11), as SMS and console users type them, in
both languages and any case (full-width characters too): ``B 2000`` / ``出价 2000`` raises the
current lot by ¥2,000 (``B`` alone: bids the starting price of a lot with no bid); ``S`` /
``状态`` the status of my lots; ``L`` / ``拍品`` the lots (``L 2``: make lot 2 the current one);
``MAX 30000`` / ``最高 30000`` bids automatically up to ¥30,000 (``MAX 0``: stop)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.auctions import YUAN
from dialogs.keywords import normalise


@dataclass(frozen=True, slots=True)
class Command:
    verb: str  # bid, status, lots, max
    # bid: the increment (None: the starting price); max: the maximum; lots: the lot's number
    yuan: int | None = None


MAX_DIGITS = 12  # yuan: more than any plate fetches, far within the store's integers
_AMOUNT = r"\s*[¥￥]?\s*([0-9][0-9,]{0,15})\s*(?:元|yuan)?"
_PATTERNS = (
    ("bid", re.compile(rf"^(?:b|bid|出价)(?:{_AMOUNT})?$")),
    ("max", re.compile(rf"^(?:max|最高){_AMOUNT}$")),
    ("lots", re.compile(r"^(?:l|lots|拍品)(?:\s*([0-9]{1,3}))?$")),
    ("status", re.compile(r"^(?:s|status|状态)$")),
)


def parse_command(text: str) -> Command | None:
    word = normalise(text)
    if len(word) > 24:
        return None
    for verb, pattern in _PATTERNS:
        match = pattern.match(word)
        if match is None:
            continue
        number = (match.group(1) or "").replace(",", "") if match.groups() else ""
        if len(number) > MAX_DIGITS:
            return None
        return Command(verb, int(number) if number else None)
    return None


def fen(yuan: int) -> int:
    return yuan * YUAN
