"""Outbox messages to Telegram chats (notices, broadcasts), within Telegram's limits.

The outbox dispatcher is synchronous and runs in a worker thread; python-telegram-bot's ``Bot``
is async. The sender keeps one ``Bot`` on an event loop of its own, in a daemon thread, and
hands each call to it: the Bot's connection pool lives as long as the sender, it works the same
whatever thread the dispatcher runs in (the server's worker thread, a test, the console), and
failures come back as PTB's typed errors (``RetryAfter``, ``Forbidden``) instead of JSON read by
hand.

Limits (SPEC §10):

- one message a second per chat, through ``telegram_chats.next_send_at`` in the database, so
  every server process paces a chat together; a chat that is not free yet has its message
  deferred (no attempt used) and other chats go on meanwhile;
- an edit of a live message at most every 3 s per chat (``telegram_chats.next_edit_at``: about
  20 edits a minute): a live update that waits for it is replaced by any later update of the
  same message meanwhile, so the edit that goes shows the latest state;
- about 30 messages a second overall (one dispatcher sends Telegram messages for all server
  processes, so this holds for the whole server): messages are given moments 1/30 s apart, the
  sender waiting for each itself with the injected ``sleep``. A send that comes late (its thread
  was slow, a request took long) does not lose its moment for good: the ones after it may go
  closer (never closer than half of 1/30 s) until the pace is made up, for lateness up to
  ``CATCH_UP`` (a gap shorter than that counts as lateness; a longer one, a quiet spell or a
  429 pause, starts the pace afresh, without a burst); and no one second is given more than 30
  moments. A request waits for the answer to the one before it, so one held up by a slow answer
  goes as soon as that answer is in;
- a 429 pauses this process's sending for its ``retry_after``: that message is deferred, the
  next ones wait the pause out (or are deferred too, when it is longer than a few seconds);
- a 403 (blocked by the user, account deleted) marks the chat unreachable in the database: that
  message fails, later ones are skipped without a call until the user writes again.

A message with choices shows them as buttons; a message that replaces an earlier one (a live
message: the outbox gives the earlier one's message id) edits it with ``editMessageText``, and
is sent anew when Telegram no longer lets it be edited. The message id of what was sent is
returned, for later edits.

A message is not sent twice on purpose: it is retried only when Telegram certainly did not take
it (no connection was made, or the Bot API answered with an error). When the request went out
and no answer came back (a read time-out, a dropped connection, the call given up after
``CALL_TIMEOUT``), Telegram may have delivered it: it is settled as failed, not resent. Telegram
cannot be asked what it delivered: a message whose dispatcher died while sending it is sent
again once (an edit repeats harmlessly; a new message may then arrive twice).
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import datetime, timedelta
from typing import Any, TypeVar

import httpx
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TelegramError,
)

from bot.render import callback_data
from core.clock import Clock
from core.outbox import Deferred, Outcome, Outgoing, RetryLater, Sent, Skipped, Undeliverable
from store.telegram_tables import Slot, TelegramChats

log = logging.getLogger(__name__)

T = TypeVar("T")

OVERALL_RATE = 30  # messages a second (Telegram's broadcast limit)
SECOND = timedelta(seconds=1)
CATCH_UP = timedelta(milliseconds=250)  # lateness the overall pace makes up (by going faster)
LONGEST_WAIT = timedelta(seconds=5)  # waited out in place; a longer pause defers the message
CALL_TIMEOUT = 60.0  # seconds: a Bot API call that takes longer is given up (and not resent)
MAYBE_DELIVERED = "no answer from Telegram; it may have been delivered, so it is not resent"
# httpx errors raised before a request leaves this process: the message certainly did not go.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


def bot_for(token: str, api_base: str | None = None) -> Bot:
    """A Bot for ``token``, talking to the Bot API server at ``api_base`` if given (a local
    one, or a test stand-in) instead of Telegram's."""
    if api_base is None:
        return Bot(token)
    return Bot(token, base_url=f"{api_base}/bot", base_file_url=f"{api_base}/file/bot")


