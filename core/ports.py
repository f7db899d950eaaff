"""What core needs from the outside world, as protocols. ``store/`` implements them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from core.accounts import Account, Language
from core.auction_ports import AuctionRepository
from core.events import Event
from core.order_ports import OrderRepository, PaymentCallbackRepository
from core.otp import OneTimeCode, Sent
from core.outbox import Channel, Due, OutboxMessage, OutboxStatus
from core.plate_ports import (
    BlacklistRepository,
    InfoRepository,
    OfficeRepository,
    PoolRepository,
    PreselectionRepository,
    RegistryRepository,
    SessionRepository,
)


class AccountRepository(Protocol):
    def add(self, account: Account) -> None:
        """Store a new account; it gets its id. Load it with ``get`` to change it later."""
        ...

    def get(self, account_id: int) -> Account | None: ...
    def view(self, account_id: int) -> Account | None:
        """The account as stored, to read: changes to it are not saved (``get`` for that)."""
        ...

    def set_language(self, account_id: int, language: Language) -> None: ...
    def by_phone(self, phone: str) -> Account | None: ...
    def id_by_phone(self, phone: str) -> int | None: ...


class CodeRepository(Protocol):
    def lock_phone(self, phone: str) -> None:
        """Hold off other transactions working on this number's codes until this one ends."""
        ...

    def add(self, code: OneTimeCode) -> None: ...
    def latest(self, phone: str, purpose: str, requester: str) -> OneTimeCode | None: ...
    def save(self, code: OneTimeCode) -> None:
        """Write back what checking ``code`` changed (wrong entries, used)."""
        ...

    def sent_since(self, phone: str, requester: str, since: datetime) -> list[Sent]:
        """Codes sent to ``phone`` or asked for by ``requester`` since ``since``."""
        ...

    def verified_since(self, phone: str, requester: str, since: datetime) -> bool:
        """Whether ``requester`` entered a right code for ``phone`` since ``since``."""
        ...


class OutboxRepository(Protocol):
    def add(self, message: OutboxMessage) -> None: ...
    def claim_due(self, now: datetime, limit: int) -> Sequence[Due]:
        """Due messages (pending, or claimed under a lease that ran out), locked until the
        transaction ends; other dispatchers skip them meanwhile."""
        ...

    def update(self, message: OutboxMessage, *, if_status: OutboxStatus, if_attempts: int) -> bool:
        """Write back what the message's methods changed, only if its row still has the status
        and the attempts it was read with; False if it has moved on (claimed again by another
        dispatcher after this one's lease ran out)."""
        ...

    def opted_out(self, channel: Channel, recipient: str) -> bool:
        """Whether the recipient asked for no more messages on the channel (SMS: STOP)."""
        ...

    def get(self, message_id: int) -> OutboxMessage | None: ...


class UnitOfWork(Protocol):
    """One transaction. ``with uow: ...; uow.commit()``; leaving without commit rolls back.
    A unit of work is committed (or rolled back) once; more work needs a new one."""

    @property
    def accounts(self) -> AccountRepository: ...
    @property
    def codes(self) -> CodeRepository: ...
    @property
    def outbox(self) -> OutboxRepository: ...
    # offices, pools, the vehicle registry, pre-selections, information (core.plate_ports)
    @property
    def offices(self) -> OfficeRepository: ...
    @property
    def pool(self) -> PoolRepository: ...
    @property
    def registry(self) -> RegistryRepository: ...
    @property
    def preselections(self) -> PreselectionRepository: ...
    @property
    def sessions(self) -> SessionRepository: ...
    @property
    def blacklist(self) -> BlacklistRepository: ...
    @property
    def info(self) -> InfoRepository: ...
    @property
    def auctions(self) -> AuctionRepository: ...
    # orders, their ledger and the payment callbacks taken (core.order_ports)
    @property
    def orders(self) -> OrderRepository: ...
    @property
    def payments(self) -> PaymentCallbackRepository: ...

    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    def record(self, event: Event) -> None:
        """Note that ``event`` happened; its handlers run in this transaction at ``commit``."""
        ...

    def commit(self) -> None:
        """Run the handlers of the recorded events, then make all of it permanent."""
        ...

    def rollback(self) -> None: ...
