"""``POST /telegram/webhook``: Telegram's updates into the bot (mounted when Telegram is on).

What the update holds is cleaned here, before anything reads it: a lone surrogate (``"\\ud800"``
is valid JSON, yet no encoding can write it) becomes U+FFFD, so that nothing typed can make a
reply or a stored value impossible to write. A body is not an update (400) when it has an integer
beyond 64 bits (no Telegram id is), when a field the bot reads is missing or of another type
than the Bot API gives it (python-telegram-bot trusts Telegram and would fail on it later, with
a 500 that makes Telegram deliver it again and again), or when python-telegram-bot cannot read
it.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from fastapi import FastAPI, Request, Response

from bot.channel import WEBHOOK_PATH, TelegramChannel

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - the header's name
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_INT64 = range(-(2**63), 2**63)

# The fields the bot reads, as the Bot API gives them (a name ending in "?" may be missing).
_Shape = type | dict[str, "_Shape"]
_USER: dict[str, _Shape] = {"id": int, "is_bot": bool, "first_name": str}
_MESSAGE: dict[str, _Shape] = {
    "message_id": int,
    "date": int,
    "chat": {"id": int, "type": str},
    "from?": _USER,
    "text?": str,
    "contact?": {"phone_number": str, "first_name": str, "user_id?": int},
}
_UPDATE: dict[str, _Shape] = {
    "update_id": int,
    "message?": _MESSAGE,
    "callback_query?": {
        "id": str,
        "from": _USER,
        "chat_instance": str,
        "data?": str,
        "message?": _MESSAGE,
    },
}


def mount(api: FastAPI, channel: TelegramChannel | None) -> None:
    """Add the Telegram webhook to ``api`` when the bot is on (``channel``)."""
    if channel is None:
        return

    @api.post(WEBHOOK_PATH, tags=["telegram"], include_in_schema=False)
    async def telegram_webhook(request: Request) -> Response:
        """One update: refused without the right secret token (nothing is read or stored);
        answered with an error when handling failed, so that Telegram delivers it again."""
        if not channel.secret_matches(request.headers.get(SECRET_HEADER)):
            log.warning("Telegram webhook call without the right secret token refused")
            return Response(status_code=403)
        try:
            update = cleaned(json.loads(await request.body()))
            if not conforms(update, _UPDATE):
                raise ValueError("not a Telegram update")
            handled = await channel.feed(update)
        except (ValueError, RecursionError):
            return Response(status_code=400)
        return Response(status_code=200 if handled else 500)


def cleaned(value: Any) -> Any:
    """``value`` (parsed JSON) with every lone surrogate replaced by U+FFFD; ``ValueError`` for
    an integer beyond 64 bits."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {cleaned(key): cleaned(item) for key, item in value.items()}
    if isinstance(value, list):
        return [cleaned(item) for item in value]
    if isinstance(value, int) and not isinstance(value, bool) and value not in _INT64:
        raise ValueError("an integer beyond 64 bits")
    return value


def conforms(value: Any, shape: _Shape) -> bool:
    """``value`` has the fields of ``shape``, of its types (``bool`` is no ``int`` here)."""
    if isinstance(shape, type):
        return isinstance(value, shape) and (shape is bool or not isinstance(value, bool))
    if not isinstance(value, dict):
        return False
    for name, inner in shape.items():
        key = name.rstrip("?")
        if key in value:
            if not conforms(value[key], inner):
                return False
        elif not name.endswith("?"):
            return False
    return True
