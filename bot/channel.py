"""The bot inside the server (SPEC §1, §12): a python-telegram-bot ``Application`` built without
an updater of its own and fed by ``POST /telegram/webhook`` (see ``bot.webhook``); or, for
development without a public URL, polling Telegram for updates
(``platebot serve --telegram-polling``).

On start it registers the webhook at ``PLATEBOT_PUBLIC_URL`` with the secret token, and the
command menu in each language.
"""

from __future__ import annotations

import hmac
import logging
import re
from typing import Any

from telegram import Update
from telegram.error import BadRequest, InvalidToken
from telegram.ext import Application

from bot.handlers import Context, Handlers
from bot.render import commands
from bot.staff import StaffCommands
from core.accounts import Language
from core.clock import Clock
from dialogs.engine import Engine
from platebot.settings import Settings, SettingsError
from platebot.staff_broadcasts import StaffBroadcasts
from platebot.threads import ThreadLane
from store.telegram_tables import TelegramChats

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
ALLOWED_UPDATES = ["message", "callback_query"]
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")  # what Telegram accepts as a secret token


class TelegramChannel:
    """The Application, its handlers, and what the server does with it at start and stop."""

    def __init__(
        self,
        settings: Settings,
        *,
        dialogs: Engine,
        chats: TelegramChats,
        clock: Clock,
        turns: ThreadLane,
        polling: bool = False,
        staff: StaffBroadcasts | None = None,
    ) -> None:
        self.polling = polling
        secret = settings.telegram_secret
        self.secret = secret.get_secret_value() if secret is not None else None
        if not polling and (self.secret is None or not _SECRET.fullmatch(self.secret)):
            raise SettingsError(
                "PLATEBOT_TELEGRAM_SECRET must be set for the Telegram webhook: 1 to 256 letters, "
                "digits, '_' or '-' (or run with --telegram-polling)"
            )
        self.webhook_url = str(settings.public_url).rstrip("/") + WEBHOOK_PATH
        self.default_language = settings.default_language
        builder = Application.builder().token(token_of(settings))
        base = api_base(settings)
        if base is not None:
            builder = builder.base_url(f"{base}/bot").base_file_url(f"{base}/file/bot")
        if not polling:
            builder = builder.updater(None)
        self.application = builder.build()
        self.handlers = Handlers(dialogs, chats, clock, turns=turns)
        self.application.add_handlers(self.handlers.all())
        if staff is not None:  # staff commands first, in a group of their own (SPEC §10)
            commands = StaffCommands(staff, settings.telegram_staff_ids, turns=turns)
            self.application.add_handlers(commands.all(), group=-1)
        self.application.add_error_handler(self._on_error)
        self._handled: dict[int, bool] = {}

    def secret_matches(self, given: str | None) -> bool:
        """The ``X-Telegram-Bot-Api-Secret-Token`` header is the configured secret."""
        if self.secret is None or given is None:
            return False
        return hmac.compare_digest(given.encode(), self.secret.encode())

    async def feed(self, data: Any) -> bool:
        """Handle one update posted to the webhook. False when handling it failed: the webhook
        then answers with an error, so that Telegram delivers the update again.

        Raises ``ValueError`` for a body that is not an update.
        """
        update_id = data.get("update_id") if isinstance(data, dict) else None
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            raise ValueError("not a Telegram update")
        try:
            update = Update.de_json(data, self.application.bot)
        except Exception as error:  # a field missing, of the wrong type, a date out of range
            raise ValueError("not a Telegram update") from error
        key = id(update)
        self._handled[key] = True
        try:
            await self.application.process_update(update)
        finally:
            handled = self._handled.pop(key)
        return handled

    async def _on_error(self, update: object, context: Context) -> None:
        """A callback failed: logged, and the webhook told so (see ``feed``)."""
        if id(update) in self._handled:
            self._handled[id(update)] = False
        update_id = update.update_id if isinstance(update, Update) else None
        log.error("Telegram update %s failed", update_id, exc_info=context.error)

    async def start(self) -> None:
        """Connect, publish the command menu, and register the webhook (or start polling). A
        start that fails closes what it opened (the Bot API connections) before it raises: the
        server does not start, and nothing stays open for the process's lifetime."""
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        application = self.application
        try:
            await application.initialize()
        except InvalidToken:  # PTB's message shows the token: say which setting instead
            raise SettingsError("PLATEBOT_TELEGRAM_TOKEN was refused by the Bot API") from None
        bot = application.bot
        await bot.set_my_commands(commands(self.default_language))
        for language in Language:
            await bot.set_my_commands(commands(language), language_code=language.value)
        if self.polling and application.updater is not None:
            await bot.delete_webhook()
            await application.updater.start_polling(allowed_updates=ALLOWED_UPDATES)
            await application.start()
            log.info("Telegram: polling for updates")
        else:
            try:
                await bot.set_webhook(
                    url=self.webhook_url, secret_token=self.secret, allowed_updates=ALLOWED_UPDATES
                )
            except BadRequest as error:
                raise SettingsError(
                    f"Telegram refused the webhook {self.webhook_url} ({error}): "
                    "PLATEBOT_PUBLIC_URL must be this server's public HTTPS address "
                    "(or run with --telegram-polling)"
                ) from None
            log.info("Telegram webhook registered at %s", self.webhook_url)

    async def stop(self) -> None:
        application = self.application
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()
        # a start that failed half-way (the token refused by getMe) left the Application
        # uninitialised, so its shutdown does nothing: the Bot's connections are closed here
        await application.bot.shutdown()


def token_of(settings: Settings) -> str:
    if settings.telegram_token is None:
        raise ValueError("PLATEBOT_TELEGRAM_TOKEN is not set")
    return settings.telegram_token.get_secret_value()


def api_base(settings: Settings) -> str | None:
    """The Bot API server to use instead of Telegram's (a local one, or a test stand-in)."""
    if settings.telegram_api_base is None:
        return None
    return str(settings.telegram_api_base).rstrip("/")
