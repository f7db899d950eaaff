"""Test helpers: a sender that keeps what it is given, and transcripts run through renderers."""

from __future__ import annotations

import itertools
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine as SqlEngine

from bot.render import read_callback
from bot.render import render as render_telegram
from core import outbox
from core.accounts import Language
from core.clock import OFFICE_TZ, Clock, ManualClock, SystemClock
from core.outbox import Channel, OutboxMessage, Outcome, Outgoing, Priority, Sent
from core.ports import Sender
from dialogs.render import render_plain
from dialogs.replies import Inbound, Reply
from platebot.bootstrap import App, build_app
from platebot.settings import Settings
from sms.render import render_pages
from sms.segments import segment_count
from sms.sender import sms_body


@dataclass
class CapturingSender:
    """Stands in for the SMS gateway: records every message."""

    sent: list[tuple[str, str]] = field(default_factory=list)

    def send(self, message: Outgoing) -> Outcome:
        self.sent.append((message.recipient, sms_body(message)))
        return Sent(provider_id=f"SM{len(self.sent):032d}")

    def last_code(self, phone: str) -> str:
        for recipient, text in reversed(self.sent):
            if recipient == phone and (match := re.search(r"\d{6}", text)):
                return match.group(0)
        raise AssertionError(f"no code was sent to {phone}: {self.sent}")


@dataclass(frozen=True)
class Renderer:
    """How one channel shows a reply, and how a user of it picks a choice."""

    name: str
    render: Callable[[Reply], str]
    pick: Callable[[Reply, str], tuple[str, str | None]]
    """(reply, choice id) -> (text typed, button pressed) that picks that choice."""
    pages: Callable[[Reply], list[str]] | None = None
    """SMS: the SMS a reply is sent as (the user reads them all, replying N between them); the
    transcript asserts each is within the segment budget."""


def pick_by_number(reply: Reply, choice_id: str) -> tuple[str, str | None]:
    """SMS and the console: the user replies with the choice's number."""
    return str([c.id for c in reply.choices].index(choice_id) + 1), None


class Transcript:
    """A conversation of one user through ``app``, as its channel renders it."""

    def __init__(
        self,
        app: App,
        *,
        renderer: Renderer | None = None,
        user_key: str = "u1",
        channel: str = "console",
        sender_phone: str | None = None,
    ) -> None:
        self.app = app
        self.renderer = renderer or PLAIN
        self.user_key = user_key
        self.channel = channel
        self.sender_phone = sender_phone
        self.reply: Reply | None = None
        self.text = ""
        self._ids = 0

    def _inbound(self, text: str = "", choice: str | None = None) -> Inbound:
        self._ids += 1
        return Inbound(
            channel=self.channel,
            user_key=self.user_key,
            text=text,
            choice=choice,
            message_id=f"{self.user_key}-{self._ids}",
            sender_phone=self.sender_phone,
        )

    def _run(self, inbound: Inbound) -> str:
        self.reply = self.app.dialogs.handle(inbound)
        self.app.dispatcher.run_once()
        self.text = self.renderer.render(self.reply)
        assert self.text.strip(), "every reply has text"
        if self.renderer.pages is not None:
            budget = self.app.settings.sms_segment_budget
            for page in self.renderer.pages(self.reply):
                used = segment_count(page)
                assert used <= budget, f"{used} SMS segments, budget {budget}:\n{page}"
        return self.text

    def say(self, text: str) -> str:
        """The user types ``text``; returns the rendered reply."""
        return self._run(self._inbound(text))

    def pick(self, choice_id: str) -> str:
        """The user picks the choice ``choice_id`` the way their channel does it."""
        assert self.reply is not None, "nothing to pick from yet"
        ids = [c.id for c in self.reply.choices]
        assert choice_id in ids, f"{choice_id!r} not offered; choices: {ids}\n{self.text}"
        text, pressed = self.renderer.pick(self.reply, choice_id)
        return self._run(self._inbound(text, pressed))

    def contact(self, phone: str) -> str:
        """The user shares their own contact (Telegram)."""
        inbound = self._inbound()
        return self._run(
            Inbound(
                channel=inbound.channel,
                user_key=inbound.user_key,
                message_id=inbound.message_id,
                contact_phone=phone,
            )
        )


PLAIN = Renderer("plain", render_plain, pick_by_number)
SMS_BUDGET: int = Settings.model_fields["sms_segment_budget"].default


def sms_pages(reply: Reply) -> list[str]:
    return render_pages(reply, SMS_BUDGET)


SMS = Renderer("sms", lambda reply: "\n".join(sms_pages(reply)), pick_by_number, sms_pages)


def press_button(reply: Reply, choice_id: str) -> tuple[str, str | None]:
    """Telegram: the user presses the choice's button; its callback data names the choice."""
    for button in render_telegram(reply).buttons:
        if read_callback(button.data)[1] == choice_id:
            return "", choice_id
    raise AssertionError(f"no button for {choice_id!r}")


TELEGRAM = Renderer("telegram", lambda reply: render_telegram(reply).as_text(), press_button)

# Channels register their renderers here (SMS, Telegram); transcripts run through each.
RENDERERS: list[Renderer] = [PLAIN, SMS, TELEGRAM]

# The staff API's bearer token in tests (the ``staff_app`` fixture configures it).
STAFF_TOKEN = "staff-token-for-tests"
STAFF_AUTH = {"Authorization": f"Bearer {STAFF_TOKEN}"}


def build_staff_app(db: SqlEngine, clock: Clock, sms: Sender) -> App:
    """The app as the ``app`` fixture builds it, with the staff API on."""
    settings = Settings(database_url=str(db.url), secret_key="test-secret", staff_token=STAFF_TOKEN)
    return build_app(settings, clock=clock, senders={Channel.SMS: sms}, db=db, upgrade=False)


_row_keys = itertools.count(1)


def outbox_row(
    *,
    phone: str,
    key: str,
    params: dict[str, Any],
    language: Language,
    now: datetime,
    sensitive: bool = False,
    channel: Channel = Channel.SMS,
    priority: int | None = None,
    dedupe_key: str | None = None,
) -> OutboxMessage:
    """An outbox row as a notice fans out into (a code, when ``sensitive``: first, wiped once
    sent), with a dedupe key of its own unless one is given."""
    return outbox.message(
        channel=channel,
        recipient=phone,
        key=key,
        params=params,
        language=language,
        now=now,
        dedupe_key=dedupe_key or f"test:{next(_row_keys)}",
        priority=priority
        if priority is not None
        else (Priority.CODE if sensitive else Priority.NOTICE),
        sensitive=sensitive,
    )


def moved_on(clock: ManualClock) -> Callable[[float], Awaitable[None]]:
    """A sender's sleep that moves the manual clock on instead of waiting."""

    async def sleep(seconds: float) -> None:
        clock.advance(timedelta(seconds=seconds))

    return sleep


def days_ahead(days: int, at: str) -> str:
    """``YYYY-MM-DD HH:MM`` in office time, ``days`` after today by the real clock: a time the
    CLI (which runs on the real clock) takes as future on any date the tests run."""
    day = (SystemClock().now().astimezone(OFFICE_TZ) + timedelta(days=days)).date()
    return f"{day.isoformat()} {at}"


def flat(text: str) -> str:
    """A rendered reply on one line (SMS pages and Telegram wrap it)."""
    return " ".join(text.split())


def choice_ids(chat: Transcript) -> list[str]:
    """The ids of the choices the chat's last reply offers."""
    assert chat.reply is not None
    return [c.id for c in chat.reply.choices]
