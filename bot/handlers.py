"""The bot's callbacks: each turns one Telegram update into an ``Inbound``, runs the dialog turn
(in a thread: the engine is synchronous and talks to the database) and shows the reply.

A reply to a pressed button replaces the message the button was on, so a menu changes in place,
but only while that message is the newest in the chat, and never when it is one to keep (the
summary the user confirmed, the notice they agreed to: ``Reply.keep``): then the reply is a new
message below it. Anything typed gets a new message. A press on an old message changes nothing:
a short toast says the menu is out of date, and the message with the current step gets buttons
that work (the press made the old ones stale too) instead of a new message each time. A new
user is spoken to in their app's language (``language_code``) until they choose one. An update
Telegram delivers twice runs its turn once (the engine's key on ``u<update_id>``) and is
answered once (``telegram_updates``).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TypeVar

from telegram import CallbackQuery, Message, Update, User
from telegram.error import BadRequest, Forbidden, RetryAfter
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.render import CHANNEL as WORDING
from bot.render import COMMANDS, TelegramMessage, kept, read_callback, render
from bot.sender import retry_after
from core.accounts import Language
from core.clock import Clock
from core.errors import InvalidPhone
from core.phone import normalise_phone
from dialogs.catalog import render_text
from dialogs.engine import Engine
from dialogs.replies import Inbound, Reply, Text
from platebot.threads import ThreadLane
from store.telegram_tables import TelegramChats

log = logging.getLogger(__name__)

CHANNEL = "telegram"
STALE = "menu.stale"  # the engine's note for a press on an out-of-date menu
TOAST = "telegram.stale"  # what the toast of such a press says
REPLY_WAIT_LIMIT = 10.0  # seconds a reply waits out a 429; longer: Telegram delivers again later

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")

T = TypeVar("T")
Context = ContextTypes.DEFAULT_TYPE
Pause = Callable[[float], Awaitable[None]]


class Handlers:
    def __init__(
        self,
        dialogs: Engine,
        chats: TelegramChats,
        clock: Clock,
        pause: Pause = asyncio.sleep,
        *,
        turns: ThreadLane,
    ) -> None:
        self.dialogs = dialogs
        self.chats = chats
        self.clock = clock
        self.pause = pause
        # Database work runs in the app's turn threads (one for SQLite: turns queue in order),
        # never on the event loop.
        self.blocking = turns.run

    def all(self) -> list[BaseHandler[Update, Context, None]]:
        """Private chats only; the first handler that matches an update takes it."""
        private = filters.ChatType.PRIVATE
        return [
            CommandHandler(COMMANDS, self.on_command, filters=private),
            MessageHandler(private & filters.CONTACT, self.on_contact),
            MessageHandler(private & filters.TEXT, self.on_text),
            MessageHandler(private & filters.UpdateType.MESSAGE, self.on_other),
            CallbackQueryHandler(self.on_button),
        ]

    async def on_command(self, update: Update, context: Context) -> None:
        """/start, /menu, /cancel, /help, /lang: the keyword of the same name."""
        message = _message(update)
        command = (message.text or "").split(maxsplit=1)[0].partition("@")[0]
        await self._turn(update, context, text=command)

    async def on_text(self, update: Update, context: Context) -> None:
        """Typed text: an answer, a choice's number or words, or a keyword."""
        await self._turn(update, context, text=_message(update).text or "")

    async def on_contact(self, update: Update, context: Context) -> None:
        """A shared contact: the sender's own number goes to the dialog, anyone else's is
        refused (SPEC §2: ``contact.user_id == from_user.id``)."""
        message = _message(update)
        contact, sender = message.contact, message.from_user
        if contact is None or sender is None or contact.user_id != sender.id:
            await self._turn(update, context, note="telegram.contact_not_own")
            return
        try:  # Telegram gives the number in international form, with or without the '+'
            phone = normalise_phone("+" + contact.phone_number.lstrip("+"))
        except InvalidPhone:
            await self._turn(update, context, note="error.phone.invalid")
            return
        await self._turn(update, context, contact_phone=phone)

    async def on_other(self, update: Update, context: Context) -> None:
        """A photo, sticker, voice message…: the current step again, and what can be read."""
        await self._turn(update, context, note="telegram.text_only")

    async def on_button(self, update: Update, context: Context) -> None:
        """A pressed inline button: its choice, with the prompt token it was made with."""
        query = update.callback_query
        if query is None or query.message is None:  # not from a chat with the bot
            return
        token, choice = read_callback(query.data or "")
        await self._turn(update, context, choice=choice, prompt_token=token)

    # -- one turn ----------------------------------------------------------------------------

    async def _turn(
        self,
        update: Update,
        context: Context,
        *,
        text: str = "",
        choice: str | None = None,
        prompt_token: str | None = None,
        contact_phone: str | None = None,
        note: str | None = None,
    ) -> None:
        chat, user = update.effective_chat, update.effective_user
        if chat is None:
            return
        chat_id = str(chat.id)
        inbound = Inbound(
            channel=CHANNEL,
            user_key=chat_id,
            text=text,
            message_id=f"u{update.update_id}",
            choice=choice,
            prompt_token=prompt_token,
            contact_phone=contact_phone,
            language=_language_of(user),
        )
        reply = await self.blocking(self.dialogs.handle, inbound)
        typed = update.message
        first = await self.blocking(
            functools.partial(
                self.chats.answer_once,
                update_id=update.update_id,
                chat_id=chat_id,
                user_id=user.id if user else None,
                now=self.clock.now(),
                message_id=typed.message_id if typed is not None else None,
            )
        )
        if not first:
            log.info("Telegram update %s delivered again: already answered", update.update_id)
            return
        if note is not None:
            reply = replace(reply, lines=(Text(note), *reply.lines))
        try:
            await self._show(update, context, chat_id, reply)
        except Forbidden as error:
            await self.blocking(self.chats.mark_unreachable, chat_id, self.clock.now(), str(error))
        except Exception:
            await self.blocking(
                functools.partial(self.chats.unanswer, update_id=update.update_id, chat_id=chat_id)
            )
            raise

    async def _show(self, update: Update, context: Context, chat_id: str, reply: Reply) -> None:
        """Edit the pressed message in place where that reads well; else send a new one."""
        query = update.callback_query
        if query is None:
            await self._send(context, chat_id, reply)
            return
        stale = STALE in reply.keys
        await self._answer(query, reply.language if stale else None)
        if stale:
            await self._show_current(context, chat_id, reply)
            return
        message = _encodable(render(reply))
        pressed = query.message
        if pressed is not None and pressed.is_accessible and message.editable:
            screen = await self.blocking(self.chats.screen, chat_id)
            newest = screen.newest_message_id
            if (
                not kept(query.data or "")
                and (newest is None or pressed.message_id >= newest)
                and await self._edit(context, chat_id, pressed.message_id, message)
            ):
                await self._shown(chat_id, pressed.message_id)
                return
        await self._send(context, chat_id, reply)

    async def _answer(self, query: CallbackQuery, stale_in: Language | None) -> None:
        """Stop the button's spinner; for a press on an out-of-date menu, with a short toast."""
        toast = None if stale_in is None else render_text(Text(TOAST), stale_in, WORDING)
        try:
            await self._patiently(lambda: query.answer(text=toast))
        except BadRequest as error:  # a press answered too late: the reply still goes
            log.info("Telegram callback query not answered: %s", error)

    async def _show_current(self, context: Context, chat_id: str, reply: Reply) -> None:
        """After a press on an old menu: the message with the current step, shown again in
        place with buttons that work; a new message only when there is none to change."""
        current = replace(reply, lines=tuple(line for line in reply.lines if line.key != STALE))
        message = _encodable(render(current))
        prompt = (await self.blocking(self.chats.screen, chat_id)).prompt_message_id
        if (
            prompt is not None
            and message.editable
            and await self._edit(context, chat_id, prompt, message)
        ):
            return
        await self._send(context, chat_id, current)

    async def _send(self, context: Context, chat_id: str, reply: Reply) -> None:
        message = _encodable(render(reply))
        sent = await self._patiently(
            lambda: context.bot.send_message(
                chat_id=chat_id, text=message.text, reply_markup=message.markup()
            )
        )
        await self._shown(chat_id, sent.message_id)

    async def _shown(self, chat_id: str, message_id: int) -> None:
        await self.blocking(
            functools.partial(self.chats.shown, chat_id, message_id, self.clock.now(), prompt=True)
        )

    async def _edit(
        self, context: Context, chat_id: str, message_id: int, message: TelegramMessage
    ) -> bool:
        """False when the message cannot be edited (too old, deleted): send a new one."""
        try:
            await self._patiently(
                lambda: context.bot.edit_message_text(
                    text=message.text,
                    chat_id=chat_id,
                    message_id=message_id,
                    reply_markup=message.inline_keyboard(),
                )
            )
        except BadRequest as error:
            if "not modified" in str(error).lower():
                return True
            log.info("Telegram message %s not editable (%s): sending anew", message_id, error)
            return False
        return True

    async def _patiently(self, call: Callable[[], Awaitable[T]]) -> T:
        """A Bot API call; after a 429 it waits as asked (if not too long) and tries again."""
        try:
            return await call()
        except RetryAfter as error:
            wait = retry_after(error).total_seconds()
            if wait > REPLY_WAIT_LIMIT:
                raise
            await self.pause(wait)
            return await call()


def _encodable(message: TelegramMessage) -> TelegramMessage:
    """``message`` with U+FFFD for any lone surrogate (kept from a console, or from before the
    webhook cleaned what users type): no encoding can write one, and a reply that cannot be sent
    after its turn committed would fail again at every delivery of the update."""
    if not _LONE_SURROGATE.search(message.as_text()):
        return message
    buttons = tuple(
        replace(b, label=_replaced(b.label), words=_replaced(b.words)) for b in message.buttons
    )
    contact = None if message.contact is None else _replaced(message.contact)
    return replace(message, text=_replaced(message.text), buttons=buttons, contact=contact)


def _replaced(text: str) -> str:
    return _LONE_SURROGATE.sub("\ufffd", text)


def _language_of(user: User | None) -> Language | None:
    """The language of the user's Telegram app: Chinese for any ``zh``, else English."""
    code = user.language_code if user is not None else None
    if not code:
        return None
    return Language.ZH if code.lower().startswith("zh") else Language.EN


def _message(update: Update) -> Message:
    message = update.effective_message
    if message is None:  # pragma: no cover - the message handlers only match messages
        raise ValueError("update without a message")
    return message
