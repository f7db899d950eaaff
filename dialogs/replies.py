"""What goes in and out of a dialog: channel-neutral data, never Telegram or Twilio objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.accounts import Language

Params = dict[str, str | int]


@dataclass(frozen=True, slots=True)
class Text:
    """A catalog key and the values that fill it."""

    key: str
    params: Params = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "params": dict(self.params)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Text:
        return cls(str(data["key"]), dict(data.get("params", {})))


@dataclass(frozen=True, slots=True)
class Choice:
    """One option the user can pick: ``id`` is what the flow receives, ``label`` what is shown."""

    id: str
    label: Text

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "label": self.label.to_json()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Choice:
        return cls(str(data["id"]), Text.from_json(data["label"]))


@dataclass(frozen=True, slots=True)
class Link:
    """A web address to open (a pay page): a URL button on Telegram, ``label: url`` in text."""

    label: Text
    url: str

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label.to_json(), "url": self.url}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Link:
        return cls(Text.from_json(data["label"]), str(data["url"]))


@dataclass(frozen=True, slots=True)
class Reply:
    """Exactly one reply per turn: lines of text, then the choices offered.

    ``ask_contact`` asks a channel that can (Telegram) for the user's own contact.
    ``practice`` marks every screen of a practice (simulation) journey. ``language`` is the
    user's language when the reply was made: the one to render it in. ``prompt_token`` names
    the prompt this reply shows (set by the engine): a channel with buttons puts it on them, so
    a button pressed on an older message is known to be stale. ``keep`` marks a screen the user
    must still be able to read after answering it (the summary they confirmed, the notice they
    agreed to, the result): a channel that can change a message in place shows the next screen
    as a new message instead. ``links`` are web addresses to open (a pay page), shown after the
    lines and before the question's choices.
    """

    lines: tuple[Text, ...]
    choices: tuple[Choice, ...] = ()
    ask_contact: bool = False
    practice: bool = False
    language: Language = Language.ZH
    prompt_token: str | None = field(default=None, compare=False)
    keep: bool = False
    links: tuple[Link, ...] = ()

    @property
    def keys(self) -> list[str]:
        return [line.key for line in self.lines]

    def to_json(self) -> dict[str, Any]:
        return {
            "lines": [line.to_json() for line in self.lines],
            "choices": [choice.to_json() for choice in self.choices],
            "ask_contact": self.ask_contact,
            "practice": self.practice,
            "language": self.language.value,
            "prompt_token": self.prompt_token,
            "keep": self.keep,
            "links": [link.to_json() for link in self.links],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reply:
        return cls(
            lines=tuple(Text.from_json(x) for x in data.get("lines", [])),
            choices=tuple(Choice.from_json(x) for x in data.get("choices", [])),
            ask_contact=bool(data.get("ask_contact", False)),
            practice=bool(data.get("practice", False)),
            language=Language(data.get("language", Language.ZH)),
            prompt_token=data.get("prompt_token"),
            keep=bool(data.get("keep", False)),
            links=tuple(Link.from_json(x) for x in data.get("links", [])),
        )


@dataclass(frozen=True, slots=True)
class Inbound:
    """One message from a user, as an adapter understood it.

    ``user_key`` identifies the user within the channel (an E.164 number for SMS, a chat id for
    Telegram). ``message_id`` (MessageSid, update_id) makes a second delivery a no-op.
    ``choice`` is a pressed button's choice id and ``prompt_token`` the token of the reply
    that button was on (None: not known; only the choice id is checked). ``sender_phone`` is
    the number the message comes from when the channel vouches for it (an SMS sender): that user
    is that phone's account. ``contact_phone`` is a contact the user shared as their own
    (Telegram); it still has to be confirmed with a one-time code. ``language`` is the language
    the user's app is set to, when the channel knows it (Telegram's ``language_code``): a new
    conversation starts in it.
    """

    channel: str
    user_key: str
    text: str = ""
    message_id: str | None = None
    choice: str | None = None
    prompt_token: str | None = None
    sender_phone: str | None = None
    contact_phone: str | None = None
    language: Language | None = None
