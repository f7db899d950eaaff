"""How a reply looks on Telegram: its lines as the message text (in the catalogs' Telegram
wording, ``telegram/<key>``: buttons are pressed, nothing is "replied"), its choices as inline
keyboard buttons. A button's callback data carries the reply's prompt token, so a press on an
older message is recognised as stale by the engine, and whether the message is one to keep in
the chat (``Reply.keep``). A reply that asks for the contact gets a reply keyboard instead, with
the request-contact button (Telegram cannot put both on one message)."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from core.accounts import Language
from dialogs.catalog import render_text
from dialogs.replies import Choice, Reply, Text

CALLBACK_DATA_LIMIT = 64  # bytes: Telegram refuses longer callback data
TEXT_LIMIT = 4096  # characters of one message
COMMANDS = ("start", "menu", "cancel", "help", "lang")
CHANNEL = "telegram"
_KEEP = "k"  # after the prompt token in callback data: the pressed message stays as it is

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove


@dataclass(frozen=True)
class Button:
    label: str
    """As shown: the choice's number, then its words (the number can be typed, too)."""
    words: str
    """The choice's words alone (what a reply-keyboard button sends as text)."""
    data: str
    """Callback data: ``<prompt token>[k]|<choice id>`` (``k``: the message is to be kept)."""


@dataclass(frozen=True)
class TelegramMessage:
    text: str
    buttons: tuple[Button, ...] = ()
    contact: str | None = None
    """Label of the request-contact button, when the reply asks for the user's own contact."""
    links: tuple[tuple[str, str], ...] = ()
    """URL buttons (label, address), above the choices."""

    @property
    def editable(self) -> bool:
        """Can replace an earlier message in place (an edit takes only an inline keyboard)."""
        return self.contact is None

    def inline_keyboard(self) -> InlineKeyboardMarkup | None:
        if not self.buttons and not self.links:
            return None
        return InlineKeyboardMarkup(
            [[InlineKeyboardButton(label, url=url)] for label, url in self.links]
            + [[InlineKeyboardButton(b.label, callback_data=b.data)] for b in self.buttons]
        )

    def markup(self) -> Markup:
        """For a new message: the contact keyboard, the choices, or neither (which also takes
        away a contact keyboard shown before)."""
        if self.contact is not None:
            rows = [[KeyboardButton(self.contact, request_contact=True)]]
            rows += [[KeyboardButton(b.words)] for b in self.buttons]
            return ReplyKeyboardMarkup(rows, resize_keyboard=True, one_time_keyboard=True)
        return self.inline_keyboard() or ReplyKeyboardRemove()

    def as_text(self) -> str:
        """What the user sees, in words: the text, then each button in brackets."""
        shown = [self.text, *(f"[{label}: {url}]" for label, url in self.links)]
        shown += [f"[{b.label}]" for b in self.buttons]
        if self.contact is not None:
            shown.append(f"[{self.contact}]")
        return "\n".join(shown)


def render(reply: Reply) -> TelegramMessage:
    language = reply.language
    text = "\n".join(render_text(line, language, CHANNEL) for line in reply.lines)
    if len(text) > TEXT_LIMIT:
        text = text[: TEXT_LIMIT - 1] + "…"
    buttons = tuple(
        _button(number, choice, reply) for number, choice in enumerate(reply.choices, start=1)
    )
    share = Text("telegram.share_contact")
    contact = render_text(share, language, CHANNEL) if reply.ask_contact else None
    links = tuple((render_text(link.label, language, CHANNEL), link.url) for link in reply.links)
    return TelegramMessage(text=text, buttons=buttons, contact=contact, links=links)


def _button(number: int, choice: Choice, reply: Reply) -> Button:
    words = render_text(choice.label, reply.language, CHANNEL)
    data = callback_data(reply.prompt_token, choice.id, keep=reply.keep)
    return Button(f"{number} {words}", words, data)


def callback_data(token: str | None, choice_id: str, *, keep: bool = False) -> str:
    data = f"{token or ''}{_KEEP if keep else ''}|{choice_id}"
    if len(data.encode()) > CALLBACK_DATA_LIMIT:
        raise ValueError(f"choice id {choice_id!r} is too long for a Telegram button")
    return data


def read_callback(data: str) -> tuple[str | None, str]:
    """``(prompt token, choice id)`` of a pressed button. Data not made by ``callback_data``
    gets a token that matches no prompt, so the press is treated as stale."""
    token, separator, choice_id = data.partition("|")
    if not separator:
        return "?", data
    return token.removesuffix(_KEEP) or None, choice_id


def kept(data: str) -> bool:
    """Whether the message a button with this callback data is on is to stay as it is."""
    token, separator, _ = data.partition("|")
    return bool(separator) and token.endswith(_KEEP)


def commands(language: Language) -> list[BotCommand]:
    """The command menu in ``language``."""
    return [
        BotCommand(name, render_text(Text(f"telegram.command.{name}"), language))
        for name in COMMANDS
    ]
