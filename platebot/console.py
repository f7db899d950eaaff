"""The console channel: the same dialogs in a terminal, rendered as SMS shows them."""

from __future__ import annotations

import sys
from typing import TextIO

from rich.console import Console

from core.accounts import Language
from core.clock import Clock
from core.outbox import Channel
from dialogs.render import render_plain
from dialogs.replies import Inbound
from platebot.bootstrap import build_app
from platebot.dispatcher import LogSender
from platebot.settings import Settings

CHANNEL = "console"


class ConsoleChat:
    def __init__(
        self,
        settings: Settings,
        *,
        phone: str | None,
        language: Language | None,
        out: TextIO,
        interactive: bool,
        clock: Clock | None = None,
    ) -> None:
        self.out = out
        self.interactive = interactive
        self.console = Console(file=out, highlight=False, soft_wrap=True)
        sender = LogSender(show=self._show_sms)
        self.app = build_app(settings, clock=clock, senders={Channel.SMS: sender})
        # A server on the same database keeps its lanes: the console sends SMS only while none
        # runs, and never asks for a lane.
        self.app.dispatcher.asks = False
        self.phone = phone
        self.user_key = phone or "local"
        self.language = language

    def _show_sms(self, recipient: str, text: str) -> None:
        self._print(f"[SMS to {recipient}] {text}", style="yellow")

    def _print(self, text: str, style: str | None = None) -> None:
        if self.interactive:
            self.console.print(text, style=style, markup=False)
        else:
            print(text, file=self.out)

    def say(self, text: str) -> None:
        """One turn: the reply, then any SMS it caused (a one-time code)."""
        reply = self.app.dialogs.handle(
            Inbound(channel=CHANNEL, user_key=self.user_key, text=text, sender_phone=self.phone)
        )
        self._print(render_plain(reply), style="cyan")
        for name, job in self.app.jobs:  # as the server would: send the SMS, run timers
            # Telegram's lane is left to a server: the console has no Telegram sender.
            if name == "outbox:sms" or name.startswith("timers"):  # every timer lane too
                job()
        if not self.interactive:
            print(file=self.out)

    def run(self, lines: TextIO) -> None:
        if self.language is not None:
            self.say("EN" if self.language is Language.EN else "中文")
        elif self.interactive:
            self.say("")
        if self.interactive:
            while True:
                try:
                    text = self.console.input("[bold]> [/bold]")
                except (EOFError, KeyboardInterrupt):
                    self._print("")
                    return
                self.say(text)
        else:
            for line in lines:
                self.say(line.rstrip("\r\n"))


def run_console(settings: Settings, *, phone: str | None, language: Language | None) -> None:
    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    chat = ConsoleChat(
        settings, phone=phone, language=language, out=sys.stdout, interactive=interactive
    )
    chat.run(sys.stdin)