class BotThread:
    """A Bot on an event loop in a thread of its own; synchronous callers run calls on it."""

    def __init__(self, bot: Bot, *, timeout: float = CALL_TIMEOUT) -> None:
        self.bot = bot
        self.timeout = timeout  # seconds a call may take before it is given up
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the loop and initialise the Bot (``getMe``) unless done already."""
        self._running_loop()

    def call(self, work: Callable[[Bot], Coroutine[Any, Any, T]]) -> T:
        """Run ``work(bot)`` on the Bot's loop and wait for it (started on first use)."""
        loop = self._running_loop()
        future = asyncio.run_coroutine_threadsafe(work(self.bot), loop)
        try:
            return future.result(timeout=self.timeout)
        except FutureTimeout:
            future.cancel()
            raise

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="telegram-sender", daemon=True
                )
                thread.start()
                try:
                    asyncio.run_coroutine_threadsafe(self.bot.initialize(), loop).result(
                        timeout=CALL_TIMEOUT
                    )
                except BaseException:
                    _stop(self.bot, loop, thread)
                    raise
                self._loop, self._thread = loop, thread
            return self._loop

    @property
    def running(self) -> bool:
        return self._loop is not None

    def close(self) -> None:
        """Close the Bot's connections and stop the loop (a later call starts it again)."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is not None and thread is not None:
            _stop(self.bot, loop, thread)


def _stop(bot: Bot, loop: asyncio.AbstractEventLoop, thread: threading.Thread) -> None:
    """Close the Bot's connections, then its loop and thread."""
    try:
        asyncio.run_coroutine_threadsafe(bot.shutdown(), loop).result(timeout=10)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


