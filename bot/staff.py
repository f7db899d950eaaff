"""Telegram staff commands (SPEC §10) for the Telegram user ids allow-listed in
``PLATEBOT_TELEGRAM_STAFF_IDS``; anyone else is told they are for office staff only.

- ``/broadcast``: compose (the audience and channels on the first line, the Chinese text, a line
  with ``---``, the English text), see the preview (recipients per channel, the SMS segments it
  costs), then press **Send now** or **Discard**;
- ``/broadcasts``: how far the recent broadcasts are;
- ``/stats``: today's registrations, pre-selections, sales and bids, the day in China time.

They run before the dialog's handlers (a group of their own) and end the update there. The
draft is kept in the database, so the confirmation works whichever server process takes it.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update, User
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    filters,
)

from core.accounts import Language
from core.broadcast_ports import Audience, AudienceKind, Channels
from core.errors import DomainError
from core.staff import Actor
from dialogs.catalog import render_text
from dialogs.replies import Text
from platebot.staff_broadcasts import StaffBroadcasts
from platebot.threads import ThreadLane

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE
COMMANDS = ["broadcast", "broadcasts", "stats"]
_BUTTON = re.compile(r"^broadcast:(send|discard):(\d{1,10})$")
_AUDIENCE = re.compile(
    r"^(everyone|unfinished-orders|region\s+(\d{4})|bidders\s+(\d{1,10}))"
    r"(?:\s+(telegram-else-sms|sms|telegram))?$"
)


class StaffCommands:
    def __init__(
        self, staff: StaffBroadcasts, allowed: frozenset[int], *, turns: ThreadLane
    ) -> None:
        self.staff = staff
        self.allowed = allowed
        self.blocking = turns.run

    def all(self) -> list[BaseHandler[Update, Context, None]]:
        private = filters.ChatType.PRIVATE
        return [
            CommandHandler(COMMANDS, self.on_command, filters=private),
            CallbackQueryHandler(self.on_button, pattern=_BUTTON),
        ]

    async def on_command(self, update: Update, context: Context) -> None:
        """/broadcast, /broadcasts, /stats: for allow-listed staff only."""
        message = update.effective_message
        user = update.effective_user
        if message is None or user is None:
            raise ApplicationHandlerStop
        language = _language(user)
        if user.id not in self.allowed:
            log.warning("staff command refused for Telegram user %s", user.id)
            await message.reply_text(_say("broadcast.staff_only", language))
            raise ApplicationHandlerStop
        command, _, rest = (message.text or "").partition("\n")
        name, _, first_line = command.partition(" ")
        name = name.lstrip("/").partition("@")[0]
        try:
            if name == "broadcasts":
                await message.reply_text(await self._recent(user, language))
            elif name == "stats":
                counts = await self.blocking(self.staff.today)
                await message.reply_text(_say("broadcast.stats", language, **counts))
            else:
                await self._compose(message, user, language, first_line.strip(), rest)
        except DomainError as error:
            await message.reply_text(_say(f"error.{error.code}", language, **error.params))
        raise ApplicationHandlerStop

    async def _compose(
        self, message: Message, user: User, language: Language, first_line: str, rest: str
    ) -> None:
        zh, separator, en = rest.partition("\n---")
        found = _AUDIENCE.match(first_line)
        if found is None or not separator or not zh.strip() or not en.strip():
            await message.reply_text(_say("broadcast.usage", language))
            return
        kind, region, period, channels = found.groups()
        audience = Audience(
            AudienceKind(kind.split()[0].replace("-", "_")),
            region_code=region,
            period_id=int(period) if period else None,
        )
        preview = await self.blocking(
            lambda: self.staff.acting(_actor(user)).compose(
                text_zh=zh.strip(),
                text_en=en.strip(),
                audience=audience,
                channels=Channels((channels or "telegram-else-sms").replace("-", "_")),
                created_by=f"telegram:{user.id}",
            )
        )
        buttons = [
            InlineKeyboardButton(
                _say("broadcast.send_now", language),
                callback_data=f"broadcast:send:{preview['id']}",
            ),
            InlineKeyboardButton(
                _say("broadcast.discard", language),
                callback_data=f"broadcast:discard:{preview['id']}",
            ),
        ]
        values = {k: preview[k] for k in _PREVIEW}
        words = preview["audience_of"]  # the audience in the reader's language, as the console
        values["audience"] = _say(
            f"staffweb.broadcasts.audience.{words['kind']}", language, **words
        )
        await message.reply_text(
            _say("broadcast.preview", language, segments=preview["sms_segments"], **values),
            reply_markup=InlineKeyboardMarkup([buttons]),
        )

    async def on_button(self, update: Update, context: Context) -> None:
        """Send now / Discard under a preview."""
        query = update.callback_query
        user = update.effective_user
        if query is None or user is None:
            raise ApplicationHandlerStop
        language = _language(user)
        if user.id not in self.allowed:
            await query.answer(_say("broadcast.staff_only", language), show_alert=True)
            raise ApplicationHandlerStop
        found = _BUTTON.match(query.data or "")
        if found is None:  # pragma: no cover - the handler's pattern matched it
            raise ApplicationHandlerStop
        action, broadcast_id = found.group(1), int(found.group(2))
        try:
            if action == "send":
                await self.blocking(self.staff.acting(_actor(user)).send, broadcast_id)
                text = _say("broadcast.started", language, id=broadcast_id)
            else:
                await self.blocking(self.staff.acting(_actor(user)).cancel, broadcast_id)
                text = _say("broadcast.discarded", language, id=broadcast_id)
        except DomainError as error:
            text = _say(f"error.{error.code}", language, **error.params)
        await query.answer()
        await query.edit_message_text(text)
        raise ApplicationHandlerStop

    async def _recent(self, user: User, language: Language) -> str:
        rows = await self.blocking(self.staff.acting(_actor(user)).recent)
        if not rows:
            return _say("broadcast.none", language)
        return "\n".join(
            _say("broadcast.line", language, **_translated_status(row)) for row in rows
        )


_PREVIEW = (
    "id",
    "audience",
    "recipients",
    "telegram",
    "sms",
    "opted_out",
    "blocked",
    "unreachable",
)


def _language(user: User) -> Language:
    return Language.EN if (user.language_code or "").startswith("en") else Language.ZH


def _translated_status(row: dict[str, Any]) -> dict[str, Any]:
    """A progress row with its status as a catalog key, said in the reader's language."""
    shown = {name: value for name, value in row.items() if name != "status"}
    return shown | {"status_key": f"staffweb.broadcasts.status.{row['status']}"}  # the console's


def _say(key: str, language: Language, **params: object) -> str:
    values = {k: v for k, v in params.items() if isinstance(v, str | int)}
    return render_text(Text(key, values), language)


def _actor(user: User) -> Actor:
    """An allow-listed Telegram user, for the audit: an admin (an id on the list names no staff
    member, hence no office), so every office's broadcasts are theirs to send and follow."""
    return Actor(name=f"telegram:{user.id}", source="telegram", address="telegram")
