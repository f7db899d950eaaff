"""Domain events: what a use case records as having happened (``PreselectionLapsed``;
next ``OrderPaid``, ``BidPlaced``, ``LotClosed``), and the handlers that do its consequences.

A use case records an event on its unit of work (``uow.record(event)``); when the unit of work
commits, the handlers registered for the event's type run first, in the same transaction, in the
order they were registered, and may record further events (handled in the same round). A handler
that raises aborts the commit: the use case and every consequence roll back together. So one
module reacts to another (a payment completes a purchase, a deposit or a reservation) without
either importing the other's internals: both know only the event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from core.ports import UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    """Something that happened, named in the past tense; its fields say what the handlers need."""


E = TypeVar("E", bound=Event)
Handler = Callable[["UnitOfWork", Any], None]
BatchHandler = Callable[["UnitOfWork", list[Any]], None]

# More rounds than any honest chain of consequences: a handler that records what it handles
# would otherwise loop for ever inside a transaction.
MAX_ROUNDS = 50


class EventLoop(RuntimeError):
    """Handlers kept recording events past ``MAX_ROUNDS``: a cycle among them."""


class EventBus:
    """Which handlers run for which event type. Built once (``core.subscriptions``) and shared by
    every unit of work of a process."""

    def __init__(self) -> None:
        self._handlers: dict[type[Event], list[Handler]] = {}
        self._batch: list[tuple[tuple[type[Event], ...], BatchHandler]] = []

    def subscribe(self, event_type: type[E], handler: Callable[[UnitOfWork, E], None]) -> None:
        self._handlers.setdefault(event_type, []).append(handler)

    def subscribe_batch(self, event_types: tuple[type[Event], ...], handler: BatchHandler) -> None:
        """``handler`` gets, once a round, every event of ``event_types`` recorded for it, in
        the order they were recorded (after the handlers of single events have run for them):
        consequences of many events written at once (a batch of bids' notes to the room)."""
        self._batch.append((event_types, handler))

    def handlers_for(self, event_type: type[Event]) -> list[Handler]:
        """The handlers of ``event_type`` and of the event types it derives from."""
        found: list[Handler] = []
        for kind in event_type.__mro__:
            found.extend(self._handlers.get(kind, ()))
        return found

    def run(self, uow: UnitOfWork, take: Callable[[], Iterable[Event]]) -> int:
        """Handle what ``take`` hands out until it hands out nothing; how many events ran."""
        handled = 0
        for _ in range(MAX_ROUNDS):
            events = list(take())
            if not events:
                return handled
            for event in events:
                for handler in self.handlers_for(type(event)):
                    handler(uow, event)
                handled += 1
            for event_types, batch_handler in self._batch:
                mine = [event for event in events if isinstance(event, event_types)]
                if mine:
                    batch_handler(uow, mine)
        raise EventLoop(f"events still recorded after {MAX_ROUNDS} rounds")