class TelegramSender:
    """The outbox's sender for ``Channel.TELEGRAM``: ``recipient`` is the chat id."""

    def __init__(
        self,
        bot: Bot,
        *,
        chats: TelegramChats,
        clock: Clock,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rate: int = OVERALL_RATE,
        call_timeout: float = CALL_TIMEOUT,
    ) -> None:
        self.bot = BotThread(bot, timeout=call_timeout)
        self.chats = chats
        self.clock = clock
        self.sleep = sleep
        self.rate = rate
        self.spacing = timedelta(microseconds=math.ceil(1_000_000 / rate))
        self.closest = timedelta(microseconds=math.ceil(500_000 / rate))  # half of 1/rate s
        self._lock = threading.Lock()
        self._due: datetime | None = None  # the pace's next moment (a late sender is past it)
        self._pace_from: datetime | None = None  # the first moment of the pace as it runs now
        self._moments: deque[datetime] = deque()  # given out in the last second or ahead, in order
        self._paused_until: datetime | None = None  # Telegram's flood control (a 429)
        self._turns = _Turns()

    def send(self, message: Outgoing) -> Outcome:
        recipient = message.recipient
        with self._lock:  # this process's next free moment, and its turn, taken in order
            now = self.clock.now()
            at = self._next_moment(now)
            if at - now > LONGEST_WAIT:  # a long flood-control pause: the dispatcher goes on
                return Deferred(at - now)
            self._moments.append(at)
            if self._due is None or at > self._due + CATCH_UP:
                self._due = self._pace_from = at  # nothing to make up: a quiet spell, a pause
            self._due += self.spacing
            turn = self._turns.take()
        try:
            # The chat's slot at that moment: a transaction of its own, outside the lock, so
            # that broadcast messages the dispatcher sends side by side take their chats' slots
            # side by side and no database round trip is paid between two sends.
            reservation = self.chats.reserve(recipient, at, edit=message.replaces is not None)
            if reservation.slot is not Slot.GO:
                self._give_back(at)
                if reservation.slot is Slot.UNREACHABLE:
                    return Skipped("chat unreachable: the bot was blocked or the user is gone")
                return Deferred((reservation.free_at or now) - now)
            return self._post(message, turn, at)
        finally:
            self._turns.over(turn)  # if its request did not end it already

    def _next_moment(self, now: datetime) -> datetime:
        """The earliest moment from ``now`` at which a message may go: after a flood-control
        pause; not before the pace's next moment (``_due``: 1/rate s after the last one's, or
        after the moment it should have had when that one came late, by up to ``CATCH_UP``, so
        that the ones after it make that up); not closer than ``closest`` to the one before; and
        a second after the one ``rate`` messages back (moments given back do not count)."""
        moments = self._moments
        while moments and moments[0] <= now - SECOND:  # no later moment's second holds it
            moments.popleft()
        at = max(now, self._paused_until or now)
        if self._due is not None:
            at = max(at, self._due)
        if moments:
            at = max(at, moments[-1] + self.closest)
            if len(moments) >= self.rate:
                at = max(at, moments[-self.rate] + SECOND)
        return at

    def _give_back(self, at: datetime) -> None:
        """The moment ``at`` goes unused: the pace steps back by one message (if the moment is
        of the pace as it runs now, not of one before a pause), and the moment no longer counts
        against its second."""
        with self._lock:
            if self._due is not None and self._pace_from is not None and at >= self._pace_from:
                self._due -= self.spacing
            for index in range(len(self._moments) - 1, -1, -1):
                if self._moments[index] == at:
                    del self._moments[index]
                    return

    def close(self) -> None:
        self.bot.close()

    async def aclose(self) -> None:
        """``close`` as a server stop hook."""
        await asyncio.to_thread(self.close)

    def _post(self, outgoing: Outgoing, turn: int, at: datetime) -> Outcome:
        recipient = outgoing.recipient
        try:  # getMe on first use: nothing is sent yet, so any failure may be retried
            self.bot.start()
        except InvalidToken:
            return _bad_token()
        except (TelegramError, FutureTimeout) as error:
            return RetryLater(f"Telegram unreachable: {type(error).__name__}: {error}")
        try:
            return self.bot.call(lambda bot: self._in_turn(bot, outgoing, turn, at))
        except RetryAfter as error:
            return Deferred(retry_after(error))
        except Forbidden as error:
            self.chats.mark_unreachable(recipient, self.clock.now(), str(error))
            log.info("Telegram chat %s unreachable: %s", recipient, error)
            return Undeliverable(f"chat unreachable: {error}")
        except (BadRequest, ChatMigrated) as error:  # chat not found, refused: sending again
            return Undeliverable(str(error))  # won't help
        except InvalidToken:
            return _bad_token()
        except (TelegramError, FutureTimeout) as error:  # network, server error, time-out
            if _not_sent(error):
                return RetryLater(f"{type(error).__name__}: {error}")
            log.warning("Telegram message to chat %s: %s (%r)", recipient, MAYBE_DELIVERED, error)
            return Undeliverable(f"{MAYBE_DELIVERED} ({type(error).__name__}: {error})")

    async def _in_turn(self, bot: Bot, outgoing: Outgoing, turn: int, at: datetime) -> Outcome:
        """On the Bot's loop: the requests go one at a time, in the order their moments were
        given out, each at its moment or, when the answer to the one before comes later, as soon
        as that answer is in, without a thread in between."""
        try:
            await self._turns.wait(turn)
            now = self.clock.now()
            paused_until = self._paused_until
            if paused_until is not None and paused_until > max(at, now):
                # A 429 came back after this moment was given: it goes unused.
                self._give_back(at)
                return Deferred(paused_until - now)
            if at > now:  # (a moment given after a 429 is past its pause)
                await self.sleep((at - now).total_seconds())
            try:
                return await self._send_or_edit(bot, outgoing)
            except RetryAfter as error:  # the requests after this one wait the pause out
                wait = retry_after(error)
                with self._lock:
                    self._paused_until = self.clock.now() + wait
                log.warning("Telegram flood control: sending paused for %s", wait)
                raise
        finally:
            self._turns.over(turn)

    async def _send_or_edit(self, bot: Bot, outgoing: Outgoing) -> Outcome:
        """A live message is edited in place, and sent anew when it cannot be edited any more
        (deleted, too old); any other is sent."""
        markup = _buttons(outgoing.choices)
        replaces = outgoing.replaces
        if replaces is not None:
            try:
                edited = await bot.edit_message_text(
                    chat_id=outgoing.recipient,
                    message_id=int(replaces),
                    text=outgoing.text,
                    reply_markup=markup,
                )
            except BadRequest as error:
                if "not modified" in str(error).lower():  # the same text again (a repeated edit)
                    return Sent(provider_id=replaces)
                log.info("Telegram message %s cannot be edited (%s): sent anew", replaces, error)
            else:
                message_id = edited.message_id if isinstance(edited, Message) else replaces
                return Sent(provider_id=str(message_id))
        message = await bot.send_message(
            chat_id=outgoing.recipient, text=outgoing.text, reply_markup=markup
        )
        return Sent(provider_id=str(message.message_id))


