"""A conversation: where one user of one channel stands in which flow. Kept in the database.

The entity and its ports live in core so that both the dialog engine (which runs turns) and the
store (which keeps them) can use them without the store depending on the dialogs. The reply given
to an inbound message is kept as the JSON the dialogs make of it: the store only keeps it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from core.accounts import Language
from core.ports import UnitOfWork


@dataclass(eq=False)
class Conversation:
    channel: str
    user_key: str
    flow: str
    state: str
    language: Language
    updated_at: datetime
    expires_at: datetime
    data: dict[str, Any] = field(default_factory=dict)
    history: list[str] = field(default_factory=list)
    returns: list[str] = field(default_factory=list)
    choices: list[dict[str, Any]] = field(default_factory=list)
    account_id: int | None = None
    phone: str | None = None
    version: int = 0
    id: int | None = None


class ConversationRepository(Protocol):
    def lock(self, *, channel: str, user_key: str, new: Conversation) -> Conversation:
        """The conversation of (channel, user_key), locked until commit; ``new`` if none yet."""
        ...

    def lock_for_turn(
        self, *, channel: str, user_key: str, new: Conversation, message_id: str | None
    ) -> tuple[Conversation, dict[str, Any] | None]:
        """``lock``, and the reply (as JSON) already given to ``message_id`` if it was handled
        before."""
        ...

    def save(self, conversation: Conversation) -> None: ...

    def save_answered(
        self, conversation: Conversation, message_id: str, reply: dict[str, Any], now: datetime
    ) -> None:
        """``save``, and keep ``reply`` as the answer to the conversation's user's message
        ``message_id`` (``InboundLog.record``, ``AlreadyHandled`` included): the end of a turn,
        one statement where the database can."""
        ...


class AlreadyHandled(Exception):
    """Raised by ``InboundLog.record`` when another turn recorded that message id first (a
    second delivery that arrived while the first was being handled)."""


class InboundLog(Protocol):
    """Inbound message ids already handled, with the reply given: duplicates are dropped."""

    def record(
        self, channel: str, user_key: str, message_id: str, reply: dict[str, Any], now: datetime
    ) -> None:
        """Keep the reply under the sender (``user_key``) and message id; ``AlreadyHandled`` if
        it is there already."""
        ...


class DialogUnitOfWork(UnitOfWork, Protocol):
    @property
    def conversations(self) -> ConversationRepository: ...
    @property
    def inbound(self) -> InboundLog: ...
