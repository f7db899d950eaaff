"""Test helpers: a sender that keeps what it is given, and transcripts run through renderers."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from dialogs.render import render_plain
from dialogs.replies import Inbound, Reply
from platebot.bootstrap import App
from platebot.dispatcher import Outcome, Sent


@dataclass
class CapturingSender:
    """Stands in for the SMS gateway: records every message."""

    sent: list[tuple[str, str]] = field(default_factory=list)

    def send(self, recipient: str, text: str) -> Outcome:
        self.sent.append((recipient, text))
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

# Channels register their renderers here (SMS, Telegram); transcripts run through each.
RENDERERS: list[Renderer] = [PLAIN]
