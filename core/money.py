"""Money as users read it: integer fen shown in yuan, ``¥12,000`` (``¥12,000.50`` with fen).

The yuan sign is the same in both languages (Babel's English ``CN¥`` is for readers abroad; ours
read prices of a Chinese office), and ``¥`` is in the GSM-7 alphabet, so English SMS stay cheap.
In core so that notices written by core (an outbid price) show money as the dialogs do.
"""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency


def format_yuan(fen: int) -> str:
    pattern = "¤#,##0" if fen % 100 == 0 else "¤#,##0.00"
    return format_currency(
        Decimal(fen) / 100, "CNY", format=pattern, locale="zh_Hans_CN", currency_digits=False
    )