class _Turns:
    """The order in which the Bot API requests go: a turn is taken with the send's moment, and
    a request waits (on the Bot's loop) until every turn before its own is over, sent or not.
    A turn is over once, whoever says so first (its request, or the send that gave up)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._taken = 0
        self._next = 0  # the turn whose request goes next
        self._over: set[int] = set()  # turns over before the ones ahead of them
        self._waiting: dict[int, asyncio.Future[None]] = {}

    def take(self) -> int:
        with self._lock:
            self._taken += 1
            return self._taken - 1

    async def wait(self, turn: int) -> None:
        with self._lock:
            if self._next == turn:
                return
            ready = self._waiting[turn] = asyncio.get_running_loop().create_future()
        try:
            await ready
        finally:
            with self._lock:
                self._waiting.pop(turn, None)

    def over(self, turn: int) -> None:
        with self._lock:
            if turn < self._next or turn in self._over:
                return
            self._over.add(turn)
            while self._next in self._over:
                self._over.remove(self._next)
                self._next += 1
            ready = self._waiting.pop(self._next, None)
        if ready is not None:
            ready.get_loop().call_soon_threadsafe(_set, ready)


def _set(ready: asyncio.Future[None]) -> None:
    if not ready.done():
        ready.set_result(None)


def _buttons(choices: tuple[tuple[str, str], ...]) -> InlineKeyboardMarkup | None:
    """Choices as buttons, one a row; a press gives the dialogs the choice's id."""
    if not choices:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label, callback_data=callback_data(None, id_))]
            for id_, label in choices
        ]
    )


def _bad_token() -> Outcome:
    """InvalidToken's message holds the token: keep that out of the outbox and the logs."""
    log.error("the Bot API refused PLATEBOT_TELEGRAM_TOKEN")
    return RetryLater("InvalidToken: the Bot API refused the bot token")


def _not_sent(error: Exception) -> bool:
    """True when the Bot API certainly did not take the message: no connection was made, or
    the server answered with an error status (PTB raises those from the status, with no cause
    or with the failure to read the error's body). A time-out waiting for the answer, a
    connection dropped after the request went out, a success answer that could not be read, or
    the call given up on our side (``FutureTimeout``) may all come after Telegram sent it."""
    if isinstance(error, FutureTimeout):
        return False
    cause = error.__cause__
    if isinstance(cause, httpx.HTTPError):
        return isinstance(cause, _NOT_SENT)
    return cause is None or isinstance(cause, TelegramError)


def retry_after(error: RetryAfter) -> timedelta:
    """How long a 429 asks to wait."""
    value = error.retry_after  # a timedelta with PTB_TIMEDELTA (see bot/__init__.py)
    return value if isinstance(value, timedelta) else timedelta(seconds=value)
