"""A flow is one journey: an Enum of states, a ``transitions`` machine built once, a prompt per
state and a reading of free text per state. The engine runs one trigger per turn."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar, Protocol, runtime_checkable

from transitions import EventData, Machine

from core.accounts import Account, Language
from core.bid_desk import BidDesk
from core.clock import OFFICE_TZ, Clock
from core.conversation import Conversation, DialogUnitOfWork
from core.orders import DEFAULT_MINUTES
from core.otp import Requester
from core.payments import PaymentProvider
from dialogs.replies import Inbound, Reply, Text


@dataclass(frozen=True)
class Services:
    """What flows may use besides the unit of work: the injected clock, the code key, the payment
    provider (a pending order's pay link: ``payments.pay_url(order)``), how long an order
    placed in a dialog waits for payment, and the process's bid desk where the store has one
    (``core.bid_desk``: PostgreSQL; on SQLite a bid runs in the turn's own transaction)."""

    clock: Clock
    code_key: bytes
    idle_minutes: int = 20
    default_language: Language = Language.ZH
    payments: PaymentProvider | None = None
    order_minutes: int = DEFAULT_MINUTES
    bids: BidDesk | None = None  # bids decided with the others on their lot (PostgreSQL)


@dataclass(frozen=True, slots=True)
class Event:
    """What the user's input means in the current state: a trigger and its arguments."""

    trigger: str
    args: dict[str, Any] = field(default_factory=dict)


class Turn:
    """The model a flow's machine works on during one turn (``state`` is its machine state)."""

    state: enum.Enum

    def __init__(
        self, conversation: Conversation, uow: DialogUnitOfWork, services: Services, now: datetime
    ) -> None:
        self.conversation = conversation
        self.uow = uow
        self.services = services
        self.now = now
        self.notes: list[Text] = []
        self.switch_to: str | None = None
        self.sender_phone: str | None = None  # the number the channel vouches this turn is from
        self._account: Account | None = None

    @property
    def data(self) -> dict[str, Any]:
        return self.conversation.data

    @property
    def language(self) -> Language:
        return self.conversation.language

    @property
    def today(self) -> date:
        return self.now.astimezone(OFFICE_TZ).date()

    @property
    def registered(self) -> bool:
        """Whether this conversation acts for an account (without loading it)."""
        return self.conversation.account_id is not None

    @property
    def account(self) -> Account | None:
        """The account this conversation acts for, as stored, to read (``uow.accounts.get``
        loads one to change)."""
        if self._account is None and self.conversation.account_id is not None:
            self._account = self.uow.accounts.view(self.conversation.account_id)
        return self._account

    def requester(self, phone: str) -> Requester:
        """This chat, as the one asking for a code to ``phone``: vouched to be the number's
        owner when the channel says the message comes from it (SMS), the user shared it as
        their own contact (Telegram), or this chat signed in with it."""
        conversation = self.conversation
        vouched = phone in (self.sender_phone, self.data.get("contact_phone")) or (
            self.registered and conversation.phone == phone
        )
        return Requester(f"{conversation.channel}:{conversation.user_key}", vouched)

    def link(self, account: Account) -> None:
        """From now on this conversation acts for ``account`` (loaded afresh when needed)."""
        self._account = None
        self.conversation.account_id = account.id
        self.conversation.phone = account.phone
        if account.id is not None:  # notices to the account reach this chat too
            self.uow.contacts.link(
                channel=self.conversation.channel,
                address=self.conversation.user_key,
                account_id=account.id,
                now=self.now,
            )

    def set_language(self, language: Language) -> None:
        """Speak ``language`` in this chat and in notices to the account."""
        self.conversation.language = language
        account_id = self.conversation.account_id
        if account_id is not None:
            self.uow.accounts.set_language(account_id, language)
            if self._account is not None:
                self._account.language = language
        self.note("lang.switched")

    def toggle_language(self) -> None:
        self.set_language(Language.EN if self.language is Language.ZH else Language.ZH)

    def note(self, key: str, **params: str | int) -> None:
        """A line shown before the next prompt (a confirmation, an error)."""
        self.notes.append(Text(key, params))

    def go(self, target: str) -> None:
        """Leave this flow for ``target`` (``flow`` or ``flow:STATE``) after this turn."""
        self.switch_to = target

    def finish(self) -> None:
        """This flow is done: return where the user came from (or to the main menu)."""
        returns = self.conversation.returns
        self.switch_to = returns.pop() if returns else "menu"


def turn_of(event: EventData) -> Turn:
    """The turn a machine callback works on."""
    model = event.model
    if not isinstance(model, Turn):  # pragma: no cover - the engine only fires with a Turn
        raise TypeError(f"flow machines run on a Turn, not {type(model).__name__}")
    return model


class Flow(Protocol):
    name: ClassVar[str]
    requires_account: ClassVar[bool]
    checkpoints: ClassVar[frozenset[str]]
    """States that complete a step for good (a number taken, a code used): BACK never goes
    behind them, since what was there is gone (the batch, the code)."""
    machine: Machine

    def entry(self, turn: Turn) -> enum.Enum:
        """The state a user starts this flow in."""
        ...

    def state_of(self, name: str) -> enum.Enum:
        """The state called ``name`` (raises ``KeyError`` for an unknown one)."""
        ...

    def prompt(self, turn: Turn) -> Reply:
        """What the user sees in ``turn.state``: the question and its choices."""
        ...

    def read(self, turn: Turn, inbound: Inbound) -> Event | None:
        """What free text (or a shared contact) means in ``turn.state``; None: not understood.
        May raise a ``DomainError``, shown to the user with the prompt again."""
        ...

    def help(self, turn: Turn) -> Text:
        """Help for the current state."""
        ...

    def states(self) -> list[enum.Enum]: ...


@runtime_checkable
class Shortcuts(Protocol):
    """A flow whose commands work from anywhere (the auction room's ``B 2000`` typed at the main
    menu): ``shortcut`` says what typed text means, or None; the engine then enters the flow at
    ``shortcut_state`` and fires the event there."""

    name: ClassVar[str]
    shortcut_state: str

    def shortcut(self, turn: Turn, inbound: Inbound) -> Event | None: ...


@runtime_checkable
class Commands(Protocol):
    """A flow whose typed commands come before the words of the options shown: in the auction
    room a bare ``出价`` is the bid command, not a part of the option "自动出价".
    ``typed_command`` says what typed text means as a command in ``turn.state``, or None: then
    the options' words are matched, then ``read``."""

    def typed_command(self, turn: Turn, text: str) -> Event | None: ...


class BaseFlow:
    """Builds the machine once from ``State`` and ``transitions()``; most flows extend this."""

    name: ClassVar[str]
    requires_account: ClassVar[bool] = False
    checkpoints: ClassVar[frozenset[str]] = frozenset()
    State: ClassVar[type[enum.Enum]]
    help_key: ClassVar[str] = "help.general"

    def __init__(self) -> None:
        self.machine = Machine(
            model=None,
            states=self.State,
            initial=self.initial(),
            transitions=self.transitions(),
            send_event=True,
            auto_transitions=False,
            model_attribute="state",
        )

    def initial(self) -> enum.Enum:
        return next(iter(self.State))

    def transitions(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    def entry(self, turn: Turn) -> enum.Enum:
        return self.initial()

    def state_of(self, name: str) -> enum.Enum:
        return self.State[name]

    def states(self) -> list[enum.Enum]:
        return list(self.State)

    def read(self, turn: Turn, inbound: Inbound) -> Event | None:
        return None

    def help(self, turn: Turn) -> Text:
        return Text(self.help_key)

    def prompt(self, turn: Turn) -> Reply:
        raise NotImplementedError
