"""``POST /telegram/webhook``: Telegram's updates into the bot (mounted when Telegram is on)."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request, Response

from bot.channel import WEBHOOK_PATH, TelegramChannel

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - the header's name


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
            handled = await channel.feed(await request.json())
        except ValueError:
            return Response(status_code=400)
        return Response(status_code=200 if handled else 500)
