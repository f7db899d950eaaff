"""Money as users read it: integer fen shown in yuan, ``¥12,000`` (``¥12,000.50`` with fen).

The yuan sign is the same in both languages (Babel's English ``CN¥`` is for readers abroad; ours
read prices of a Chinese office), and ``¥`` is in the GSM-7 alphabet, so English SMS stay cheap.
In core so that notices written by core (an outbid price) show money as the dialogs do.

Written out here rather than by Babel's ``format_currency`` (pattern ``¤#,##0``, or
``¤#,##0.00`` with fen, locale ``zh_Hans_CN``), which gives the same text to the character
(``tests/unit/test_order_rules.py`` compares them) at a fraction of the cost: a bid's answer
shows two amounts, and Babel's formatting was about a tenth of what a bid turn cost.
"""

from __future__ import annotations


def format_yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    if cents:
        return f"{sign}¥{yuan:,}.{cents:02d}"
    return f"{sign}¥{yuan:,}"
